"""The messages of a scheduled report: what a schedule asks for, and what a run sent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.durations import IsoDuration

SEND_REPORT = "send_report"  # activities.reports.send

ReportKind = Literal["tickets", "agents"]
ReportFormat = Literal["csv", "xlsx", "pdf"]


class ReportJob(BaseModel):
    """What a schedule asks for on every run."""

    model_config = ConfigDict(frozen=True)

    kind: ReportKind
    format: ReportFormat
    recipients: list[str] = Field(min_length=1)
    look_back: IsoDuration = Field(
        description="Each run reports on the period ending at its start."
    )
    department_id: UUID | None = None


class ReportRun(BaseModel):
    """One run's job and period; `key` (the run's workflow id) makes its e-mails idempotent."""

    model_config = ConfigDict(frozen=True)

    job: ReportJob
    since: datetime
    until: datetime
    key: str


class Delivery(BaseModel):
    to: str
    provider_message_id: str | None = None
    recorded_only: bool = False


class ReportSent(BaseModel):
    """What a run produced and where it went."""

    file_name: str
    content_type: str
    size_bytes: int
    rows: int
    deliveries: list[Delivery]
