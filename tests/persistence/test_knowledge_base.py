"""The knowledge-base store: counters that never lose a count, full-text search, categories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from sqlalchemy import delete, event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.models import ArticleStatus, KnowledgeBaseArticle, User
from persistence.repositories import knowledge_base as kb_repo
from persistence.repositories.knowledge_base import ArticleFields
from tests.persistence.factories import add_user

PUBLISHED = [ArticleStatus.PUBLISHED]


def word() -> str:
    """A word no other article holds (letters only: the search parser keeps it whole)."""
    return "kb" + "".join(chr(ord("a") + int(c, 16)) for c in uuid4().hex[:12])


async def article(session: AsyncSession, author_id: UUID, **fields: Any) -> KnowledgeBaseArticle:
    values: dict[str, Any] = {
        "title": "Title",
        "content": "Content",
        "tags": [],
        "status": ArticleStatus.PUBLISHED,
        **fields,
    }
    return await kb_repo.create(session, ArticleFields(**values), author_id)


@pytest_asyncio.fixture(loop_scope="session")
async def author(db_session: AsyncSession) -> UUID:
    return (await add_user(db_session)).id


async def test_views_and_votes_count_on_published_articles_only(
    db_session: AsyncSession, author: UUID
) -> None:
    published = await article(db_session, author)
    draft = await article(db_session, author, status=ArticleStatus.DRAFT)
    edited_at = published.updated_at

    await kb_repo.count_view(db_session, published.id)
    counted = await kb_repo.count_view(db_session, published.id)
    await kb_repo.count_vote(db_session, published.id, helpful=False)
    voted = await kb_repo.count_vote(db_session, published.id, helpful=True)
    assert counted is not None and voted is not None
    assert (voted.views, voted.helpful_votes, voted.unhelpful_votes) == (2, 1, 1)
    assert voted.updated_at == edited_at

    assert await kb_repo.count_view(db_session, draft.id) is None
    assert await kb_repo.count_vote(db_session, draft.id, helpful=True) is None
    assert await kb_repo.count_view(db_session, uuid4()) is None
    untouched = await kb_repo.get(db_session, draft.id)
    assert untouched is not None and (untouched.views, untouched.helpful_votes) == (0, 0)


@pytest_asyncio.fixture(loop_scope="session")
async def committed_article(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[UUID]:
    """A published article really committed, for sessions racing on it; removed afterwards."""
    async with session_factory.begin() as session:
        user = await add_user(session)
        row = await article(session, user.id)
    yield row.id
    async with session_factory.begin() as session:
        await session.execute(delete(KnowledgeBaseArticle).where(KnowledgeBaseArticle.id == row.id))
        await session.execute(delete(User).where(User.id == user.id))


async def test_concurrent_views_and_votes_are_all_counted(
    session_factory: async_sessionmaker[AsyncSession], committed_article: UUID
) -> None:
    async def read_and_vote(helpful: bool) -> None:
        async with session_factory.begin() as session:
            await kb_repo.count_view(session, committed_article)
            await kb_repo.count_vote(session, committed_article, helpful=helpful)

    await asyncio.gather(*(read_and_vote(n % 3 != 0) for n in range(12)))

    async with session_factory() as session:
        row = await kb_repo.get(session, committed_article)
    assert row is not None
    assert (row.views, row.helpful_votes, row.unhelpful_votes) == (12, 8, 4)


async def test_search_needs_every_word_and_ranks_by_how_often_they_appear(
    db_session: AsyncSession, author: UUID
) -> None:
    vpn, token = word(), word()
    rare = await article(db_session, author, title="Remote work", content=f"{vpn} and {token}")
    frequent = await article(
        db_session, author, title=f"{vpn.upper()} setup", content=f"{vpn} {token} {vpn} {token}"
    )
    await article(db_session, author, content=f"{vpn} only")
    draft = await article(db_session, author, content=f"{vpn} {token}", status=ArticleStatus.DRAFT)
    filed = await article(db_session, author, content=f"{vpn} {token}", category="Network")

    hits = await kb_repo.search(db_session, f"{token} {vpn}", statuses=PUBLISHED)
    assert hits[0].article.id == frequent.id
    assert {h.article.id for h in hits} == {frequent.id, rare.id, filed.id}
    assert hits[0].rank > hits[1].rank >= hits[2].rank > 0

    every = [ArticleStatus.PUBLISHED, ArticleStatus.DRAFT]
    assert draft.id in {h.article.id for h in await kb_repo.search(db_session, vpn, statuses=every)}
    network = await kb_repo.search(db_session, vpn, statuses=PUBLISHED, category="Network")
    assert [h.article.id for h in network] == [filed.id]
    assert len(await kb_repo.search(db_session, vpn, statuses=PUBLISHED, limit=2)) == 2
    assert await kb_repo.search(db_session, "!!! ???", statuses=PUBLISHED) == []


async def test_any_word_search_ranks_articles_holding_more_of_the_words_first(
    db_session: AsyncSession, author: UUID
) -> None:
    printer, paper, jam = word(), word(), word()
    two = await article(db_session, author, title=f"{printer} {paper}")
    one = await article(db_session, author, content=f"the {jam}")
    await article(db_session, author, content=f"{printer} {paper} {jam}", status="archived")
    await article(db_session, author, content="nothing in common")

    hits = await kb_repo.search_any_word(db_session, [printer, paper, jam], statuses=PUBLISHED)
    assert [h.article.id for h in hits] == [two.id, one.id]
    assert await kb_repo.search_any_word(db_session, [], statuses=PUBLISHED) == []


@pytest.mark.parametrize("bad", ["a|b", "x & y", "!z", "a:*", "it's", ""])
async def test_any_word_search_refuses_anything_but_plain_words(
    db_session: AsyncSession, bad: str
) -> None:
    with pytest.raises(ValueError, match="letters"):
        await kb_repo.search_any_word(db_session, ["fine", bad], statuses=PUBLISHED)


async def test_search_goes_through_the_gin_index(db_session: AsyncSession) -> None:
    """The statement the search runs, explained with its own parameters."""
    connection = await db_session.connection()
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    try:
        await kb_repo.search(db_session, "printer fire", statuses=PUBLISHED)
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", record)
    statement, parameters = sent[-1]

    # Tests hold few rows, where a sequential scan is cheaper; forbid it to see the index fit.
    await db_session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    assert "ix_knowledge_base_articles_search" in "\n".join(row[0] for row in plan)


async def test_lists_filter_by_status_category_and_tag_newest_first(
    db_session: AsyncSession, author: UUID
) -> None:
    category = word()
    old = await article(db_session, author, category=category, tags=["vat", "invoice"])
    await article(db_session, author, category=category, status=ArticleStatus.DRAFT)
    new = await article(db_session, author, category=category, tags=["invoice"])
    await article(db_session, author, tags=["invoice"])  # another category

    page = await kb_repo.list_articles(db_session, statuses=PUBLISHED, category=category)
    assert {a.id for a in page.items} == {old.id, new.id}
    tagged = await kb_repo.list_articles(
        db_session, statuses=PUBLISHED, category=category, tag="vat"
    )
    assert [a.id for a in tagged.items] == [old.id]

    first = await kb_repo.list_articles(db_session, statuses=PUBLISHED, category=category, limit=1)
    assert first.next_cursor is not None
    rest = await kb_repo.list_articles(
        db_session, statuses=PUBLISHED, category=category, limit=1, cursor=first.next_cursor
    )
    assert [*first.items, *rest.items] == sorted(
        [old, new], key=lambda a: (a.created_at, a.id), reverse=True
    )
    assert rest.next_cursor is None


async def test_categories_are_those_of_published_articles_with_counts(
    db_session: AsyncSession, author: UUID
) -> None:
    network, hardware, hidden = word(), word(), word()
    for category in (network, network, hardware):
        await article(db_session, author, category=category)
    await article(db_session, author, category=hardware, status=ArticleStatus.ARCHIVED)
    await article(db_session, author, category=hidden, status=ArticleStatus.DRAFT)
    await article(db_session, author, category=None)

    counts = dict(await kb_repo.categories(db_session))
    assert (counts[network], counts[hardware]) == (2, 1)
    assert hidden not in counts
    assert None not in counts


async def test_replace_keeps_the_counters_and_author(
    db_session: AsyncSession, author: UUID
) -> None:
    row = await article(db_session, author, tags=["a"])
    await kb_repo.count_view(db_session, row.id)
    fields = ArticleFields(
        title="New", content="Body", category="Cat", tags=["b"], status=ArticleStatus.ARCHIVED
    )
    replaced = await kb_repo.replace(db_session, row.id, fields)
    assert replaced is not None
    assert (replaced.title, replaced.tags, replaced.status) == ("New", ["b"], "archived")
    assert (replaced.views, replaced.author_id) == (1, author)
    assert await kb_repo.replace(db_session, uuid4(), fields) is None
    assert await kb_repo.delete_article(db_session, row.id)
    assert not await kb_repo.delete_article(db_session, row.id)
