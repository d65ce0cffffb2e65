"""Files uploaded to a ticket: bytes in the file store (as inbound e-mail's), a row, a
timeline entry.

The bytes are streamed to the store under a fresh id (never under the name the client sent),
the ticket's workflow puts the file on its timeline (the `attach` update, which refuses a
closed ticket), then the `attachments` row is written. A rejected update leaves no file behind.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from urllib.parse import quote
from uuid import UUID, uuid4

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.services import tickets as tickets_service
from api.services.file_store import ContentTooLarge, Download, FileStore, StorageUnavailable
from api.services.inbound.attachments import StoredFile, link, safe_filename
from domain.enums import TicketStatus
from domain.errors import Conflict, NotFound
from domain.messages import AttachInput
from domain.views import TicketView
from persistence.models import Attachment, User
from persistence.repositories import tickets as tickets_repo

log = logging.getLogger(__name__)

# What one upload may weigh (the request body limit in api/app.py must allow it too).
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
FALLBACK_CONTENT_TYPE = "application/octet-stream"


def content_type_of(declared: str | None) -> str:
    """The client's content type if it is a plain `type/subtype`, else octet-stream."""
    value = (declared or "").split(";", 1)[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) and len(value) <= 255 else FALLBACK_CONTENT_TYPE


def content_disposition(filename: str) -> str:
    """`attachment` with the file's name, as Starlette's FileResponse writes it (RFC 6266)."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


async def save_upload(
    files: FileStore, upload: UploadFile, limit: int = MAX_ATTACHMENT_BYTES
) -> StoredFile:
    """Stream `upload` into the store under a new id; 413 (nothing kept) past `limit`."""
    file_id = uuid4()
    saved = await files.save_stream(file_id, upload, limit=limit)
    return StoredFile(
        id=file_id,
        filename=safe_filename(upload.filename or ""),
        content_type=content_type_of(upload.content_type),
        size=saved.size,
        url=saved.url,
    )


async def discard(files: FileStore, stored: StoredFile) -> None:
    """Remove a file no row will point at; failing that, leave it (the caller's error wins)."""
    try:
        await files.delete(stored.url)
    except StorageUnavailable:
        log.warning("attachment %s was left in the store with no row", stored.url)


# Counts an upload of this many bytes by this user for the block that takes it (a quota).
UploadCharge = Callable[[User, int], AbstractAsyncContextManager[None]]


def upload_size(upload: UploadFile) -> int:
    """The bytes of an upload as received (spooled by the multipart parser)."""
    if upload.size is not None:
        return upload.size
    at = upload.file.tell()
    size = upload.file.seek(0, io.SEEK_END)
    upload.file.seek(at)
    return size


async def attach(
    session: AsyncSession,
    client: Client,
    files: FileStore,
    caller: User,
    ticket: tickets_service.TicketRef,
    upload: UploadFile,
    charge: UploadCharge | None = None,
) -> tuple[Attachment, TicketView]:
    """Store the file, put it on the ticket's timeline, record its row.

    `charge` counts the upload before anything is stored; a failure after it gives it back.
    A closed ticket (409) and a file over the size limit (413) are refused before it.
    """
    if ticket.view.status is TicketStatus.CLOSED:
        raise Conflict(f"ticket #{ticket.number} is closed; reopen it first")
    size = upload_size(upload)
    if size > MAX_ATTACHMENT_BYTES:
        raise ContentTooLarge(MAX_ATTACHMENT_BYTES)
    async with charge(caller, size) if charge else nullcontext():
        return await _attach(session, client, files, caller, ticket, upload)


async def _attach(
    session: AsyncSession,
    client: Client,
    files: FileStore,
    caller: User,
    ticket: tickets_service.TicketRef,
    upload: UploadFile,
) -> tuple[Attachment, TicketView]:
    stored = await save_upload(files, upload)
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
        await discard(files, stored)
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
) -> Attachment:
    """An attachment of this ticket (404 if missing, or not the caller's to see)."""
    row = await tickets_repo.get_attachment(
        session, ticket_id, attachment_id, include_private=include_private
    )
    if row is None:
        raise NotFound(f"no attachment {attachment_id} on this ticket")
    return row


async def open_file(files: FileStore, row: Attachment) -> Download:
    """The attachment's bytes for reading; 404 if they are gone from the store."""
    download = await files.open(row.url)
    if download is None:
        raise NotFound(f"no attachment {row.id} on this ticket")
    return download
