"""The bench's time rule: the instant it times from is the one the rules engine fires at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.rules import Rule, TicketFacts, Trigger, due_time_rules, next_time_match
from ticketflow.benchkit.time_rules import RULE_CATEGORY, RULE_TAG, rule_body, true_from

OPENED = datetime(2025, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)


def bench_rule(delay_s: int) -> Rule:
    return Rule.model_validate(rule_body(delay_s))


@pytest.mark.parametrize("delay_s", [20, 23, 37, 120])
def test_rule_turns_true_exactly_when_the_bench_says_it_is_due(delay_s: int) -> None:
    rule = bench_rule(delay_s)
    facts = TicketFacts(category=RULE_CATEGORY, created_at=OPENED)
    due = true_from(OPENED, delay_s)
    assert due - OPENED == pytest.approx(timedelta(seconds=delay_s), abs=timedelta(microseconds=1))
    assert next_time_match(rule, facts, OPENED) == due
    assert due_time_rules([rule], facts, due - timedelta(microseconds=1), []).firings == []
    fired = due_time_rules([rule], facts, due, []).firings
    assert [firing.rule_name for firing in fired] == [rule.name]
    assert [action.describe() for action in fired[0].actions] == [f"add tag {RULE_TAG!r}"]


def test_rule_leaves_every_other_ticket_alone() -> None:
    rule = bench_rule(20)
    assert rule.trigger is Trigger.TIME
    facts = TicketFacts(category="bench", created_at=OPENED)
    assert next_time_match(rule, facts, OPENED) is None
