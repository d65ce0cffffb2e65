"""Refresh tokens, single-use tokens (password reset, e-mail verification, invitation) and
the codes that prove a phone number."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasCreatedAt, HasId, enum_check
from persistence.models.vocab import TokenChannel, TokenPurpose


class RefreshToken(HasCreatedAt, Base):
    """A refresh token by its `jti`; rotation revokes it and links its successor.

    Every token of one login shares its `session_id`, which the session's access tokens
    carry: the session is live while one of its refresh tokens is unrevoked, so revoking
    them ends its access tokens too (checked on every request, `live_session_user`).
    """

    __tablename__ = "refresh_tokens"
    # The per-request check: this session's unrevoked token, found by the index alone.
    __table_args__ = (Index("ix_refresh_tokens_session_id_revoked_at", "session_id", "revoked_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, sort_order=-1)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[UUID]
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


class MfaRecoveryCode(HasId, HasCreatedAt, Base):
    """A single-use recovery code of a user's second factor; only its hash is stored."""

    __tablename__ = "mfa_recovery_codes"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(unique=True)
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins counted under one key (an account, an address, or both), for every
    API process: how many in the current window, and until when the key must wait.

    The key is a hash, like the rate-limit counters': no address or e-mail is stored.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(primary_key=True)
    failures: Mapped[int]
    window_ends: Mapped[datetime] = mapped_column(index=True)
    retry_at: Mapped[datetime | None]
