"""Running the rules of an event (`created`, `updated`, `comment_added`) on one ticket.

Rules run in `position` order, each at most once per event, each on the facts as the
previous rules' actions left them (a rule that sets P1 is seen by the rule after it).
The actions rules take never raise another event: a priority set by a rule does not start
a new round of `updated` rules, so no set of rules can loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.rules.actions import Action
from domain.rules.evaluate import Evaluation, evaluate
from domain.rules.facts import TicketFacts, plain
from domain.rules.rule import Rule, Trigger


class Firing(BaseModel):
    """One rule's evaluation during a run; `actions` are what to carry out (none if no match)."""

    rule_id: UUID | None
    rule_name: str
    trigger: Trigger
    evaluation: Evaluation
    actions: list[Action] = Field(default_factory=list)
    changes: dict[str, list[Any]] = Field(
        default_factory=dict, description="facts the actions change: field → [before, after]"
    )

    @property
    def matched(self) -> bool:
        return self.evaluation.matched


def rules_for(rules: Iterable[Rule], trigger: Trigger) -> list[Rule]:
    """The enabled rules of `trigger`, by position (ties keep their given order)."""
    return sorted(
        (r for r in rules if r.enabled and r.trigger is trigger), key=lambda r: r.position
    )


def apply_actions(
    facts: TicketFacts, actions: Sequence[Action], now: datetime
) -> tuple[TicketFacts, dict[str, list[Any]]]:
    """The facts after `actions`, and what changed (field → [before, after]).

    A changed field's old value goes into `previous` (unless the event already put one
    there), so a later rule's `changed` sees rule-made changes as well as the event's.
    """
    changes: dict[str, list[Any]] = {}
    for action in actions:
        update = action.fact_changes(facts)
        if not update:
            continue
        previous = dict(facts.previous)
        for name, value in update.items():
            before = getattr(facts, name)
            previous.setdefault(name, plain(before))
            changes[name] = [changes.get(name, [plain(before)])[0], plain(value)]
        if "status" in update:
            update["status_since"] = now
        facts = facts.model_copy(update={**update, "previous": previous})
    return facts, {k: v for k, v in changes.items() if v[0] != v[1]}


def fire(rule: Rule, facts: TicketFacts, now: datetime) -> tuple[Firing, TicketFacts]:
    """Evaluate one rule; if it matches, also the facts its actions leave."""
    evaluation = evaluate(rule, facts, now)
    actions = list(rule.actions) if evaluation.matched else []
    facts, changes = apply_actions(facts, actions, now)
    firing = Firing(
        rule_id=rule.id,
        rule_name=rule.name,
        trigger=rule.trigger,
        evaluation=evaluation,
        actions=actions,
        changes=changes,
    )
    return firing, facts


def run_event_rules(
    rules: Iterable[Rule], trigger: Trigger, facts: TicketFacts, now: datetime
) -> list[Firing]:
    """Every enabled rule of `trigger`, in position order, each evaluated once on the facts as
    the rules before it changed them. Returns every evaluation, matched or not; carry out the
    `actions` of the matched ones in order and record each evaluation in the history."""
    if trigger is Trigger.TIME:
        raise ValueError("time rules run through due_time_rules, not as an event")
    firings = []
    for rule in rules_for(rules, trigger):
        firing, facts = fire(rule, facts, now)
        firings.append(firing)
    return firings


__all__ = ["Firing", "apply_actions", "fire", "rules_for", "run_event_rules"]
