"""Users and the departments they work in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, func, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.enums import Availability, Locale, Role, UserStatus
from persistence.models.base import Base, HasId, HasTimestamps, enum_check


class Department(HasId, HasTimestamps, Base):
    __tablename__ = "departments"

    name: Mapped[str] = mapped_column(unique=True)
    description: Mapped[str | None]
    notification_email: Mapped[str | None]
    # users.department_id points back here: this side is added after both tables exist.
    manager_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    auto_close_after: Mapped[timedelta] = mapped_column(server_default=text("'3 days'"))
    reopen_window: Mapped[timedelta] = mapped_column(server_default=text("'30 days'"))


class User(HasId, HasTimestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        # Stored lower-cased, so the unique index on lower(email) is also the lookup index.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
        enum_check("role", Role),
        enum_check("status", UserStatus),
        enum_check("availability", Availability),
        enum_check("locale", Locale),
        # A number proven by an SMS code belongs to one account, however it is written:
        # texts from it are bound to that account alone.
        Index(
            "uq_users_verified_phone",
            func.regexp_replace(text("phone"), r"\D", "", "g"),
            unique=True,
            postgresql_where=text("phone_verified_at IS NOT NULL"),
        ),
        CheckConstraint("current_load >= 0", name="current_load_not_negative"),
        CheckConstraint("max_load >= 1", name="max_load_positive"),
    )

    email: Mapped[str]
    # None: no password yet (an account made from an inbound e-mail or SMS, or taken back
    # from an unproven registration); nobody can log in until a link sets one.
    password_hash: Mapped[str | None]
    name: Mapped[str]
    role: Mapped[Role] = mapped_column(default=Role.USER, server_default=Role.USER.value)
    department_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    skills: Mapped[list[str]] = mapped_column(default=list, server_default=text("'{}'"))
    status: Mapped[UserStatus] = mapped_column(
        default=UserStatus.ACTIVE, server_default=UserStatus.ACTIVE.value
    )
    availability: Mapped[Availability] = mapped_column(
        default=Availability.OFFLINE, server_default=Availability.OFFLINE.value
    )
    current_load: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Routing (persistence/routing.py): no new work past `max_load` open tickets; ties in
    # load go to whoever was picked longest ago (never picked: first).
    max_load: Mapped[int] = mapped_column(default=10, server_default=text("10"))
    last_assigned_at: Mapped[datetime | None]
    locale: Mapped[Locale] = mapped_column(default=Locale.EN, server_default=Locale.EN.value)
    phone: Mapped[str | None]
    # Set when the user typed the code texted to `phone`; any change of number clears it.
    phone_verified_at: Mapped[datetime | None]
    slack_user_id: Mapped[str | None]
    # Channel name → wanted or not; a channel not named keeps its default.
    notification_preferences: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=text("'{}'")
    )
    # Firebase Cloud Messaging device tokens, one per signed-in device.
    push_tokens: Mapped[list[str]] = mapped_column(default=list, server_default=text("'{}'"))
    email_verified_at: Mapped[datetime | None]
    # A generated password handed to an operator (`ticketflow init`, `ticketflow admin`) works
    # once: until the account chooses its own, it can do nothing but change it.
    password_change_required: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    last_login_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # TOTP second factor (api.services.mfa): the secret, Fernet-encrypted with
    # TICKETFLOW_SECRETS_KEY; it counts only once confirmed (`mfa_enabled_at`). The last
    # time step a code was accepted for, so that a code is never accepted twice.
    mfa_secret: Mapped[str | None]
    mfa_enabled_at: Mapped[datetime | None]
    mfa_last_step: Mapped[int | None]
