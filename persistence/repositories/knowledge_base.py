"""Knowledge-base articles: storing them, counting views and votes, full-text search."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, delete, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import ArticleStatus, KnowledgeBaseArticle, kb_matches
from persistence.models.content import KB_SEARCH_SQL
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

Article = KnowledgeBaseArticle

# created_at, not updated_at: an edit must not move an article between pages mid-listing.
NEWEST_FIRST = Keyset((Article.created_at, Article.id))
_WORD = re.compile(r"\w+")


class ArticleFields(BaseModel):
    """An article as its authors write it (counters are the readers')."""

    title: str
    content: str
    category: str | None = None
    tags: list[str]
    status: ArticleStatus


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result and how well it matches (PostgreSQL's `ts_rank`)."""

    article: KnowledgeBaseArticle
    rank: float


async def get(session: AsyncSession, article_id: UUID) -> KnowledgeBaseArticle | None:
    return await session.get(Article, article_id)


def _filtered(
    statement: Select[Any], statuses: Sequence[ArticleStatus], category: str | None
) -> Select[Any]:
    statement = statement.where(Article.status.in_(statuses))
    if category is not None:
        statement = statement.where(Article.category == category)
    return statement


async def list_articles(
    session: AsyncSession,
    *,
    statuses: Sequence[ArticleStatus],
    category: str | None = None,
    tag: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[KnowledgeBaseArticle]:
    """Articles in these statuses, newest first, optionally of one category and one tag."""
    statement = _filtered(select(Article), statuses, category)
    if tag is not None:
        statement = statement.where(Article.tags.contains([tag]))
    return await paginate(session, statement, NEWEST_FIRST, limit=limit, cursor=cursor)


async def find_by_title(session: AsyncSession, title: str) -> KnowledgeBaseArticle | None:
    found: KnowledgeBaseArticle | None = await session.scalar(
        select(Article).where(Article.title == title).limit(1)
    )
    return found


async def create(
    session: AsyncSession, fields: ArticleFields, author_id: UUID
) -> KnowledgeBaseArticle:
    row = Article(**fields.model_dump(), author_id=author_id)
    session.add(row)
    await session.flush()
    return row


async def replace(
    session: AsyncSession, article_id: UUID, fields: ArticleFields
) -> KnowledgeBaseArticle | None:
    """Overwrite what the authors write (the caller merged the change into the article)."""
    statement = (
        update(Article)
        .where(Article.id == article_id)
        .values(**fields.model_dump())
        .returning(Article)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def delete_article(session: AsyncSession, article_id: UUID) -> bool:
    statement = delete(Article).where(Article.id == article_id)
    return await session.scalar(statement.returning(Article.id)) is not None


async def _bump_published(
    session: AsyncSession, article_id: UUID, **counters: Any
) -> KnowledgeBaseArticle | None:
    # One UPDATE, so concurrent readers never lose a count; `updated_at` stays as it was,
    # because it says when the text last changed, not when someone last read it.
    statement = (
        update(Article)
        .where(Article.id == article_id, Article.status == ArticleStatus.PUBLISHED)
        .values(**counters, updated_at=Article.updated_at)
        .returning(Article)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def count_view(session: AsyncSession, article_id: UUID) -> KnowledgeBaseArticle | None:
    """Count one view of a published article; None if there is no such published article."""
    return await _bump_published(session, article_id, views=Article.views + 1)


async def count_vote(
    session: AsyncSession, article_id: UUID, *, helpful: bool
) -> KnowledgeBaseArticle | None:
    """Count one vote on a published article; None if there is no such published article."""
    if helpful:
        return await _bump_published(session, article_id, helpful_votes=Article.helpful_votes + 1)
    return await _bump_published(session, article_id, unhelpful_votes=Article.unhelpful_votes + 1)


async def categories(session: AsyncSession) -> list[tuple[str, int]]:
    """Each category of the published articles, by name, with how many it holds."""
    count = func.count().label("articles")
    statement = (
        select(Article.category, count)
        .where(Article.status == ArticleStatus.PUBLISHED, Article.category.is_not(None))
        .group_by(Article.category)
        .order_by(Article.category)
    )
    rows = (await session.execute(statement)).all()
    return [(category, total) for category, total in rows if category is not None]


async def _ranked(
    session: AsyncSession,
    matches: ColumnElement[bool],
    query: ColumnElement[Any],
    *,
    statuses: Sequence[ArticleStatus],
    category: str | None,
    limit: int,
) -> list[Hit]:
    rank = func.ts_rank(literal_column(KB_SEARCH_SQL), query)
    statement = _filtered(select(Article, rank).where(matches), statuses, category)
    statement = statement.order_by(rank.desc(), Article.id).limit(limit)
    rows = (await session.execute(statement)).all()
    return [Hit(article=article, rank=float(score)) for article, score in rows]


async def search(
    session: AsyncSession,
    text: str,
    *,
    statuses: Sequence[ArticleStatus],
    category: str | None = None,
    limit: int = 10,
) -> list[Hit]:
    """Articles holding every word of `text` (title or content), best match first."""
    query = func.plainto_tsquery("simple", text)
    return await _ranked(
        session, kb_matches(text), query, statuses=statuses, category=category, limit=limit
    )


async def search_any_word(
    session: AsyncSession,
    words: Sequence[str],
    *,
    statuses: Sequence[ArticleStatus],
    limit: int = 10,
) -> list[Hit]:
    """Articles holding at least one of `words` (each a run of letters and digits only),
    those holding more of them first."""
    if not words:
        return []
    # Joined into tsquery text, which is safe only because each word is \w+: no operators,
    # quotes or colons can reach the parser.
    if not all(_WORD.fullmatch(word) for word in words):
        raise ValueError("words must be runs of letters, digits or underscores")
    query = func.to_tsquery("simple", " | ".join(words))
    matches = literal_column(KB_SEARCH_SQL).op("@@")(query)
    return await _ranked(session, matches, query, statuses=statuses, category=None, limit=limit)
