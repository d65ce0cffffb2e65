"""Automation rules: conditions and actions stored as the JSON the pure models dump.

Rows are validated through `domain.rules.Rule` on the way in (by the API) and again on the
way out (`to_rule`): a row an older release wrote that no longer validates is skipped with
a log line rather than breaking every ticket's rule run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.rules import Rule
from domain.rules.actions import AssignDepartment
from domain.ticket import DepartmentTerms
from persistence.models import AutomationRule, RuleTrigger
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate
from persistence.repositories import departments as departments_repo

log = logging.getLogger(__name__)

BY_POSITION = Keyset((AutomationRule.position, AutomationRule.id), descending=False)


class RuleFields(BaseModel):
    """A rule as stored: `conditions` and `actions` already normalised by `Rule`."""

    name: str
    description: str | None = None
    enabled: bool = True
    position: int = 0
    trigger: RuleTrigger
    conditions: dict[str, Any] = Field(default_factory=dict)
    actions: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def of(cls, rule: Rule) -> RuleFields:
        data = rule.model_dump(mode="json", exclude={"id"})
        return cls.model_validate(data)


async def get(session: AsyncSession, rule_id: UUID) -> AutomationRule | None:
    return await session.get(AutomationRule, rule_id)


async def get_by_name(session: AsyncSession, name: str) -> AutomationRule | None:
    statement = select(AutomationRule).where(AutomationRule.name == name)
    return await session.scalar(statement.order_by(*BY_POSITION.order_by()).limit(1))


async def get_many(session: AsyncSession, rule_ids: Iterable[UUID]) -> list[AutomationRule]:
    """The rules among `rule_ids` that exist, by position."""
    statement = (
        select(AutomationRule)
        .where(AutomationRule.id.in_(set(rule_ids)))
        .order_by(*BY_POSITION.order_by())
    )
    return list(await session.scalars(statement))


async def list_rules(
    session: AsyncSession,
    *,
    trigger: RuleTrigger | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AutomationRule]:
    """Rules in the order they run."""
    statement = select(AutomationRule)
    if trigger is not None:
        statement = statement.where(AutomationRule.trigger == trigger)
    return await paginate(session, statement, BY_POSITION, limit=limit, cursor=cursor)


async def enabled_rows(session: AsyncSession) -> Sequence[AutomationRule]:
    """Every enabled rule, in the order they run."""
    statement = (
        select(AutomationRule).where(AutomationRule.enabled).order_by(*BY_POSITION.order_by())
    )
    return list(await session.scalars(statement))


async def create(session: AsyncSession, fields: RuleFields, created_by: UUID) -> AutomationRule:
    row = AutomationRule(**fields.model_dump(), created_by=created_by)
    session.add(row)
    await session.flush()
    return row


async def replace(
    session: AsyncSession, rule_id: UUID, fields: RuleFields
) -> AutomationRule | None:
    """Overwrite a rule's definition (the caller merged and validated it)."""
    statement = (
        update(AutomationRule)
        .where(AutomationRule.id == rule_id)
        .values(**fields.model_dump())
        .returning(AutomationRule)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def set_enabled(session: AsyncSession, rule_id: UUID, enabled: bool) -> AutomationRule | None:
    statement = (
        update(AutomationRule)
        .where(AutomationRule.id == rule_id)
        .values(enabled=enabled)
        .returning(AutomationRule)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def delete_rule(session: AsyncSession, rule_id: UUID) -> bool:
    statement = delete(AutomationRule).where(AutomationRule.id == rule_id)
    return await session.scalar(statement.returning(AutomationRule.id)) is not None


def definition(row: AutomationRule) -> dict[str, Any]:
    """The stored rule as the plain fields a `Rule` is made from (without its id)."""
    return {
        "name": row.name,
        "description": row.description,
        "enabled": row.enabled,
        "position": row.position,
        "trigger": row.trigger.value,
        "conditions": row.conditions,
        "actions": row.actions,
    }


def to_rule(row: AutomationRule) -> Rule | None:
    """The stored rule in domain terms; None (and a log line) if it no longer validates."""
    try:
        return Rule.model_validate({"id": row.id, **definition(row)})
    except ValidationError as exc:
        log.error("automation rule %s (%s) is invalid and is skipped: %s", row.name, row.id, exc)
        return None


def to_rules(rows: Iterable[AutomationRule]) -> list[Rule]:
    return [rule for row in rows if (rule := to_rule(row)) is not None]


async def enabled_rules(session: AsyncSession) -> list[Rule]:
    """What a ticket's workflow runs: every enabled, valid rule, in position order.

    A move to another department carries that department's terms (its manager, auto-close
    delay), which workflow code cannot look up; a department since deleted resolves to none
    and the move is skipped, with the reason, when the rule fires.
    """
    rules = to_rules(await enabled_rows(session))
    wanted = {
        action.department_id
        for rule in rules
        for action in rule.actions
        if isinstance(action, AssignDepartment)
    }
    if not wanted:
        return rules
    terms = {d: await departments_repo.terms(session, d) for d in wanted}
    return [_with_departments(rule, terms) for rule in rules]


def _with_departments(rule: Rule, terms: dict[UUID, DepartmentTerms | None]) -> Rule:
    actions = [
        action.model_copy(update={"department": terms.get(action.department_id)})
        if isinstance(action, AssignDepartment)
        else action
        for action in rule.actions
    ]
    return rule.model_copy(update={"actions": actions})
