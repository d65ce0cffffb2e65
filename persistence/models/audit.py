"""The audit log: who changed which entity, and how."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Index, func
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasId, enum_check
from persistence.models.vocab import AuditAction


class AuditLog(HasId, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        enum_check("action", AuditAction),
        Index(None, "entity", "entity_id", "occurred_at"),
    )

    # None: the system did it. No foreign key: ticket audit rows come from workflow state.
    user_id: Mapped[UUID | None]
    action: Mapped[AuditAction]
    entity: Mapped[str]
    entity_id: Mapped[UUID]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
