"""`/kb`: knowledge-base articles, readable by anyone, written by agents."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import (
    AdminUser,
    AgentUser,
    CurrentUser,
    OptionalUser,
    RateLimiterDep,
    SessionDep,
    TemporalDep,
)
from api.paths import API_PREFIX
from api.ratelimit import KB_VOTE
from api.routes.tickets import TicketPath
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.knowledge_base import (
    MAX_SEARCH_CHARS,
    ArticleCategory,
    ArticleCreate,
    ArticleHit,
    ArticleOut,
    ArticleTag,
    ArticleUpdate,
    ArticleVotes,
    CategoryCount,
    VoteRequest,
)
from api.services import knowledge_base as service
from persistence.models import ArticleStatus
from persistence.repositories import knowledge_base as kb_repo
from persistence.repositories.knowledge_base import Hit

# Paths are absolute under the API prefix: `/kb/...`, and `/tickets/suggest-kb/{ticket}`.
router = APIRouter(prefix=API_PREFIX, tags=["knowledge base"], responses=PROBLEM_RESPONSES)

_RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many votes on this article from this client; see Retry-After"}
}


Statuses = Annotated[
    list[ArticleStatus] | None,
    Query(
        alias="status",
        description="repeatable; default published. Others: agents and admins only",
    ),
]
SearchText = Annotated[str, Query(min_length=1, max_length=MAX_SEARCH_CHARS)]


def _hits(hits: list[Hit]) -> list[ArticleHit]:
    return [
        ArticleHit(**ArticleOut.model_validate(hit.article).model_dump(), rank=hit.rank)
        for hit in hits
    ]


# Declared before /kb/{article_id}: these paths are not article ids.
@router.get("/kb/search", summary="Full-text search of the articles [Public]")
async def search_articles(
    reader: OptionalUser,
    session: SessionDep,
    q: SearchText,
    status_: Statuses = None,
    category: Annotated[ArticleCategory | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[ArticleHit]:
    hits = await service.search(
        session, reader, q, statuses=status_, category=category, limit=limit
    )
    return _hits(hits)


@router.get("/kb/categories", summary="Categories of the published articles [Public]")
async def list_categories(session: SessionDep) -> list[CategoryCount]:
    rows = await kb_repo.categories(session)
    return [CategoryCount(category=category, articles=total) for category, total in rows]


@router.get("/kb", summary="List articles, newest first [Public]")
async def list_articles(
    reader: OptionalUser,
    session: SessionDep,
    status_: Statuses = None,
    category: Annotated[ArticleCategory | None, Query()] = None,
    tag: Annotated[ArticleTag | None, Query()] = None,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[ArticleOut]:
    page = await service.list_articles(
        session, reader, statuses=status_, category=category, tag=tag, limit=limit, cursor=cursor
    )
    return Page(
        items=[ArticleOut.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.post("/kb", status_code=status.HTTP_201_CREATED, summary="Write an article [Agent]")
async def create_article(author: AgentUser, session: SessionDep, body: ArticleCreate) -> ArticleOut:
    row = await service.create_article(session, body, author)
    await session.commit()
    return ArticleOut.model_validate(row)


@router.get(
    "/kb/{article_id}",
    summary="An article; counts a view [Public; drafts and archived: Agent]",
)
async def get_article(article_id: UUID, reader: OptionalUser, session: SessionDep) -> ArticleOut:
    row = await service.read_article(session, reader, article_id)
    await session.commit()
    return ArticleOut.model_validate(row)


@router.put("/kb/{article_id}", summary="Change an article; absent fields stay [Agent]")
@router.patch("/kb/{article_id}", summary="Same as PUT: absent fields stay [Agent]")
async def update_article(
    article_id: UUID, _: AgentUser, session: SessionDep, body: ArticleUpdate
) -> ArticleOut:
    row = await service.update_article(session, article_id, body)
    await session.commit()
    return ArticleOut.model_validate(row)


@router.delete(
    "/kb/{article_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an article [Admin]"
)
async def delete_article(article_id: UUID, _: AdminUser, session: SessionDep) -> Response:
    await service.delete_article(session, article_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/kb/{article_id}/vote",
    summary="Say whether a published article helped [Public]",
    responses=_RATE_LIMITED,
)
async def vote_on_article(
    article_id: UUID,
    body: VoteRequest,
    request: Request,
    session: SessionDep,
    limiter: RateLimiterDep,
) -> ArticleVotes:
    await limiter.check(KB_VOTE, "kb-vote", request, str(article_id))
    row = await service.vote(session, article_id, helpful=body.helpful)
    await session.commit()
    return ArticleVotes.model_validate(row)


@router.get(
    "/tickets/suggest-kb/{ticket}",
    summary="Published articles that may answer a ticket you can see [Auth]",
)
async def suggest_articles(
    ticket: TicketPath,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[ArticleHit]:
    hits = await service.suggest_for_ticket(session, temporal, caller, ticket, limit=limit)
    return _hits(hits)
