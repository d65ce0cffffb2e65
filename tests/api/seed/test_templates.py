"""The default response templates: four kinds, each in both languages, stored once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.seed.templates import DEFAULT_TEMPLATES, store_template
from persistence.repositories import templates as templates_repo
from tests.api.conftest import Desk


async def test_a_default_template_is_stored_once(
    session_factory: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    async with session_factory() as session:  # never committed: other tests never see it
        for seed in DEFAULT_TEMPLATES:
            while (row := await templates_repo.find(session, seed.name, seed.locale)) is not None:
                await templates_repo.delete_template(session, row.id)
        first = [await store_template(session, seed, desk.admin.id) for seed in DEFAULT_TEMPLATES]
        again = [await store_template(session, seed, desk.admin.id) for seed in DEFAULT_TEMPLATES]
        assert first == [True] * len(DEFAULT_TEMPLATES)
        assert again == [False] * len(DEFAULT_TEMPLATES)
        stored = [await templates_repo.find(session, s.name, s.locale) for s in DEFAULT_TEMPLATES]
        assert all(row is not None and row.created_by == desk.admin.id for row in stored)
        await session.rollback()


def test_each_kind_exists_in_both_languages_under_its_own_key() -> None:
    keys = {seed.key for seed in DEFAULT_TEMPLATES}
    assert len(keys) == len(DEFAULT_TEMPLATES) >= 8
    categories = {seed.category for seed in DEFAULT_TEMPLATES}
    assert keys == {f"template:{c}:{lang}" for c in categories for lang in ("en", "es")}
