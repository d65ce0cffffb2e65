"""The five predefined rules: stored once whatever the language, and written in it."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.seed.rules import PREDEFINED_RULES, first_agent_of, store_rule
from domain.enums import Locale
from persistence.repositories import automation_rules as rules_repo
from tests.api.conftest import Desk, People

NAMES = {name for seed in PREDEFINED_RULES for name in seed.names()}


async def forget_predefined(session: AsyncSession) -> None:
    """Start from none of the five (in a transaction that is rolled back afterwards)."""
    for name in NAMES:
        while (row := await rules_repo.get_by_name(session, name)) is not None:
            await rules_repo.delete_rule(session, row.id)


@pytest.mark.parametrize("locale", list(Locale))
def test_every_rule_reads_in_every_language(locale: Locale) -> None:
    for seed in PREDEFINED_RULES:
        rule = seed.rule(locale, None)
        assert rule.name == seed.text[locale].name
        messages = [a.model_dump().get("message") for a in rule.actions]
        assert "{message}" not in messages
    assert len({seed.key for seed in PREDEFINED_RULES}) == len(PREDEFINED_RULES) == 5


async def test_a_rule_is_stored_once_whatever_the_language(
    session_factory: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    async with session_factory() as session:  # never committed: other tests never see it
        await forget_predefined(session)
        senior = await first_agent_of(session, desk.department_id)
        assert senior == desk.manager.id  # the department's longest-standing agent
        stored = [
            await store_rule(session, seed, Locale.EN, desk.admin.id, senior)
            for seed in PREDEFINED_RULES
        ]
        assert stored == [True] * 5
        # The same rule in Spanish is the same rule: not stored beside the English one.
        again = [
            await store_rule(session, seed, Locale.ES, desk.admin.id, senior)
            for seed in PREDEFINED_RULES
        ]
        assert again == [False] * 5
        rows = [
            await rules_repo.get_by_name(session, seed.text[Locale.EN].name)
            for seed in PREDEFINED_RULES
        ]
        rules = rules_repo.to_rules(row for row in rows if row is not None)
        assert [r.trigger.value for r in rules] == ["created"] * 3 + ["time"] * 2
        vip = rules[1].model_dump(mode="json")
        assert vip["actions"][1] == {"type": "assign_agent", "agent_id": str(senior)}
        assert all(row is not None and row.created_by == desk.admin.id for row in rows)
        await session.rollback()


async def test_spanish_rules_notify_in_spanish(
    session_factory: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    async with session_factory() as session:
        await forget_predefined(session)
        for seed in PREDEFINED_RULES:
            await store_rule(session, seed, Locale.ES, desk.admin.id, None)
        p1 = await rules_repo.get_by_name(session, "P1: avisar al responsable y abrir un incidente")
        assert p1 is not None
        assert p1.actions[0] == {
            "type": "send_notification",
            "target": "manager",
            "message": "Ticket crítico recibido",
        }
        await session.rollback()


async def test_without_a_senior_agent_the_vip_rule_only_raises_the_priority(
    session_factory: async_sessionmaker[AsyncSession], people: People, desk: Desk
) -> None:
    empty = await people.department("Nobody here")
    vip = next(seed for seed in PREDEFINED_RULES if seed.key == "vip_requester")
    async with session_factory() as session:
        await forget_predefined(session)
        assert await first_agent_of(session, empty) is None
        assert await store_rule(session, vip, Locale.EN, desk.admin.id, None)
        row = await rules_repo.get_by_name(session, vip.text[Locale.EN].name)
        assert row is not None
        assert row.actions == [{"type": "set_priority", "priority": "P1"}]
        await session.rollback()
