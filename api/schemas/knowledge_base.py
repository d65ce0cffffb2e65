"""Knowledge-base articles: markdown help pages anyone can read and agents write."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.common import ApiModel
from persistence.models.vocab import ArticleStatus

MAX_TAGS = 20
MAX_CONTENT_CHARS = 100_000
MAX_SEARCH_CHARS = 200

ArticleTitle = Annotated[str, Field(min_length=1, max_length=500)]
ArticleContent = Annotated[
    str, Field(min_length=1, max_length=MAX_CONTENT_CHARS, description="markdown")
]
ArticleCategory = Annotated[str, Field(min_length=1, max_length=100)]
ArticleTag = Annotated[str, Field(min_length=1, max_length=50)]


def _distinct(tags: list[str]) -> list[str]:
    """The tags in the order given, each once."""
    return list(dict.fromkeys(tags))


ArticleTags = Annotated[
    list[ArticleTag],
    Field(max_length=MAX_TAGS, description=f"at most {MAX_TAGS}; repeats are dropped"),
    AfterValidator(_distinct),
]


class ArticleCreate(ApiModel):
    title: ArticleTitle
    content: ArticleContent
    category: ArticleCategory | None = None
    tags: ArticleTags = Field(default_factory=list)
    status: ArticleStatus = Field(
        ArticleStatus.PUBLISHED, description="draft and archived articles only agents see"
    )


class ArticleUpdate(ApiModel):
    """Absent fields stay as they are; `null` clears the category."""

    title: ArticleTitle | None = None
    content: ArticleContent | None = None
    category: ArticleCategory | None = None
    tags: ArticleTags | None = None
    status: ArticleStatus | None = None


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    title: str
    content: str = Field(description="markdown")
    category: str | None
    tags: list[str]
    status: ArticleStatus
    views: int
    helpful_votes: int
    unhelpful_votes: int
    author_id: UUID
    created_at: datetime
    updated_at: datetime


class ArticleHit(ArticleOut):
    rank: float = Field(description="how well the article matches (ts_rank): higher is better")


class VoteRequest(ApiModel):
    helpful: bool = Field(strict=True, description="true: it helped; false: it did not")


class ArticleVotes(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    helpful_votes: int
    unhelpful_votes: int


class CategoryCount(BaseModel):
    category: str
    articles: int = Field(description="published articles in the category")
