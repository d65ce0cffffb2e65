"""Admin accounts from the command line: made, brought back, promoted only when asked."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import verify_password
from api.seed.admins import AdminError, create_admin, reset_password
from domain.enums import Role
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo
from tests.api.conftest import People

Sessions = async_sessionmaker[AsyncSession]


def an_email() -> str:
    return f"ops-{uuid4().hex[:10]}@corp.example"


async def test_a_new_admin_with_a_generated_password_must_change_it(
    session_factory: Sessions,
) -> None:
    async with session_factory.begin() as session:
        account = await create_admin(session, an_email())
    assert account.generated_password
    assert account.user.role is Role.ADMIN
    assert account.user.password_change_required
    assert await verify_password(account.generated_password, account.user.password_hash)


async def test_a_chosen_password_is_the_accounts_own(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        account = await create_admin(session, an_email(), password="chosen by ops")
    assert account.generated_password is None
    assert not account.user.password_change_required


async def test_a_short_password_is_refused(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        with pytest.raises(AdminError, match="at least 8"):
            await create_admin(session, an_email(), password="short")


async def test_a_guessable_password_is_refused_with_the_reason(session_factory: Sessions) -> None:
    email = an_email()
    for weak in ("password123", "qwertyuiop", email.split("@")[0] + "1"):
        async with session_factory.begin() as session:
            with pytest.raises(AdminError, match="too easy to guess"):
                await create_admin(session, email, password=weak)
    async with session_factory.begin() as session:
        admin = await create_admin(session, email, password="chosen by ops")
    async with session_factory.begin() as session:
        with pytest.raises(AdminError, match="common password"):
            await reset_password(session, admin.user.email, password="password1")


async def test_an_existing_admin_is_not_made_twice(session_factory: Sessions) -> None:
    email = an_email()
    async with session_factory.begin() as session:
        await create_admin(session, email)
    async with session_factory.begin() as session:
        with pytest.raises(AdminError, match="reset-password"):
            await create_admin(session, email)


async def test_another_account_is_promoted_only_when_asked(
    session_factory: Sessions, people: People
) -> None:
    agent = await people.make(Role.AGENT)
    async with session_factory() as session:
        await tokens_repo.issue_refresh(
            session, jti=uuid4(), user_id=agent.id, expires_at=_later(), session_id=uuid4()
        )
        await session.commit()
        with pytest.raises(AdminError, match="--promote"):
            await create_admin(session, agent.email)
        await session.rollback()
        promoted = await create_admin(session, agent.email, promote=True)
        await session.commit()
        assert promoted.user.id == agent.id
        assert promoted.user.role is Role.ADMIN
        assert await tokens_repo.live_refresh_count(session, agent.id) == 0


async def test_a_deleted_admin_comes_back(session_factory: Sessions) -> None:
    email = an_email()
    async with session_factory.begin() as session:
        first = await create_admin(session, email)
        await users_repo.soft_delete(session, first.user.id)
    async with session_factory.begin() as session:
        again = await create_admin(session, email, password="back again after the winter")
    assert again.user.id == first.user.id
    assert again.user.deleted_at is None
    assert await verify_password("back again after the winter", again.user.password_hash)


async def test_a_reset_sets_a_one_time_password_and_ends_every_session(
    session_factory: Sessions, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    async with session_factory() as session:
        await tokens_repo.issue_refresh(
            session, jti=uuid4(), user_id=admin.id, expires_at=_later(), session_id=uuid4()
        )
        account = await reset_password(session, admin.email)
        await session.commit()
        assert account.generated_password
        assert await tokens_repo.live_refresh_count(session, admin.id) == 0
        user = await users_repo.get(session, admin.id)
        assert user is not None
        assert user.password_change_required
        assert await verify_password(account.generated_password, user.password_hash)


async def test_resetting_an_unknown_account_says_so(session_factory: Sessions) -> None:
    async with session_factory() as session:
        with pytest.raises(AdminError, match="admin create"):
            await reset_password(session, an_email())


def _later():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=1)


async def test_a_reset_can_turn_a_lost_second_factor_off(
    session_factory: Sessions, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    async with session_factory.begin() as session:
        await users_repo.set_mfa_secret(session, admin.id, "sealed secret")
        await users_repo.enable_mfa(session, admin.id)
    async with session_factory.begin() as session:
        await reset_password(session, admin.email, password="chosen by ops")
        kept = await users_repo.get(session, admin.id)
        assert kept is not None and kept.mfa_enabled_at is not None
    async with session_factory.begin() as session:
        await reset_password(session, admin.email, password="chosen by ops", reset_mfa=True)
        cleared = await users_repo.get(session, admin.id)
        assert cleared is not None
        assert (cleared.mfa_enabled_at, cleared.mfa_secret) == (None, None)
