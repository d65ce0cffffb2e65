"""Time rules: the exact instant a rule's conditions become true, and when to fire it.

If nothing else changes, every fact is constant except the time fields, which are straight
lines (see `facts.TIME_SPECS`). So each test's truth over time is one interval: from its
threshold instant on, or until it. A tree's truth is the intersection (`all`) or union
(`any`) of its children's intervals, and the first instant of that set is exact; intervals
are closed on the left (see `evaluate`), so that first instant is one at which
`evaluate` answers true.

A time rule fires on a *rising edge*: when its conditions are true at a check and were
not at the one before. Checks happen after events and on wake-ups (a durable timer at the
next instant any time rule turns true or false). A rule whose conditions stay true fires
once; it fires again only after they have been false (a reminder whose own action resets
its clock repeats, once per threshold). Within one check, later rules see the changes of
earlier ones (as in `run_event_rules`); after it, truth the actions produced is observed
without firing (`plan_time_rules`), so rules cannot keep setting each other off, and every
wake-up is strictly later than the last: time moves on between two firings of one rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from functools import reduce

from pydantic import BaseModel, Field

from domain.rules.conditions import AllOf, Condition, Leaf
from domain.rules.engine import Firing, fire, rules_for
from domain.rules.evaluate import explain, threshold
from domain.rules.facts import TicketFacts
from domain.rules.fields import Kind, Operator
from domain.rules.rule import Rule, Trigger

Span = tuple[datetime, datetime | None]  # [start, end); end None: for ever


def _ends_first(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a <= b)


def _intersect(left: list[Span], right: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = left[i][1] if _ends_first(left[i][1], right[j][1]) else right[j][1]
        if end is None or start < end:
            out.append((start, end))
        if _ends_first(left[i][1], right[j][1]):
            i += 1
        else:
            j += 1
    return out


def _union(left: list[Span], right: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(left + right, key=lambda span: span[0]):
        if out and (out[-1][1] is None or start <= out[-1][1]):
            last_start, last_end = out[-1]
            merged_end = None if last_end is None or end is None else max(last_end, end)
            out[-1] = (last_start, merged_end)
        else:
            out.append((start, end))
    return out


def _leaf_spans(leaf: Leaf, facts: TicketFacts, now: datetime) -> list[Span]:
    moves = leaf.spec.kind is Kind.TIME and leaf.operator is not Operator.IS_EMPTY
    if not moves:  # constant while nothing but time changes
        return [(now, None)] if explain(leaf, facts, now).result else []
    line = threshold(leaf, facts)
    if line.at is None:
        return []
    if line.rises:
        return [(max(line.at, now), None)]
    return [(now, line.at)] if line.at > now else []


def truth_spans(condition: Condition, facts: TicketFacts, now: datetime) -> list[Span]:
    """When, from `now` on, `condition` holds if only time passes: sorted, disjoint spans."""
    if isinstance(condition, Leaf):
        return _leaf_spans(condition, facts, now)
    children = [truth_spans(child, facts, now) for child in condition.children]
    if isinstance(condition, AllOf):
        return reduce(_intersect, children, [(now, None)])
    return reduce(_union, children, [])


def next_time_match(rule: Rule, facts: TicketFacts, now: datetime) -> datetime | None:
    """The earliest instant ≥ `now` at which `rule`'s conditions hold if nothing but time
    changes; `now` if they hold already, None if they never will."""
    spans = truth_spans(rule.conditions, facts, now)
    return spans[0][0] if spans else None


def next_change(rule: Rule, facts: TicketFacts, now: datetime) -> datetime | None:
    """The first instant after `now` at which `rule`'s conditions turn true or false."""
    spans = truth_spans(rule.conditions, facts, now)
    if not spans:
        return None
    start, end = spans[0]
    return start if start > now else end


def rule_key(rule: Rule) -> str:
    """How a time rule is remembered between checks (its id; its name before it is stored)."""
    return str(rule.id) if rule.id is not None else rule.name


class TimeCheck(BaseModel):
    """The time rules that fire now, and which were true at this check."""

    firings: list[Firing] = Field(default_factory=list)
    seen_true: list[str] = Field(default_factory=list)


class TimePlan(BaseModel):
    """When to check time rules next (always after `now`), and which hold now."""

    wake_at: datetime | None = None
    seen_true: list[str] = Field(default_factory=list)


def due_time_rules(
    rules: Iterable[Rule], facts: TicketFacts, now: datetime, seen_true: Collection[str]
) -> TimeCheck:
    """Fire the enabled time rules whose conditions hold now and did not at the last check
    (`seen_true`, from the last `TimePlan`), in position order on chained facts.

    Only rules that fire are returned (a check on every wake-up would flood the history
    with non-matches); carry out their actions, then call `plan_time_rules`.
    """
    firings: list[Firing] = []
    held: set[str] = set()
    for rule in rules_for(rules, Trigger.TIME):
        key = rule_key(rule)
        if key in seen_true:
            if explain(rule.conditions, facts, now).result:
                held.add(key)
            continue
        firing, facts = fire(rule, facts, now)
        if firing.matched:
            held.add(key)
            firings.append(firing)
    return TimeCheck(firings=firings, seen_true=sorted(held))


def plan_time_rules(rules: Iterable[Rule], facts: TicketFacts, now: datetime) -> TimePlan:
    """After a check (and its actions): the rules true now, which are thereby observed without
    firing, and the next instant any enabled time rule turns true or false.

    Waking on falling edges too keeps `seen_true` honest: a rule that is true, then false,
    then true again between two events is seen false in between, so it fires again."""
    seen_true: list[str] = []
    changes: list[datetime] = []
    for rule in rules_for(rules, Trigger.TIME):
        if explain(rule.conditions, facts, now).result:
            seen_true.append(rule_key(rule))
        if (change := next_change(rule, facts, now)) is not None:
            changes.append(change)
    return TimePlan(wake_at=min(changes, default=None), seen_true=sorted(seen_true))


__all__ = [
    "Span",
    "TimeCheck",
    "TimePlan",
    "due_time_rules",
    "next_change",
    "next_time_match",
    "plan_time_rules",
    "rule_key",
    "truth_spans",
]
