"""Files uploaded to a ticket: bytes on disk (as inbound e-mail's), a row, a timeline entry.

The bytes are streamed to disk under a fresh id (never under the name the client sent), the
ticket's workflow puts the file on its timeline (the `attach` update, which refuses a closed
ticket), then the `attachments` row is written. A rejected update leaves no file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit
from uuid import UUID, uuid4

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.services import tickets as tickets_service
from api.services.inbound.attachments import StoredFile, link, safe_filename
from domain.enums import TicketStatus
from domain.errors import Conflict, NotFound
from domain.messages import AttachInput
from domain.views import TicketView
from persistence.models import Attachment, User
from persistence.repositories import tickets as tickets_repo

# What one upload may weigh (the request body limit in api/app.py must allow it too).
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
_CHUNK = 256 * 1024
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
FALLBACK_CONTENT_TYPE = "application/octet-stream"


def content_type_of(declared: str | None) -> str:
    """The client's content type if it is a plain `type/subtype`, else octet-stream."""
    value = (declared or "").split(";", 1)[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) and len(value) <= 255 else FALLBACK_CONTENT_TYPE


def path_of(url: str) -> Path | None:
    """The file behind a stored attachment's `file:` URL (None for any other URL)."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


async def save_upload(
    directory: Path, upload: UploadFile, limit: int = MAX_ATTACHMENT_BYTES
) -> StoredFile:
    """Stream `upload` into `directory` under a new id; 413 (nothing kept) past `limit`."""
    file_id = uuid4()
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    target = directory / file_id.hex
    partial = directory / f".{file_id.hex}.partial"
    size = 0
    out: BinaryIO = await asyncio.to_thread(partial.open, "wb")
    try:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise ApiError(
                    413, f"an attachment may be at most {limit} bytes", code="content_too_large"
                )
            await asyncio.to_thread(out.write, chunk)
    except BaseException:
        await asyncio.to_thread(out.close)
        await asyncio.to_thread(partial.unlink, missing_ok=True)
        raise
    await asyncio.to_thread(out.close)
    await asyncio.to_thread(partial.replace, target)  # atomic: never half a file
    return StoredFile(
        id=file_id,
        filename=safe_filename(upload.filename or ""),
        content_type=content_type_of(upload.content_type),
        size=size,
        url=target.resolve().as_uri(),
    )


async def discard(stored: StoredFile) -> None:
    if (path := path_of(stored.url)) is not None:
        with contextlib.suppress(OSError):
            await asyncio.to_thread(path.unlink, missing_ok=True)


async def attach(
    session: AsyncSession,
    client: Client,
    directory: Path,
    caller: User,
    ticket: tickets_service.TicketRef,
    upload: UploadFile,
) -> tuple[Attachment, TicketView]:
    """Store the file, put it on the ticket's timeline, record its row."""
    if ticket.view.status is TicketStatus.CLOSED:
        raise Conflict(f"ticket #{ticket.number} is closed; reopen it first")
    stored = await save_upload(directory, upload)
    payload = AttachInput(
        attachment_id=stored.id,
        filename=stored.filename,
        content_type=stored.content_type,
        size_bytes=stored.size,
        actor_id=caller.id,
    )
    try:
        view = await tickets_service.update_ticket(
            client, ticket, "attach", payload, update_id=f"attach-{stored.id}"
        )
    except BaseException:
        await discard(stored)
        raise
    # A brand-new ticket's row may still be on its way: `link` waits for it.
    await link(
        session, [stored], ticket_number=ticket.number, comment_id=None, uploaded_by=caller.id
    )
    row = await tickets_repo.get_attachment(session, ticket.view.id, stored.id)
    await session.commit()
    if row is None:  # the ticket was deleted meanwhile
        raise NotFound(f"no ticket {ticket.number}")
    return row, view


async def file_of(
    session: AsyncSession, ticket_id: UUID, attachment_id: UUID, *, include_private: bool
) -> tuple[Attachment, Path]:
    """An attachment of this ticket and where its bytes are; 404 if either is missing."""
    row = await tickets_repo.get_attachment(
        session, ticket_id, attachment_id, include_private=include_private
    )
    path = path_of(row.url) if row is not None else None
    if row is None or path is None or not await asyncio.to_thread(path.is_file):
        raise NotFound(f"no attachment {attachment_id} on this ticket")
    return row, path
