"""Knowledge-base articles, automation rules and response templates."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, ForeignKey, Index, func, literal_column, text, true
from sqlalchemy.orm import Mapped, mapped_column

from domain.enums import Locale
from persistence.models.base import Base, HasId, HasTimestamps, enum_check
from persistence.models.vocab import ArticleStatus, RuleTrigger

# Searches must use this expression for PostgreSQL to pick the GIN index. It is spelled as
# PostgreSQL prints it back, so autogenerate sees no difference with the database.
KB_SEARCH_SQL = "to_tsvector('simple'::regconfig, (title || ' '::text) || content)"


class KnowledgeBaseArticle(HasId, HasTimestamps, Base):
    __tablename__ = "knowledge_base_articles"
    __table_args__ = (
        enum_check("status", ArticleStatus),
        Index("ix_knowledge_base_articles_search", text(KB_SEARCH_SQL), postgresql_using="gin"),
    )

    title: Mapped[str]
    content: Mapped[str]  # markdown
    category: Mapped[str | None]
    tags: Mapped[list[str]] = mapped_column(default=list, server_default=text("'{}'"))
    relevance: Mapped[float] = mapped_column(default=0.0, server_default=text("0"))
    views: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    helpful_votes: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    unhelpful_votes: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    author_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ArticleStatus] = mapped_column(
        default=ArticleStatus.PUBLISHED, server_default=ArticleStatus.PUBLISHED.value
    )


def kb_matches(query: str) -> ColumnElement[bool]:
    """Articles matching a plain-text query, through the GIN index."""
    return literal_column(KB_SEARCH_SQL).op("@@")(func.plainto_tsquery("simple", query))


class AutomationRule(HasId, HasTimestamps, Base):
    __tablename__ = "automation_rules"
    __table_args__ = (enum_check("trigger", RuleTrigger),)

    name: Mapped[str]
    description: Mapped[str | None]
    trigger: Mapped[RuleTrigger]
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    actions: Mapped[list[dict[str, Any]]] = mapped_column(default=list, server_default=text("'[]'"))
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    position: Mapped[int] = mapped_column(default=0, server_default=text("0"), index=True)
    created_by: Mapped[UUID] = mapped_column(ForeignKey("users.id"))


class ResponseTemplate(HasId, HasTimestamps, Base):
    """A canned reply with `{{ticket.number}}`-style placeholders."""

    __tablename__ = "response_templates"
    __table_args__ = (enum_check("locale", Locale),)

    name: Mapped[str]
    category: Mapped[str | None]
    locale: Mapped[Locale] = mapped_column(default=Locale.EN, server_default=Locale.EN.value)
    body: Mapped[str]
    variables: Mapped[list[str]] = mapped_column(default=list, server_default=text("'{}'"))
    created_by: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
