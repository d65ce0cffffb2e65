"""E-mail held back because its `From:` domain did not vouch for it, until an admin decides.

Held mail changes nothing: no account is made for its sender, no ticket is opened, replied
to, reopened or resolved, nobody is notified. Its attachments are written to the store under
the ids landing would give them, so a release links the very same files. An admin then
**releases** it (it lands as its `From:` sender's, exactly as an aligned e-mail would: the
admin vouches for the sender) or **discards** it (its files are deleted).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.services.file_store import FileStore
from api.services.inbound import attachments, mailbox
from api.services.inbound.attachments import StoredFile
from api.services.inbound.authenticity import Verdict
from api.services.inbound.mail import InboundEmail, MailFile, SenderChecks
from domain.errors import Conflict, NotFound
from persistence.models import HeldEmail, HeldEmailStatus, User
from persistence.repositories import held_emails as held_repo
from ticketflow.settings import Settings

log = logging.getLogger(__name__)


async def hold(
    session: AsyncSession, files: FileStore, mail: InboundEmail, verdict: Verdict
) -> UUID:
    """Keep the e-mail for an admin; the held e-mail's id (the same for a redelivery)."""
    stored = await attachments.store(files, mail.key, mail.attachments)
    held_id = await held_repo.hold(
        session,
        {
            "message_key": mail.key,
            "message_id": mail.message_id,
            "fingerprint": mail.fingerprint,
            "sender": mail.sender,
            "sender_name": mail.sender_name,
            "recipients": list(mail.recipients),
            "subject": mail.subject,
            "body": mail.body,
            "references": list(mail.references),
            "spf": mail.checks.spf,
            "dkim": mail.checks.dkim,
            "envelope_from": mail.checks.envelope_from,
            "reason": verdict.reason,
            "attachments": [{**asdict(f), "id": str(f.id)} for f in stored],
        },
    )
    await session.commit()
    log.info("held inbound e-mail %s: its sender's domain does not vouch for it", held_id)
    return held_id


async def _found(session: AsyncSession, held_id: UUID) -> HeldEmail:
    row = await held_repo.get(session, held_id)
    if row is None:
        raise NotFound(f"no held e-mail {held_id}")
    return row


def _already(row: HeldEmail) -> Conflict:
    if row.status is HeldEmailStatus.RELEASED:
        return Conflict(f"this e-mail was released already, to ticket #{row.ticket_number}")
    return Conflict("this e-mail was discarded")


def stored_files(row: HeldEmail) -> list[StoredFile]:
    return [
        StoredFile(
            id=UUID(str(f["id"])),
            filename=str(f["filename"]),
            content_type=f.get("content_type"),
            size=int(f["size"]),
            url=str(f["url"]),
        )
        for f in row.attachments
    ]


async def _read_back(files: FileStore, stored: list[StoredFile]) -> tuple[MailFile, ...]:
    """The held attachments' bytes, to land with the e-mail (a file gone is left out)."""
    read = []
    for file in stored:
        download = await files.open(file.url)
        if download is None:
            log.warning("a held e-mail's attachment %s is gone from the store", file.id)
            continue
        data = b"".join([chunk async for chunk in download.chunks])
        read.append(MailFile(file.filename, file.content_type, data))
    return tuple(read)


def _as_mail(row: HeldEmail, files: tuple[MailFile, ...]) -> InboundEmail:
    return InboundEmail(
        sender=row.sender,
        sender_name=row.sender_name,
        recipients=tuple(row.recipients),
        subject=row.subject,
        body=row.body,
        message_id=row.message_id,
        references=tuple(row.references),
        auto_submitted=False,
        attachments=files,
        fingerprint=row.fingerprint,
        checks=SenderChecks(spf=row.spf, dkim=row.dkim, envelope_from=row.envelope_from),
    )


async def release(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    files: FileStore,
    held_id: UUID,
    admin: User,
) -> HeldEmail:
    """Land the held e-mail as its sender's (the admin vouches for them); the updated row.

    Decided first, so a concurrent discard cannot follow; landing is idempotent (the e-mail's
    comment id and idempotency key follow from it), so a release retried after the ticket
    engine failed lands it once.
    """
    decided = await held_repo.decide(session, held_id, HeldEmailStatus.RELEASED, admin.id)
    if decided is None:
        raise _already(await _found(session, held_id))
    await session.commit()
    mail = _as_mail(decided, await _read_back(files, stored_files(decided)))
    landed = await mailbox.receive_email(session, client, settings, files, mail)
    row = await held_repo.landed(session, held_id, landed.ticket, landed.comment_id)
    await session.commit()
    if row is None:
        raise NotFound(f"no held e-mail {held_id}")
    log.info("held inbound e-mail %s released to ticket #%s", held_id, landed.ticket)
    return row


async def discard(session: AsyncSession, files: FileStore, held_id: UUID, admin: User) -> HeldEmail:
    """Throw the held e-mail away: its row stays as the record, its files are deleted."""
    decided = await held_repo.decide(session, held_id, HeldEmailStatus.DISCARDED, admin.id)
    if decided is None:
        raise _already(await _found(session, held_id))
    await session.commit()
    for file in stored_files(decided):
        await files.delete(file.url)
    return decided
