"""Refresh tokens and single-use tokens (password reset, e-mail verification)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasCreatedAt, HasId, enum_check
from persistence.models.vocab import TokenPurpose


class RefreshToken(HasCreatedAt, Base):
    """A refresh token by its `jti`; rotation revokes it and links its successor."""

    __tablename__ = "refresh_tokens"

    id: Mapped[UUID] = mapped_column(primary_key=True, sort_order=-1)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[UUID | None]


class UserToken(HasId, HasCreatedAt, Base):
    """A single-use token sent by e-mail; only its hash is stored."""

    __tablename__ = "user_tokens"
    __table_args__ = (enum_check("purpose", TokenPurpose),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose]
    token_hash: Mapped[str] = mapped_column(unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RateLimitCounter(Base):
    """Attempts of one kind by one client in the current window, shared by every API process.

    The key is a hash: it names a client address and an e-mail, which need not be stored.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(primary_key=True)
    window_ends: Mapped[datetime] = mapped_column(index=True)
    hits: Mapped[int]
