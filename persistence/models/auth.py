"""Refresh tokens, single-use tokens (password reset, e-mail verification, invitation) and
the codes that prove a phone number."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasCreatedAt, HasId, enum_check
from persistence.models.vocab import TokenChannel, TokenPurpose


class RefreshToken(HasCreatedAt, Base):
    """A refresh token by its `jti`; rotation revokes it and links its successor."""

    __tablename__ = "refresh_tokens"

    id: Mapped[UUID] = mapped_column(primary_key=True, sort_order=-1)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[UUID | None]


class UserToken(HasId, HasCreatedAt, Base):
    """A single-use token sent in a link; only its hash is stored."""

    __tablename__ = "user_tokens"
    __table_args__ = (enum_check("purpose", TokenPurpose), enum_check("channel", TokenChannel))

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose]
    token_hash: Mapped[str] = mapped_column(unique=True)
    # Where the link went: using it proves that the user reads that mailbox (or phone).
    channel: Mapped[TokenChannel] = mapped_column(
        default=TokenChannel.EMAIL, server_default=TokenChannel.EMAIL.value
    )
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PhoneCode(HasId, HasCreatedAt, Base):
    """A six-digit code texted to a phone the user says is theirs.

    Only a keyed hash is kept (six digits are too few for a plain hash to hide); the code
    works once, for a few minutes and a few tries, and only the latest one a user asked for.
    """

    __tablename__ = "phone_codes"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str]  # the number the code went to, as the user typed it
    code_hash: Mapped[str]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    used_at: Mapped[datetime | None]


class RateLimitCounter(Base):
    """Attempts of one kind by one client in the current window, shared by every API process.

    The key is a hash: it names a client address and an e-mail, which need not be stored.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(primary_key=True)
    window_ends: Mapped[datetime] = mapped_column(index=True)
    hits: Mapped[int]
