"""Files that came with an inbound e-mail: bytes in the file store, rows in `attachments`.

The bytes are written before the ticket is touched, under ids derived from the e-mail, so a
redelivery rewrites the same files and inserts no second row. A row points at its ticket (and
comment), which the ticket's workflow writes to the read model a moment after the webhook
started or signalled it; linking waits for that row, and asks the provider to redeliver (503)
if it does not come in time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID, uuid5

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import EngineUnavailableError
from api.services.file_store import FileStore
from api.services.inbound.mail import MailFile
from persistence.models import Attachment, Ticket, TicketComment

LINK_WAIT_S = 10.0
_POLL_S = 0.05
_ATTACHMENT_NS = UUID("0c6f2f55-2b8e-4f57-9a43-6d1f3c2b7e90")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class StoredFile:
    id: UUID
    filename: str
    content_type: str | None
    size: int
    url: str


def safe_filename(name: str) -> str:
    """The name as shown to people: no directories, no control characters, not too long."""
    base = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[:255] or "attachment"


async def store(
    file_store: FileStore, message_key: str, files: Sequence[MailFile]
) -> list[StoredFile]:
    """Save each file's bytes in the store; the ids follow from the message, so a redelivery
    overwrites."""
    stored = []
    for index, file in enumerate(files, start=1):
        file_id = uuid5(_ATTACHMENT_NS, f"{message_key}/{index}")
        url = await file_store.save_bytes(file_id, file.data)
        stored.append(
            StoredFile(
                id=file_id,
                filename=safe_filename(file.filename),
                content_type=(file.content_type or None),
                size=len(file.data),
                url=url,
            )
        )
    return stored


async def _ticket_id(session: AsyncSession, number: int, comment_id: UUID | None) -> UUID | None:
    if comment_id is not None:
        statement = select(TicketComment.ticket_id).where(TicketComment.id == comment_id)
    else:
        statement = select(Ticket.id).where(Ticket.number == number)
    return await session.scalar(statement)


async def link(
    session: AsyncSession,
    stored: Sequence[StoredFile],
    *,
    ticket_number: int,
    comment_id: UUID | None,
    uploaded_by: UUID,
    within: float = LINK_WAIT_S,
) -> None:
    """Record the files against the ticket (and comment) once the read model has them."""
    if not stored:
        return
    ticket_id = await _ticket_id(session, ticket_number, comment_id)
    waited = 0.0
    while ticket_id is None:
        if waited >= within:
            raise EngineUnavailableError(
                f"ticket #{ticket_number} is still being written; deliver the e-mail again"
            )
        await asyncio.sleep(_POLL_S)
        waited += _POLL_S
        ticket_id = await _ticket_id(session, ticket_number, comment_id)
    rows = [
        {
            "id": file.id,
            "ticket_id": ticket_id,
            "comment_id": comment_id,
            "filename": file.filename,
            "url": file.url,
            "content_type": file.content_type,
            "size_bytes": file.size,
            "uploaded_by": uploaded_by,
        }
        for file in stored
    ]
    await session.execute(insert(Attachment).on_conflict_do_nothing(index_elements=["id"]), rows)
    await session.commit()
