"""SLA policies: request bodies to stored rows, checked against what they refer to."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.sla import EscalationStepBody, SlaPolicyCreate, SlaPolicyUpdate
from domain.errors import Conflict, InvalidInput, NotFound
from domain.sla import MetricTargets
from persistence.models import SlaPolicy as SlaPolicyRow
from persistence.repositories import calendars as calendars_repo
from persistence.repositories import sla_policies as policies_repo
from persistence.repositories import users as users_repo
from persistence.repositories.sla_policies import PolicyChanges, PolicyFields


def _stored_fields(body: SlaPolicyCreate | SlaPolicyUpdate) -> dict[str, object]:
    values = body.model_dump(exclude_unset=isinstance(body, SlaPolicyUpdate))
    if body.conditions is not None:
        values["conditions"] = body.conditions.model_dump(mode="json", exclude_none=True)
    if body.targets is not None:
        values["targets"] = {
            priority: MetricTargets(**targets.model_dump())
            for priority, targets in body.targets.items()
        }
    if body.escalation is not None:
        values["escalation"] = [step.model_dump(mode="json") for step in body.escalation]
    if body.warn_at is not None:
        values["warn_at"] = sorted(set(body.warn_at))
    return values


async def _check_name_free(session: AsyncSession, name: str, policy_id: UUID | None = None) -> None:
    same_name = await policies_repo.get_by_name(session, name)
    if same_name is not None and same_name.id != policy_id:
        raise Conflict(f"an SLA policy named {name!r} already exists")


async def _check_calendar(session: AsyncSession, calendar_id: UUID | None) -> None:
    if calendar_id is not None and await calendars_repo.get(session, calendar_id) is None:
        raise InvalidInput(f"no calendar with id {calendar_id}")


async def _check_escalation_agents(
    session: AsyncSession, steps: list[EscalationStepBody] | None
) -> None:
    """A step may only hand a ticket to a live agent or admin (a ticket's assignee must be)."""
    for step in steps or ():
        if isinstance(step.assign_to, UUID):
            agent = await users_repo.get(session, step.assign_to)
            if agent is None or not agent.role.is_staff:
                raise InvalidInput(f"escalation assign_to {step.assign_to} is not an agent")


async def create_policy(session: AsyncSession, body: SlaPolicyCreate) -> SlaPolicyRow:
    await _check_name_free(session, body.name)
    await _check_calendar(session, body.calendar_id)
    await _check_escalation_agents(session, body.escalation)
    return await policies_repo.create(session, PolicyFields.model_validate(_stored_fields(body)))


async def update_policy(
    session: AsyncSession, policy_id: UUID, body: SlaPolicyUpdate
) -> SlaPolicyRow:
    if body.name is not None:
        await _check_name_free(session, body.name, policy_id)
    await _check_calendar(session, body.calendar_id)
    await _check_escalation_agents(session, body.escalation)
    changes = PolicyChanges.model_validate(_stored_fields(body))
    row = await policies_repo.update_policy(session, policy_id, changes)
    if row is None:
        raise NotFound("no such SLA policy")
    return row
