"""How much load a run puts on each side, from its command line."""

from __future__ import annotations

import argparse

from ticketflow.bench import build_parser, plan_from


def test_full_run_times_200_time_rules_and_a_burst_of_1000_breaches() -> None:
    plan = plan_from(build_parser().parse_args([]))
    assert (plan.tickets, plan.breaches, plan.rule_tickets, plan.burst) == (1000, 200, 200, 1000)


def test_quick_run_is_smaller_on_every_phase() -> None:
    plan = plan_from(build_parser().parse_args(["--quick"]))
    assert plan.quick
    assert (plan.tickets, plan.breaches, plan.rule_tickets, plan.burst) == (300, 50, 50, 300)


def test_sizes_given_on_the_command_line_win() -> None:
    args = build_parser().parse_args(["--quick", "--rule-tickets", "80", "--burst", "500"])
    plan = plan_from(args)
    assert (plan.rule_tickets, plan.burst) == (80, 500)


def test_options_a_parser_does_not_offer_take_their_defaults() -> None:
    # `ticketflow bench` (ticketflow.cli) has its own parser, with the first four options.
    args = argparse.Namespace(quick=False, concurrency=8, tickets=None, breaches=None)
    plan = plan_from(args)
    assert (plan.concurrency, plan.rule_tickets, plan.burst) == (8, 200, 1000)
