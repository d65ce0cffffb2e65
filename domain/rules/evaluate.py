"""Evaluating a rule's conditions on a ticket's facts, with the reasons spelled out.

Every test in the tree is evaluated (no short-circuit), so the explanation shows each leaf's
actual value, operator, expected value and result: it is what the dry run answers and what
the ticket's history records.

Text compares case-insensitively (`contains "password"` matches "Password"), as helpdesk
users expect. Time thresholds count the crossing instant as passed: `hours_since_activity
greater_than 24` is true from the very instant 24 h have gone by (≥ 24), and
`sla_minutes_remaining less_than 30` from the instant 30 minutes remain (≤ 30). That makes
the moment a time rule becomes true an instant that exists, so its timer can fire exactly
on it, and evaluation at that instant agrees with the timer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.rules.conditions import AllOf, Condition, Leaf
from domain.rules.facts import TIME_SPECS, TicketFacts
from domain.rules.fields import Kind, Operator
from domain.rules.rule import Rule

_O = Operator


class LeafOutcome(BaseModel):
    kind: Literal["leaf"] = "leaf"
    field: str
    operator: Operator
    expected: Any = None
    actual: Any = None
    previous: Any = Field(None, description="the value before the change (changed, changed_to)")
    threshold_at: datetime | None = Field(
        None, description="time fields: the instant the value reaches the expected one"
    )
    result: bool
    text: str


class GroupOutcome(BaseModel):
    kind: Literal["all", "any"]
    result: bool
    children: list[Outcome]


Outcome = Annotated[LeafOutcome | GroupOutcome, Field(discriminator="kind")]
GroupOutcome.model_rebuild()


class Evaluation(BaseModel):
    """Whether a rule matched at `at`, and why."""

    rule_id: UUID | None
    rule_name: str
    at: datetime
    matched: bool
    explanation: Outcome

    def lines(self) -> list[str]:
        """The explanation as indented lines, for a history entry or a log."""
        head = f"{self.rule_name}: {'matched' if self.matched else 'did not match'}"
        return [head, *_render(self.explanation, 1)]


def _render(outcome: LeafOutcome | GroupOutcome, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(outcome, LeafOutcome):
        return [pad + outcome.text]
    lines = [f"{pad}{outcome.kind} → {_word(outcome.result)}"]
    for child in outcome.children:
        lines += _render(child, depth + 1)
    return lines


def _word(result: bool) -> str:
    return "true" if result else "false"


# -- field tests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    actual: Any
    previous: Any
    had_previous: bool


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, list | tuple):
        return [_fold(v) for v in value]
    return value


def _equals(seen: Observed, expected: Any) -> bool:
    return bool(_fold(seen.actual) == _fold(expected))


def _contains(seen: Observed, expected: Any) -> bool:
    # A substring of text, or a member of a list (tags).
    return seen.actual is not None and _fold(expected) in _fold(seen.actual)


def _in(seen: Observed, expected: Any) -> bool:
    options, actual = _fold(expected), _fold(seen.actual)
    if isinstance(actual, list):  # tags: any of them
        return any(tag in options for tag in actual)
    return actual in options


def _changed(seen: Observed, expected: Any) -> bool:
    changed = seen.had_previous and _fold(seen.previous) != _fold(seen.actual)
    return changed is bool(expected)


def _changed_to(seen: Observed, expected: Any) -> bool:
    return _changed(seen, True) and _equals(seen, expected)


def _is_empty(seen: Observed, expected: Any) -> bool:
    value = seen.actual
    empty = value is None or value == [] or (isinstance(value, str) and not value.strip())
    return empty is bool(expected)


def _negated(test: Callable[[Observed, Any], bool]) -> Callable[[Observed, Any], bool]:
    return lambda seen, expected: not test(seen, expected)


FieldTest = Callable[[Observed, Any], bool]
TESTS: Mapping[Operator, FieldTest] = {
    _O.EQUALS: _equals,
    _O.NOT_EQUALS: _negated(_equals),
    _O.CONTAINS: _contains,
    _O.NOT_CONTAINS: _negated(_contains),
    _O.IN: _in,
    _O.NOT_IN: _negated(_in),
    _O.CHANGED: _changed,
    _O.CHANGED_TO: _changed_to,
    _O.IS_EMPTY: _is_empty,
}

# -- time tests --------------------------------------------------------------------------------

# (direction, operator) pairs that turn true as time passes; the others turn false.
_RISING = frozenset({(1, _O.GREATER_THAN), (-1, _O.LESS_THAN)})


@dataclass(frozen=True)
class Threshold:
    """A time comparison as an instant: true from `at` on (`rises`) or until `at`."""

    at: datetime | None  # None: the field has no value (no SLA running), never true
    rises: bool

    def holds(self, now: datetime) -> bool:
        if self.at is None:
            return False
        return (now >= self.at) is self.rises


def threshold(leaf: Leaf, facts: TicketFacts) -> Threshold:
    """The instant a `greater_than`/`less_than` test on a time field changes its answer."""
    spec = TIME_SPECS[leaf.field]
    return Threshold(spec.crossing(facts, leaf.value), (spec.direction, leaf.operator) in _RISING)


def _time_result(leaf: Leaf, facts: TicketFacts, now: datetime) -> tuple[bool, datetime | None]:
    if leaf.operator is _O.IS_EMPTY:
        empty = TIME_SPECS[leaf.field].anchor_of(facts) is None
        return empty is bool(leaf.value), None
    line = threshold(leaf, facts)
    return line.holds(now), line.at


# -- the tree ----------------------------------------------------------------------------------


def _leaf_text(leaf: Leaf, actual: Any, result: bool, at: datetime | None) -> str:
    switch = leaf.operator in (_O.CHANGED, _O.IS_EMPTY)
    expected = "" if switch and leaf.value else f" {leaf.value!r}"
    reaches = f", threshold at {at.isoformat()}" if at is not None else ""
    return f"{leaf.field} {leaf.operator.value}{expected}: is {actual!r}{reaches} → {_word(result)}"


def _leaf(leaf: Leaf, facts: TicketFacts, values: Mapping[str, Any], now: datetime) -> LeafOutcome:
    actual = values[leaf.field]
    at: datetime | None = None
    if leaf.spec.kind is Kind.TIME:
        result, at = _time_result(leaf, facts, now)
        actual = None if actual is None else round(actual, 4)
    else:
        had_previous = leaf.field in facts.previous
        seen = Observed(actual, facts.previous.get(leaf.field), had_previous)
        result = TESTS[leaf.operator](seen, leaf.value)
    previous = None
    if leaf.operator in (_O.CHANGED, _O.CHANGED_TO):
        previous = facts.previous.get(leaf.field)
    return LeafOutcome(
        field=leaf.field,
        operator=leaf.operator,
        expected=leaf.value,
        actual=actual,
        previous=previous,
        threshold_at=at,
        result=result,
        text=_leaf_text(leaf, actual, result, at),
    )


def _outcome(
    condition: Condition, facts: TicketFacts, values: Mapping[str, Any], now: datetime
) -> LeafOutcome | GroupOutcome:
    if isinstance(condition, Leaf):
        return _leaf(condition, facts, values, now)
    children = [_outcome(child, facts, values, now) for child in condition.children]
    combine = all if isinstance(condition, AllOf) else any
    result = combine(child.result for child in children)
    return GroupOutcome(kind=condition.mode, result=result, children=children)


def explain(condition: Condition, facts: TicketFacts, now: datetime) -> LeafOutcome | GroupOutcome:
    """The outcome tree of `condition` on `facts` at `now`."""
    return _outcome(condition, facts, facts.facts_at(now), now)


def evaluate(rule: Rule, facts: TicketFacts, now: datetime) -> Evaluation:
    """Whether `rule`'s conditions hold on `facts` at `now`, with the reason for each test.

    `enabled` and `trigger` are not looked at: choosing which rules to run is the caller's.
    """
    outcome = explain(rule.conditions, facts, now)
    return Evaluation(
        rule_id=rule.id, rule_name=rule.name, at=now, matched=outcome.result, explanation=outcome
    )


__all__ = [
    "Evaluation",
    "GroupOutcome",
    "LeafOutcome",
    "Outcome",
    "Threshold",
    "evaluate",
    "explain",
    "threshold",
]
