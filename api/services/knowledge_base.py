"""Knowledge-base articles: who sees which, writing them, views, votes, search and the
articles suggested for a ticket."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.knowledge_base import ArticleCreate, ArticleUpdate
from api.services import tickets as tickets_service
from domain.errors import Forbidden, InvalidInput, NotFound
from persistence.models import ArticleStatus, KnowledgeBaseArticle, User
from persistence.pagination import Page
from persistence.repositories import knowledge_base as kb_repo
from persistence.repositories.knowledge_base import ArticleFields, Hit

NO_SUCH_ARTICLE = "no such knowledge-base article"

# A ticket's text is a sentence, not a query: only its telling words go into the search.
MAX_SUGGESTION_WORDS = 32
MIN_WORD_LENGTH = 3
_WORD = re.compile(r"\w+")
# The 'simple' text-search configuration keeps every word, so the commonest English and
# Spanish ones would otherwise match nearly every article.
_STOPWORD_TEXT = """
    the and for with this that from have has had was were are not but you your our its
    they them there what when where which who how can cannot does did will would should could
    been into out all any some also just than then very after before about again please
    los las del por para con una uno unos unas que como pero más mas sin sobre este esta
    esto estos estas ese esa eso hay ser son fue está están cuando donde desde hasta tiene
    tengo muy nos les mis sus
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _is_staff(reader: User | None) -> bool:
    return reader is not None and reader.role.is_staff


def visible_statuses(
    reader: User | None, requested: Sequence[ArticleStatus] | None
) -> list[ArticleStatus]:
    """The statuses to show: published unless an agent or admin asks for others."""
    wanted = list(dict.fromkeys(requested or [ArticleStatus.PUBLISHED]))
    if wanted != [ArticleStatus.PUBLISHED] and not _is_staff(reader):
        raise Forbidden("only agents and admins can see draft or archived articles")
    return wanted


# -- reading ---------------------------------------------------------------------------------


async def list_articles(
    session: AsyncSession,
    reader: User | None,
    *,
    statuses: Sequence[ArticleStatus] | None,
    category: str | None,
    tag: str | None,
    limit: int,
    cursor: str | None,
) -> Page[KnowledgeBaseArticle]:
    """Articles the reader may see, newest first."""
    return await kb_repo.list_articles(
        session,
        statuses=visible_statuses(reader, statuses),
        category=category,
        tag=tag,
        limit=limit,
        cursor=cursor,
    )


async def read_article(
    session: AsyncSession, reader: User | None, article_id: UUID
) -> KnowledgeBaseArticle:
    """The article, counting the view; drafts and archived ones only agents see (uncounted)."""
    counted = await kb_repo.count_view(session, article_id)
    if counted is not None:
        return counted
    row = await kb_repo.get(session, article_id)
    if row is None or not _is_staff(reader):
        raise NotFound(NO_SUCH_ARTICLE)
    return row


async def vote(session: AsyncSession, article_id: UUID, *, helpful: bool) -> KnowledgeBaseArticle:
    """Count a reader's vote on a published article."""
    row = await kb_repo.count_vote(session, article_id, helpful=helpful)
    if row is None:
        raise NotFound(NO_SUCH_ARTICLE)
    return row


# -- writing ---------------------------------------------------------------------------------


async def create_article(
    session: AsyncSession, body: ArticleCreate, author: User
) -> KnowledgeBaseArticle:
    """Store an article written by `author`."""
    return await kb_repo.create(session, ArticleFields(**body.model_dump()), author.id)


async def update_article(
    session: AsyncSession, article_id: UUID, body: ArticleUpdate
) -> KnowledgeBaseArticle:
    """Change the fields given; the views, votes and author stay."""
    row = await kb_repo.get(session, article_id)
    if row is None:
        raise NotFound(NO_SUCH_ARTICLE)
    given = body.model_dump(exclude_unset=True)
    # null clears the category; for any other field it means "leave as is".
    given = {k: v for k, v in given.items() if v is not None or k == "category"}
    current = ArticleFields.model_validate(row, from_attributes=True)
    updated = await kb_repo.replace(session, article_id, current.model_copy(update=given))
    if updated is None:
        raise NotFound(NO_SUCH_ARTICLE)
    return updated


async def delete_article(session: AsyncSession, article_id: UUID) -> None:
    if not await kb_repo.delete_article(session, article_id):
        raise NotFound(NO_SUCH_ARTICLE)


# -- searching -------------------------------------------------------------------------------


async def search(
    session: AsyncSession,
    reader: User | None,
    query: str,
    *,
    statuses: Sequence[ArticleStatus] | None,
    category: str | None,
    limit: int,
) -> list[Hit]:
    """Articles holding every word of `query`, best match first."""
    text = " ".join(query.split())
    if not text:
        raise InvalidInput("the search needs at least one word")
    if "\x00" in text:
        raise InvalidInput("text must not contain NUL (U+0000) characters")
    return await kb_repo.search(
        session,
        text,
        statuses=visible_statuses(reader, statuses),
        category=category,
        limit=limit,
    )


def telling_words(*texts: str) -> list[str]:
    """The distinct words of `texts` worth searching for, in order of appearance."""
    words: dict[str, None] = {}
    for text in texts:
        for word in _WORD.findall(text.casefold()):
            if len(word) >= MIN_WORD_LENGTH and word not in _STOPWORDS:
                words.setdefault(word)
    return list(words)[:MAX_SUGGESTION_WORDS]


async def suggest_for_ticket(
    session: AsyncSession, temporal: Client, caller: User, ticket: str, *, limit: int
) -> list[Hit]:
    """Published articles sharing words with a ticket the caller may see (404 for others)."""
    found = await tickets_service.find_ticket(session, temporal, caller, ticket)
    words = telling_words(found.view.title, found.view.description)
    return await kb_repo.search_any_word(
        session, words, statuses=[ArticleStatus.PUBLISHED], limit=limit
    )
