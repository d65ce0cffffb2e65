"""The options of `ticketflow bench`, shared by its own parser and the `ticketflow` CLI.

Kept apart from `ticketflow.bench` so that building the CLI parser imports nothing heavy.
"""

from __future__ import annotations

import argparse


def add_bench_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--quick",
        action="store_true",
        help="300 tickets, 50 breaches, 50 time-rule firings, a burst of 300 breaches",
    )
    parser.add_argument(
        "--concurrency", type=positive_int, default=16, help="requests in flight (16)"
    )
    parser.add_argument("--tickets", type=positive_int, help="tickets opened and parked (1000)")
    parser.add_argument("--breaches", type=positive_int, help="SLA breaches timed (200)")
    parser.add_argument("--rule-tickets", type=positive_int, help="time-rule firings timed (200)")
    parser.add_argument(
        "--burst", type=positive_int, help="SLA breaches due in the same minute, timed (1000)"
    )
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value
