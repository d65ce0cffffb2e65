"""An automation rule: when (`trigger`), whether (`conditions`) and what (`actions`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.rules.actions import Action
from domain.rules.conditions import AllOf, Condition
from domain.rules.fields import CHANGE_OPERATORS

MAX_DEPTH = 6
MAX_LEAVES = 50
MAX_ACTIONS = 20


class Trigger(StrEnum):
    """When a rule is considered: on an event, or as time passes (`time`)."""

    CREATED = "created"
    UPDATED = "updated"
    COMMENT_ADDED = "comment_added"
    TIME = "time"


# Only these events carry a "before" to compare with.
_TRIGGERS_WITH_CHANGES = frozenset({Trigger.UPDATED, Trigger.COMMENT_ADDED})


def check_conditions(trigger: Trigger, conditions: Condition) -> None:
    """Refuse trees that are too big, or that name facts the trigger never has."""
    if conditions.depth() > MAX_DEPTH:
        raise ValueError(f"conditions may nest at most {MAX_DEPTH} levels deep")
    leaves = list(conditions.leaves())
    if len(leaves) > MAX_LEAVES:
        raise ValueError(f"conditions may hold at most {MAX_LEAVES} tests")
    for leaf in leaves:
        if leaf.spec.comment_only and trigger is not Trigger.COMMENT_ADDED:
            raise ValueError(f"{leaf.field} is only known to comment_added rules")
        if leaf.operator in CHANGE_OPERATORS and trigger not in _TRIGGERS_WITH_CHANGES:
            raise ValueError(
                f"{leaf.operator.value} needs a change to look at: use it in updated or "
                f"comment_added rules, not {trigger.value}"
            )


class Rule(BaseModel):
    """A validated rule; `position` orders rules of the same trigger (lowest first)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str | None = None
    enabled: bool = True
    position: int = 0
    trigger: Trigger
    conditions: Condition = Field(default_factory=lambda: AllOf(all=[]))
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)

    @model_validator(mode="after")
    def _conditions_fit_trigger(self) -> Rule:
        check_conditions(self.trigger, self.conditions)
        return self


__all__ = ["Rule", "Trigger", "check_conditions"]
