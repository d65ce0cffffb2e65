"""`ticketflow bench`: ticketflow's figures beside bare Temporal's, measured in one run.

It starts a throw-away stack (Temporal dev server, PostgreSQL, the API, the ticketflow worker
and a bare worker, each its own process), drives both sides with the same client concurrency,
prints the table of CONTRACT §9 and, last, a `BENCH {json}` line. See docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from ticketflow.bench_options import add_bench_arguments
from ticketflow.benchkit.phases import Plan, measure
from ticketflow.benchkit.report import Figures, Targets, bench_line, render_table
from ticketflow.benchkit.stack import running_stack
from ticketflow.devstack.errors import DevStackError
from ticketflow.settings import Settings, get_settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
# Per-request INFO lines from the HTTP client would swamp the output (and cost CPU).
_QUIET_LOGGERS = ("httpx", "httpcore", "alembic", "api.seed.demo")


def build_parser() -> argparse.ArgumentParser:
    return add_bench_arguments(
        argparse.ArgumentParser(
            prog="ticketflow bench", description="ticketflow beside bare Temporal, in one run"
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ticketflow.bench [options]`: run the benchmark, return the exit code."""
    return _run_to_exit_code(plan_from(build_parser().parse_args(argv)))


def plan_from(args: argparse.Namespace) -> Plan:
    """The plan the options ask for; sizes a parser does not offer take their defaults."""
    return Plan.of(
        quick=args.quick,
        concurrency=args.concurrency,
        tickets=args.tickets,
        breaches=args.breaches,
        rule_tickets=getattr(args, "rule_tickets", None),
        burst=getattr(args, "burst", None),
    )


def _run_to_exit_code(plan: Plan) -> int:
    try:
        return asyncio.run(run(plan))
    except KeyboardInterrupt:
        print("ticketflow bench: interrupted; everything it started is stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DevStackError as err:
        print(f"ticketflow bench: {err}", file=sys.stderr)
        return EXIT_FAILED


async def run(plan: Plan, settings: Settings | None = None) -> int:
    """Start the stack, measure, stop the stack, then print the table and the BENCH line."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    say = _Clock().say
    say(
        f"plan: {plan.tickets} tickets, {plan.breaches} breaches, "
        f"{plan.rule_tickets} time-rule firings, a burst of {plan.burst} breaches, "
        f"concurrency {plan.concurrency}{' (quick)' if plan.quick else ''}"
    )
    started = time.monotonic()
    with _sigterm_cancels():
        async with running_stack(settings or get_settings(), say) as stack:
            figures = await measure(stack, plan, say)
    figures = _with_elapsed(figures, time.monotonic() - started)
    print(render_table(figures), flush=True)
    met = Targets.of(figures)
    print(f"targets {'all met' if met.all_met else 'MISSED (see ✗ above)'}", flush=True)
    print(bench_line(figures), flush=True)
    return EXIT_OK


class _Clock:
    def __init__(self) -> None:
        self._started = time.monotonic()

    def say(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self._started:6.1f}s] {message}", flush=True)


@contextlib.contextmanager
def _sigterm_cancels() -> Iterator[None]:
    """SIGTERM cancels the run like Ctrl-C does, so the stack is still torn down."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:
        yield
        return
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _with_elapsed(figures: Figures, elapsed: float) -> Figures:
    return replace(figures, elapsed_s=elapsed)


if __name__ == "__main__":
    result = main(sys.argv[1:])
    sys.exit(result if isinstance(result, int) else EXIT_FAILED)
