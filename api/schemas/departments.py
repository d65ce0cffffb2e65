"""Departments: who works a ticket, how soon resolved tickets close, how long they may reopen."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ApiModel, PositiveDuration
from api.schemas.users import Email
from domain.durations import IsoDuration
from domain.ticket import DEFAULT_AUTO_CLOSE_AFTER, DEFAULT_REOPEN_WINDOW

DepartmentName = Annotated[str, Field(min_length=1, max_length=120)]
Description = Annotated[str, Field(max_length=4000)]


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    description: str | None
    notification_email: str | None
    manager_id: UUID | None
    auto_close_after: IsoDuration
    reopen_window: IsoDuration
    created_at: datetime
    updated_at: datetime


class DepartmentCreate(ApiModel):
    name: DepartmentName
    description: Description | None = None
    notification_email: Email | None = None
    manager_id: UUID | None = None
    auto_close_after: PositiveDuration = Field(
        DEFAULT_AUTO_CLOSE_AFTER, description="resolved tickets close after this (ISO 8601)"
    )
    reopen_window: PositiveDuration = Field(
        DEFAULT_REOPEN_WINDOW, description="how long a closed ticket may be reopened (ISO 8601)"
    )


class DepartmentUpdate(ApiModel):
    """Absent fields stay as they are; `null` clears an optional field."""

    name: DepartmentName | None = None
    description: Description | None = None
    notification_email: Email | None = None
    manager_id: UUID | None = None
    auto_close_after: PositiveDuration | None = None
    reopen_window: PositiveDuration | None = None
