"""`ticketflow init`: a new desk's first admin, defaults, rules and templates, made once."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import verify_password
from api.seed.admins import AdminError
from api.seed.bootstrap import initialise_desk
from api.seed.rules import PREDEFINED_RULES
from domain.enums import Locale, Role
from persistence.models import (
    AutomationRule,
    Department,
    ResponseTemplate,
    SlaPolicy,
    Ticket,
    User,
)
from persistence.repositories import users as users_repo
from ticketflow.settings import Settings

ADMIN = "it-lead@corp.example"

Sessions = async_sessionmaker[AsyncSession]


def settings_for(password: str | None = "a chosen password") -> Settings:
    return Settings(
        TICKETFLOW_ADMIN_EMAIL=ADMIN,
        TICKETFLOW_ADMIN_PASSWORD=SecretStr(password) if password else None,
    )


async def init(sessions: Sessions, locale: Locale = Locale.EN, **settings: str | None) -> object:
    async with sessions() as session:
        return await initialise_desk(session, settings_for(**settings), locale)


async def names(sessions: Sessions, column: object) -> list[str]:
    async with sessions() as session:
        return sorted(await session.scalars(select(column)))  # type: ignore[call-overload]


async def test_init_makes_a_desk_ready_for_its_first_ticket(empty_desk: Sessions) -> None:
    async with empty_desk() as session:
        report = await initialise_desk(session, settings_for(), Locale.EN)
    assert report.created == {
        "admin": 1,
        "departments": 1,
        "SLA policy": 1,
        "automation rules": 5,
        "response templates": 4,
    }
    assert report.admin_email == ADMIN
    assert report.admin_password is None  # chosen by the operator: never printed

    async with empty_desk() as session:
        admin = await users_repo.get_by_email(session, ADMIN)
        assert admin is not None
        assert admin.role is Role.ADMIN
        assert not admin.password_change_required
        assert await verify_password("a chosen password", admin.password_hash)
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0
        policy = await session.scalar(select(SlaPolicy))
        assert policy is not None
        assert (policy.name, policy.enabled, policy.conditions) == ("Standard", True, {})
        assert set(policy.targets) == {"P1", "P2", "P3", "P4"}
    assert await names(empty_desk, Department.name) == ["Support"]
    assert await names(empty_desk, AutomationRule.name) == sorted(
        seed.text[Locale.EN].name for seed in PREDEFINED_RULES
    )
    async with empty_desk() as session:
        locales = set(await session.scalars(select(ResponseTemplate.locale)))
    assert locales == {Locale.EN}


async def test_init_again_makes_nothing(empty_desk: Sessions) -> None:
    await init(empty_desk)
    async with empty_desk() as session:
        again = await initialise_desk(session, settings_for(), Locale.EN)
    assert again.created == {}
    assert again.summary == "nothing to do: the desk is already set up"
    assert len(await names(empty_desk, AutomationRule.name)) == 5


async def test_init_never_brings_back_what_an_admin_deleted(empty_desk: Sessions) -> None:
    await init(empty_desk)
    async with empty_desk.begin() as session:
        await session.execute(delete(AutomationRule))
        await session.execute(delete(SlaPolicy))
        await session.execute(delete(Department))
    async with empty_desk() as session:
        again = await initialise_desk(session, settings_for(), Locale.ES)
    assert again.created == {"response templates": 4}  # Spanish ones were never made
    assert await names(empty_desk, AutomationRule.name) == []
    assert await names(empty_desk, Department.name) == []


async def test_init_in_spanish(empty_desk: Sessions) -> None:
    await init(empty_desk, Locale.ES)
    assert await names(empty_desk, Department.name) == ["Soporte"]
    assert await names(empty_desk, SlaPolicy.name) == ["Estándar"]
    assert "Contraseña: P3 y etiqueta" in await names(empty_desk, AutomationRule.name)
    async with empty_desk() as session:
        admin = await users_repo.get_by_email(session, ADMIN)
        assert admin is not None
        assert admin.locale is Locale.ES
        assert set(await session.scalars(select(ResponseTemplate.locale))) == {Locale.ES}


async def test_without_a_password_the_admin_gets_a_one_time_one(empty_desk: Sessions) -> None:
    async with empty_desk() as session:
        report = await initialise_desk(session, settings_for(password=None), Locale.EN)
    assert report.admin_password
    async with empty_desk() as session:
        admin = await users_repo.get_by_email(session, ADMIN)
        assert admin is not None
        assert admin.password_change_required
        assert await verify_password(report.admin_password, admin.password_hash)


async def test_an_address_someone_registered_first_is_not_made_admin(
    empty_desk: Sessions,
) -> None:
    async with empty_desk.begin() as session:
        await users_repo.create(
            session, email=ADMIN, password_hash="x", name="Squatter", role=Role.USER
        )
    with pytest.raises(AdminError, match="--promote"):
        await init(empty_desk)
    async with empty_desk() as session:
        squatter = await users_repo.get_by_email(session, ADMIN)
        assert squatter is not None
        assert squatter.role is Role.USER
    assert await names(empty_desk, Department.name) == []  # nothing half-made


async def test_a_desk_that_has_an_admin_gets_no_other(empty_desk: Sessions) -> None:
    async with empty_desk.begin() as session:
        await users_repo.create(
            session, email="boss@corp.example", password_hash="x", name="Boss", role=Role.ADMIN
        )
    async with empty_desk() as session:
        report = await initialise_desk(session, settings_for(), Locale.EN)
    assert "admin" not in report.created
    assert await names(empty_desk, User.email) == ["boss@corp.example"]
    assert len(await names(empty_desk, AutomationRule.name)) == 5


async def test_two_inits_at_once_make_one_desk(empty_desk: Sessions) -> None:
    reports = await asyncio.gather(init(empty_desk), init(empty_desk))
    created = [r.created for r in reports]  # type: ignore[attr-defined]
    assert sorted(created, key=len) == [{}, created[0] or created[1]]
    assert await names(empty_desk, User.email) == [ADMIN]
    assert len(await names(empty_desk, AutomationRule.name)) == 5
