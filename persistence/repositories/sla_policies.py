"""SLA policies: stored with ISO 8601 targets, tried by position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Priority, TicketStatus
from domain.sla import DEFAULT_WARN_AT, MetricTargets, PolicyTerms
from persistence.models import SlaPolicy
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

BY_POSITION = Keyset((SlaPolicy.position, SlaPolicy.id), descending=False)


class PolicyFields(BaseModel):
    """A new policy as the API writes it."""

    name: str
    position: int = 0
    enabled: bool = True
    conditions: dict[str, Any] = Field(default_factory=dict)
    targets: dict[Priority, MetricTargets] = Field(default_factory=dict)
    calendar_id: UUID | None = None
    pause_statuses: list[TicketStatus] = Field(default_factory=lambda: [TicketStatus.ON_HOLD])
    warn_at: list[float] = Field(default_factory=lambda: list(DEFAULT_WARN_AT))
    escalation: list[dict[str, Any]] = Field(default_factory=list)


class PolicyChanges(BaseModel):
    """Fields an update may set; only the fields given are changed."""

    name: str | None = None
    position: int | None = None
    enabled: bool | None = None
    conditions: dict[str, Any] | None = None
    targets: dict[Priority, MetricTargets] | None = None
    calendar_id: UUID | None = None  # None clears it
    pause_statuses: list[TicketStatus] | None = None
    warn_at: list[float] | None = None
    escalation: list[dict[str, Any]] | None = None


def _columns(fields: BaseModel, *, only_set: bool) -> dict[str, Any]:
    # mode="json": targets are stored as ISO 8601 durations ("PT15M"), enums as their values.
    values = fields.model_dump(mode="json", exclude_unset=only_set)
    return {k: v for k, v in values.items() if v is not None or k == "calendar_id"}


async def get(session: AsyncSession, policy_id: UUID) -> SlaPolicy | None:
    return await session.get(SlaPolicy, policy_id)


async def get_by_name(session: AsyncSession, name: str) -> SlaPolicy | None:
    return await session.scalar(select(SlaPolicy).where(SlaPolicy.name == name))


async def list_policies(
    session: AsyncSession, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[SlaPolicy]:
    """Policies in the order they are tried."""
    return await paginate(session, select(SlaPolicy), BY_POSITION, limit=limit, cursor=cursor)


async def enabled_policies(session: AsyncSession) -> Sequence[SlaPolicy]:
    """The enabled policies, in the order they are tried."""
    statement = select(SlaPolicy).where(SlaPolicy.enabled).order_by(*BY_POSITION.order_by())
    return list(await session.scalars(statement))


async def create(session: AsyncSession, fields: PolicyFields) -> SlaPolicy:
    """Insert a policy; a taken name raises `IntegrityError`."""
    policy = SlaPolicy(**_columns(fields, only_set=False))
    session.add(policy)
    await session.flush()
    return policy


async def update_policy(
    session: AsyncSession, policy_id: UUID, changes: PolicyChanges
) -> SlaPolicy | None:
    values = _columns(changes, only_set=True)
    if not values:
        return await get(session, policy_id)
    statement = update(SlaPolicy).where(SlaPolicy.id == policy_id).values(**values)
    return await session.scalar(
        statement.returning(SlaPolicy), execution_options={"populate_existing": True}
    )


async def delete_policy(session: AsyncSession, policy_id: UUID) -> bool:
    statement = delete(SlaPolicy).where(SlaPolicy.id == policy_id).returning(SlaPolicy.id)
    return await session.scalar(statement) is not None


def policy_terms(policy: SlaPolicy) -> PolicyTerms:
    """What a ticket's workflow needs of a stored policy."""
    return PolicyTerms.model_validate(
        {
            "policy_id": policy.id,
            "name": policy.name,
            "targets": policy.targets,
            "warn_at": tuple(policy.warn_at),
            "pause_statuses": frozenset(policy.pause_statuses),
        }
    )
