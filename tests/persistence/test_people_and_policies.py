"""Users, departments and SLA policies as the API reads and writes them."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Availability, Locale, Metric, Priority, Role, TicketStatus
from domain.errors import Conflict
from domain.sla import MetricTargets
from domain.ticket import DepartmentTerms
from persistence.readmodel import apply_batch
from persistence.repositories import departments, sla_policies, users
from persistence.repositories.departments import DepartmentChanges
from persistence.repositories.sla_policies import PolicyChanges, PolicyFields
from persistence.repositories.users import ProfileChanges
from tests.persistence.factories import Desk, add_department, add_user, batch


async def test_email_is_stored_lower_case_and_unique_in_any_case(db_session: AsyncSession) -> None:
    user = await users.create(db_session, email=" Ana@Example.COM ", password_hash="h", name="Ana")
    assert user.email == "ana@example.com"
    found = await users.get_by_email(db_session, "ANA@example.com")
    assert found is not None
    assert found.id == user.id

    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            await users.create(db_session, email="ana@EXAMPLE.com", password_hash="h", name="Ana 2")


async def test_profile_role_and_availability_updates(db_session: AsyncSession) -> None:
    user = await add_user(db_session, Role.USER)
    changed = await users.update_profile(
        db_session, user.id, ProfileChanges(name="Ana B", locale=Locale.ES, phone=None)
    )
    assert changed is not None
    assert (changed.name, changed.locale, changed.phone) == ("Ana B", Locale.ES, None)
    assert changed.updated_at >= changed.created_at

    promoted = await users.update_role(db_session, user.id, Role.AGENT)
    online = await users.update_availability(db_session, user.id, Availability.ONLINE)
    assert promoted is not None
    assert online is not None
    assert (online.role, online.availability) == (Role.AGENT, Availability.ONLINE)
    assert await users.set_password(db_session, user.id, "new-hash")
    assert await users.update_role(db_session, uuid4(), Role.ADMIN) is None


async def test_user_pages_have_no_gaps_or_repeats(db_session: AsyncSession) -> None:
    department = await add_department(db_session)
    created = {(await add_user(db_session, department_id=department.id)).id for _ in range(5)}
    seen: list[object] = []
    cursor = None
    while True:
        page = await users.list_users(
            db_session, department_id=department.id, limit=2, cursor=cursor
        )
        seen += [u.id for u in page.items]
        if not (cursor := page.next_cursor):
            break
    assert len(seen) == 5
    assert set(seen) == created


async def test_soft_deleted_users_disappear(db_session: AsyncSession) -> None:
    user = await add_user(db_session)
    assert await users.soft_delete(db_session, user.id)
    assert await users.get(db_session, user.id) is None
    assert await users.get_by_email(db_session, user.email) is None


async def test_department_terms_carry_its_durations(db_session: AsyncSession) -> None:
    manager = await add_user(db_session)
    department = await departments.create(
        db_session, name="Facilities", manager_id=manager.id, auto_close_after=timedelta(days=5)
    )
    assert await departments.terms(db_session, department.id) == DepartmentTerms(
        id=department.id,
        name="Facilities",
        manager_id=manager.id,
        auto_close_after=timedelta(days=5),
        reopen_window=timedelta(days=30),
    )
    changed = await departments.update_department(
        db_session, department.id, DepartmentChanges(manager_id=None, reopen_window=timedelta(1))
    )
    assert changed is not None
    assert (changed.manager_id, changed.reopen_window) == (None, timedelta(days=1))


async def test_a_department_with_tickets_cannot_be_deleted(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    await apply_batch(db_session, batch(await desk.ticket(db_session)))
    with pytest.raises(Conflict):
        await departments.delete_department(db_session, desk.department.id)
    empty = await add_department(db_session)
    assert await departments.delete_department(db_session, empty.id)
    assert await departments.get(db_session, empty.id) is None


async def test_deleting_a_manager_leaves_the_department_without_one(
    db_session: AsyncSession,
) -> None:
    manager = await add_user(db_session)
    department = await add_department(db_session, manager_id=manager.id)
    await db_session.execute(text("DELETE FROM users WHERE id = :id"), {"id": manager.id})
    terms = await departments.terms(db_session, department.id)
    assert terms is not None  # ON DELETE SET NULL, not a failed delete
    await db_session.refresh(department)
    assert department.manager_id is None


async def test_policies_store_iso_durations_and_come_back_as_terms(
    db_session: AsyncSession,
) -> None:
    targets = {
        Priority.P1: MetricTargets(
            first_response=timedelta(minutes=15), resolution=timedelta(hours=4)
        )
    }
    policy = await sla_policies.create(
        db_session, PolicyFields(name="Gold", position=1, targets=targets)
    )
    assert policy.targets == {
        "P1": {"first_response": "PT15M", "next_response": None, "resolution": "PT4H"}
    }
    assert policy.pause_statuses == ["on_hold"]
    assert policy.warn_at == [0.5, 0.75, 0.9]

    terms = sla_policies.policy_terms(policy)
    assert terms.target(Priority.P1, Metric.RESOLUTION) == timedelta(hours=4)
    assert terms.target(Priority.P2, Metric.RESOLUTION) is None
    assert terms.pause_statuses == frozenset({TicketStatus.ON_HOLD})


async def test_enabled_policies_come_in_position_order(db_session: AsyncSession) -> None:
    await db_session.execute(text("DELETE FROM sla_policies"))
    late = await sla_policies.create(db_session, PolicyFields(name="Late", position=20))
    early = await sla_policies.create(db_session, PolicyFields(name="Early", position=10))
    off = await sla_policies.create(db_session, PolicyFields(name="Off", position=5))
    await sla_policies.update_policy(db_session, off.id, PolicyChanges(enabled=False))

    assert [p.name for p in await sla_policies.enabled_policies(db_session)] == ["Early", "Late"]
    page = await sla_policies.list_policies(db_session)
    assert [p.id for p in page.items] == [off.id, early.id, late.id]
