"""The SLA policies in force, as every open ticket carries a copy of them.

A ticket opens with the enabled policies (their calendars resolved) and gets them again
whenever an admin changes one: both read them here. (The rules in force are just
`automation_rules.enabled_rules`.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendars import CalendarTerms, ticket_years
from domain.policies import PolicySet, SlaPolicy
from persistence.models import SlaPolicy as SlaPolicyRow
from persistence.repositories import calendars as calendars_repo
from persistence.repositories import sla_policies as policies_repo

log = logging.getLogger(__name__)


def policy_from_row(row: SlaPolicyRow) -> SlaPolicy | None:
    """The stored policy in domain terms; None (and a log line) if it no longer validates."""
    try:
        return SlaPolicy.model_validate(
            {
                "id": row.id,
                "name": row.name,
                "position": row.position,
                "enabled": row.enabled,
                "conditions": row.conditions,
                "targets": row.targets,
                "calendar_id": row.calendar_id,
                "pause_statuses": row.pause_statuses,
                "warn_at": tuple(row.warn_at),
                "escalation": row.escalation,
            }
        )
    except ValidationError as exc:
        log.error("SLA policy %s (%s) is invalid and is skipped: %s", row.name, row.id, exc)
        return None


def policies_from_rows(rows: Iterable[SlaPolicyRow]) -> list[SlaPolicy]:
    return [p for row in rows if (p := policy_from_row(row)) is not None]


async def enabled_policies(session: AsyncSession) -> list[SlaPolicy]:
    """The enabled policies that validate, in the order they are tried."""
    return policies_from_rows(await policies_repo.enabled_policies(session))


async def policies_in_force(session: AsyncSession, now: datetime) -> PolicySet:
    """The enabled SLA policies with their calendars resolved, as `policy_changed` sends them."""
    policies = await enabled_policies(session)
    years = ticket_years(now)
    calendars: dict[UUID, CalendarTerms] = {}
    for calendar_id in {p.calendar_id for p in policies if p.calendar_id}:
        if (terms := await calendars_repo.terms(session, calendar_id, years)) is not None:
            calendars[calendar_id] = terms
    return PolicySet(policies=policies, calendars=calendars)
