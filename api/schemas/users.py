"""Users as the API shows and accepts them (never with a password hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from api.schemas.common import ApiModel
from domain.enums import Availability, Locale, Role, UserStatus

# A pragmatic check (one @, a dotted domain, no spaces); deliverability is proven by the
# verification e-mail, not by a regex. Stored lower-cased, as the users table requires.
Email = Annotated[
    str,
    Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["ana@example.com"]),
    AfterValidator(str.lower),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[SecretStr, Field(min_length=8, max_length=128)]
Phone = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^\+?[0-9 ().-]+$")]
Skill = Annotated[str, Field(min_length=1, max_length=64)]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    name: str
    role: Role
    department_id: UUID | None
    skills: list[str]
    status: UserStatus
    availability: Availability
    current_load: int
    locale: Locale
    phone: str | None
    # Set once the phone is proven by an SMS code; only then are texts from it bound here.
    phone_verified_at: datetime | None = None
    slack_user_id: str | None
    notification_preferences: dict[str, bool] = Field(default_factory=dict)
    email_verified_at: datetime | None = None
    last_login_at: datetime | None = None
    # True while the account holds a password it was handed: it must choose its own
    # (`PUT /auth/change-password`) before anything else is allowed.
    password_change_required: bool = False
    # Set once the account confirmed a second factor (TOTP); null without one.
    mfa_enabled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class UserCreate(ApiModel):
    email: Email
    password: Password
    name: Name
    role: Role = Role.USER
    department_id: UUID | None = None
    skills: list[Skill] = Field(default_factory=list, max_length=50)
    status: UserStatus = UserStatus.ACTIVE
    locale: Locale = Locale.EN
    phone: Phone | None = None
    slack_user_id: str | None = Field(None, max_length=64)


class UserUpdate(ApiModel):
    """What an administrator may change; absent fields stay as they are, null clears."""

    name: Name | None = None
    department_id: UUID | None = None
    skills: list[Skill] | None = Field(None, max_length=50)
    status: UserStatus | None = None
    locale: Locale | None = None
    phone: Phone | None = None
    slack_user_id: str | None = Field(None, max_length=64)


class RoleChange(ApiModel):
    role: Role


class AvailabilityChange(ApiModel):
    availability: Availability


NotifiedChannel = Literal["email", "sms", "push", "slack"]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


PushToken = Annotated[str, Field(min_length=1, max_length=4096)]


class ProfileUpdate(ApiModel):
    """What a user may change of their own account."""

    name: Name | None = None
    locale: Locale | None = None
    phone: Phone | None = None
    slack_user_id: str | None = Field(None, max_length=64)
    notification_preferences: dict[NotifiedChannel, bool] | None = Field(
        None,
        description="turn a channel on or off for every notification; absent channels keep "
        "their defaults (e-mail on, push for work and SLA alarms, SMS and Slack off)",
    )
    push_tokens: Annotated[list[PushToken], AfterValidator(_unique)] | None = Field(
        None, max_length=10, description="this user's FCM device tokens (replaces the list)"
    )
