"""Automation rules: request bodies to stored rules, and the dry run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.automation import (
    AutomationTest,
    AutomationTestOut,
    DraftTicket,
    RuleCreate,
    RuleTestResult,
    RuleUpdate,
    TicketRef,
)
from domain.enums import TicketStatus
from domain.errors import Conflict, InvalidInput, NotFound
from domain.lifecycle import priority_for
from domain.rules import (
    Firing,
    Rule,
    TicketFacts,
    Trigger,
    fire,
    next_time_match,
    rules_for,
    run_event_rules,
)
from domain.rules.actions import Action, AssignAgent, AssignDepartment, SendNotification
from persistence.models import AutomationRule, Ticket
from persistence.repositories import automation_rules as rules_repo
from persistence.repositories import departments as departments_repo
from persistence.repositories import tickets as tickets_repo
from persistence.repositories import users as users_repo
from persistence.repositories.automation_rules import RuleFields

# -- writing rules -----------------------------------------------------------------------------


def _reason(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "; ".join(parts)


def validated(data: Mapping[str, Any]) -> Rule:
    """A rule through the pure model; `InvalidInput` (422) saying what is wrong."""
    try:
        return Rule.model_validate(dict(data))
    except ValidationError as error:
        raise InvalidInput(f"invalid rule: {_reason(error)}") from error


async def _check_name_free(session: AsyncSession, name: str, rule_id: UUID | None = None) -> None:
    # Names identify rules to people (and to seed_rules), so two rules may not share one.
    existing = await rules_repo.get_by_name(session, name)
    if existing is not None and existing.id != rule_id:
        raise Conflict(f"an automation rule named {name!r} already exists")


async def _get(session: AsyncSession, rule_id: UUID) -> AutomationRule:
    row = await rules_repo.get(session, rule_id)
    if row is None:
        raise NotFound("no such automation rule")
    return row


async def _check_references(session: AsyncSession, rule: Rule) -> None:
    """The people and departments a rule names must exist, or every ticket it fires on would
    point at nobody."""
    for action in rule.actions:
        if (missing := await _missing_reference(session, action)) is not None:
            raise InvalidInput(f"{action.describe()}: {missing}")


async def _missing_reference(session: AsyncSession, action: Action) -> str | None:
    if isinstance(action, AssignAgent):
        agent = await users_repo.get(session, action.agent_id)
        return None if agent and agent.role.is_staff else f"{action.agent_id} is not an agent"
    if isinstance(action, AssignDepartment):
        found = await departments_repo.terms(session, action.department_id)
        return None if found else "no such department"
    if isinstance(action, SendNotification) and isinstance(action.target, UUID):
        user = await users_repo.get(session, action.target)
        return None if user else f"no user {action.target}"
    return None


async def create_rule(session: AsyncSession, body: RuleCreate, created_by: UUID) -> AutomationRule:
    rule = validated(body.model_dump(mode="json"))
    await _check_name_free(session, rule.name)
    await _check_references(session, rule)
    return await rules_repo.create(session, RuleFields.of(rule), created_by)


async def update_rule(session: AsyncSession, rule_id: UUID, body: RuleUpdate) -> AutomationRule:
    """Change the fields given; the merged rule must validate as a whole (a new trigger must
    suit the existing conditions, and so on)."""
    row = await _get(session, rule_id)
    given = body.model_dump(mode="json", exclude_unset=True)
    # null clears the description; for any other field it means "leave as is".
    given = {k: v for k, v in given.items() if v is not None or k == "description"}
    rule = validated({**rules_repo.definition(row), **given})
    await _check_name_free(session, rule.name, rule_id)
    await _check_references(session, rule)
    updated = await rules_repo.replace(session, rule_id, RuleFields.of(rule))
    if updated is None:
        raise NotFound("no such automation rule")
    return updated


async def toggle_rule(session: AsyncSession, rule_id: UUID) -> AutomationRule:
    row = await _get(session, rule_id)
    toggled = await rules_repo.set_enabled(session, rule_id, not row.enabled)
    if toggled is None:
        raise NotFound("no such automation rule")
    return toggled


# -- dry run -----------------------------------------------------------------------------------


def _status_since(row: Ticket) -> datetime:
    # The read model keeps no status timestamp; these are the best it has. `updated_at` is
    # a lower bound for the others: the status cannot have changed after the last update.
    known = {
        TicketStatus.NEW: row.created_at,
        TicketStatus.RESOLVED: row.resolved_at,
        TicketStatus.CLOSED: row.closed_at,
    }
    return known.get(row.status) or row.updated_at


def facts_of_row(row: Ticket) -> TicketFacts:
    """An existing ticket's facts from its read-model row: activity is the row's last update,
    the SLA deadline its nearest running breach time."""
    return TicketFacts(
        title=row.title,
        description=row.description,
        status=row.status,
        priority=row.priority,
        urgency=row.urgency,
        impact=row.impact,
        category=row.category,
        subcategory=row.subcategory,
        source=row.source,
        tags=tuple(row.tags),
        assignee_id=row.assignee_id,
        department_id=row.department_id,
        requester_id=row.requester_id,
        requester_role=row.requester_role,
        created_at=row.created_at,
        last_activity_at=row.updated_at,
        status_since=_status_since(row),
        sla_deadline=row.sla_breach_at,
    )


def _hours_ago(now: datetime, hours: float | None, default: float) -> datetime:
    return now - timedelta(hours=default if hours is None else hours)


_DRAFT_AS_IS = {
    "title",
    "description",
    "status",
    "urgency",
    "impact",
    "category",
    "subcategory",
    "source",
    "assignee_id",
    "department_id",
    "requester_id",
    "requester_role",
    "previous",
}


def facts_of_draft(draft: DraftTicket, now: datetime) -> TicketFacts:
    """A draft's facts; its time fields become the timestamps that give them at `now`."""
    comment: dict[str, Any] = {}
    if draft.comment is not None:
        comment = {
            "comment_body": draft.comment.body,
            "comment_private": draft.comment.private,
            "comment_by_requester": draft.comment.by_requester,
        }
    remaining = draft.sla_minutes_remaining
    return TicketFacts(
        **draft.model_dump(include=_DRAFT_AS_IS),
        **comment,
        priority=draft.priority or priority_for(draft.urgency, draft.impact),
        tags=tuple(draft.tags),
        created_at=_hours_ago(now, draft.hours_since_created, 0),
        last_activity_at=_hours_ago(now, draft.hours_since_activity, draft.hours_since_created),
        status_since=_hours_ago(now, draft.hours_in_status, draft.hours_since_created),
        sla_deadline=None if remaining is None else now + timedelta(minutes=remaining),
    )


async def _ticket_facts(
    session: AsyncSession, ticket: int | UUID | DraftTicket, now: datetime
) -> tuple[TicketFacts, TicketRef | None]:
    if isinstance(ticket, DraftTicket):
        return facts_of_draft(ticket, now), None
    row = await tickets_repo.get_by_ref(session, str(ticket))
    if row is None:
        raise NotFound("no such ticket")
    return facts_of_row(row), TicketRef(id=row.id, number=row.number)


async def _rules_to_test(session: AsyncSession, body: AutomationTest) -> list[AutomationRule]:
    if body.rule_ids is None:
        rows: Sequence[AutomationRule] = await rules_repo.enabled_rows(session)
    else:
        rows = await rules_repo.get_many(session, body.rule_ids)
        missing = set(body.rule_ids) - {row.id for row in rows}
        if missing:
            raise NotFound(f"no such automation rule: {', '.join(sorted(map(str, missing)))}")
    return [row for row in rows if body.trigger is None or row.trigger.value == body.trigger]


def _result(firing: Firing, row: AutomationRule, next_at: datetime | None) -> RuleTestResult:
    return RuleTestResult(
        rule_id=row.id,
        name=row.name,
        trigger=firing.trigger,
        enabled=row.enabled,
        position=row.position,
        matched=firing.matched,
        explanation=firing.evaluation.explanation,
        summary=firing.evaluation.lines(),
        actions=firing.actions,
        changes=firing.changes,
        next_match_at=next_at,
    )


def _time_firings(
    rules: Iterable[Rule], facts: TicketFacts, now: datetime
) -> list[tuple[Firing, datetime | None]]:
    # As a wake-up would: in position order, each on the facts the ones before it left.
    out = []
    for rule in rules_for(rules, Trigger.TIME):
        next_at = None if (match := next_time_match(rule, facts, now)) == now else match
        firing, facts = fire(rule, facts, now)
        out.append((firing, next_at))
    return out


def _test_trigger(
    trigger: Trigger, rules: list[Rule], facts: TicketFacts, now: datetime
) -> list[tuple[Firing, datetime | None]]:
    if trigger is Trigger.TIME:
        return _time_firings(rules, facts, now)
    return [(firing, None) for firing in run_event_rules(rules, trigger, facts, now)]


async def dry_run(session: AsyncSession, body: AutomationTest, now: datetime) -> AutomationTestOut:
    """Which rules would match the ticket, why, and what they would do; changes nothing.

    Rules of each trigger run as that event would run them (in position order, each seeing
    the changes of the ones before); rules named in `rule_ids` are tested even if disabled.
    """
    facts, ticket = await _ticket_facts(session, body.ticket, now)
    rows = {row.id: row for row in await _rules_to_test(session, body)}
    rules = [
        rule.model_copy(update={"enabled": True}) for rule in rules_repo.to_rules(rows.values())
    ]
    results: list[RuleTestResult] = []
    for trigger in Trigger:
        group = [rule for rule in rules if rule.trigger is trigger]
        for firing, next_at in _test_trigger(trigger, group, facts, now):
            assert firing.rule_id is not None  # stored rules have ids
            results.append(_result(firing, rows[firing.rule_id], next_at))
    return AutomationTestOut(
        at=now,
        ticket=ticket,
        facts=facts.facts_at(now),
        matched_rule_ids=[r.rule_id for r in results if r.matched],
        results=results,
    )
