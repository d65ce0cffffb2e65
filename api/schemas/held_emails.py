"""Held inbound e-mail as admins see it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from persistence.models import HeldEmail, HeldEmailStatus


class SenderChecksOut(BaseModel):
    """What SendGrid's receiving server reported about the sender, as it posted it."""

    spf: str | None = Field(description="the `SPF` field: `pass`, `softfail`, `fail`, `none`…")
    dkim: str | None = Field(description="the `dkim` field, e.g. `{@example.com : pass}`")
    envelope_from: str | None = Field(description="the SMTP `MAIL FROM` (return path)")


class HeldAttachmentOut(BaseModel):
    filename: str
    content_type: str | None
    size: int


class HeldEmailOut(BaseModel):
    """An e-mail whose `From:` domain did not vouch for it; it changed nothing."""

    id: UUID
    status: HeldEmailStatus = Field(description="`held`, `released` or `discarded`")
    sender: str = Field(description="the `From:` address it claims")
    sender_name: str
    recipients: list[str]
    subject: str
    body: str = Field(description="the sender's own text, quoted lines removed")
    message_id: str | None
    reason: str = Field(description="why it was held")
    checks: SenderChecksOut
    attachments: list[HeldAttachmentOut]
    ticket: int | None = Field(description="where a release landed it")
    comment_id: UUID | None = Field(description="the comment a release made, if a reply")
    decided_by: UUID | None
    decided_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: HeldEmail) -> HeldEmailOut:
        return cls(
            id=row.id,
            status=row.status,
            sender=row.sender,
            sender_name=row.sender_name,
            recipients=row.recipients,
            subject=row.subject,
            body=row.body,
            message_id=row.message_id,
            reason=row.reason,
            checks=SenderChecksOut(spf=row.spf, dkim=row.dkim, envelope_from=row.envelope_from),
            attachments=[
                HeldAttachmentOut(
                    filename=str(f["filename"]),
                    content_type=f.get("content_type"),
                    size=int(f["size"]),
                )
                for f in row.attachments
            ],
            ticket=row.ticket_number,
            comment_id=row.comment_id,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            created_at=row.created_at,
        )
