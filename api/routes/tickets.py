"""`/tickets`: open, list, read and work tickets; every change is a workflow update."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, Header, Path, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from api.deps import (
    AdminUser,
    AgentUser,
    CurrentUser,
    FilesDep,
    MetricsDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.paths import API_PREFIX
from api.quotas import QuotasDep
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.tickets import (
    AssignRequest,
    AttachmentCreated,
    AttachmentOut,
    CommentCreate,
    CommentCreated,
    CommentOut,
    MergeRequest,
    PriorityChange,
    RateRequest,
    ResolveRequest,
    StatusChange,
    TicketCreate,
    TicketEdit,
    TicketHit,
)
from api.services import access, ratings
from api.services import ticket_attachments as attachments
from api.services import tickets as service
from api.services.requester_fields import check_requester_ticket
from domain.enums import ClockState, Priority, TicketStatus
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.messages import (
    AssignInput,
    CloseInput,
    CommentInput,
    MergeInput,
    ReopenInput,
    ResolveInput,
    SetPriorityInput,
    SetStatusInput,
)
from domain.ticket import HistoryEntry
from domain.views import SlaView, TicketView
from persistence.repositories import tickets as tickets_repo

router = APIRouter(prefix=f"{API_PREFIX}/tickets", tags=["tickets"], responses=PROBLEM_RESPONSES)

TicketPath = Annotated[str, Path(description="the ticket's number or UUID", max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="repeat a creation safely: the same key gives back the same ticket (200)",
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open a ticket [Auth]",
    responses={200: {"model": TicketView, "description": "replayed: same Idempotency-Key"}},
)
async def create_ticket(
    body: TicketCreate,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    quotas: QuotasDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TicketView:
    """Requesters give urgency and impact (a `priority` of theirs is a 422), and open at most
    `TICKETFLOW_QUOTA_TICKETS_PER_HOUR` tickets an hour (429 beyond); staff are free of both."""
    check_requester_ticket(caller, body)
    opened = await service.open_new_ticket(
        session,
        temporal,
        settings,
        caller,
        body,
        idempotency_key,
        before_start=lambda: quotas.open_ticket(caller, session),
    )
    if opened.created:
        metrics.tickets_created.labels(opened.ticket.priority, opened.ticket.source).inc()
    else:
        response.status_code = status.HTTP_200_OK
    return opened.ticket


@router.get("", summary="List the tickets you may see [Auth]")
async def list_tickets(
    caller: CurrentUser,
    session: SessionDep,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    priority: Priority | None = None,
    assignee_id: UUID | None = None,
    department_id: UUID | None = None,
    requester_id: UUID | None = None,
    sla_state: ClockState | None = None,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[TicketView]:
    filters = tickets_repo.TicketFilters(
        status=status_,
        priority=priority,
        assignee_id=assignee_id,
        department_id=department_id,
        requester_id=requester_id,
        sla_state=sla_state,
    )
    page = await tickets_repo.list_tickets(
        session, access.ticket_scope(caller), filters, limit=limit, cursor=cursor
    )
    now = service.utcnow()
    items = [service.view_from_row(row, now) for row in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/search", summary="Full-text search over the tickets you may see [Auth]")
async def search_tickets(
    caller: CurrentUser,
    session: SessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description='words, "a phrase", `or`, `-word`; title, description, public replies',
        ),
    ],
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[TicketHit]:
    if not q.strip() or "\x00" in q:
        raise InvalidInput("q needs at least one word")
    return await service.search_tickets(session, caller, q, limit=limit, cursor=cursor)


@router.get("/{ticket}", summary="A ticket [Auth]")
async def get_ticket(
    ticket: TicketPath, caller: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> TicketView:
    return (await service.find_ticket(session, temporal, caller, ticket)).view


@router.put(
    "/{ticket}",
    summary="Edit title, description, category, subcategory, tags [Auth]",
    description="Requesters: only the title and description of their own open ticket.",
)
async def edit_ticket(
    ticket: TicketPath,
    body: TicketEdit,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> TicketView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    return await service.edit_ticket(session, temporal, caller, found, body)


@router.delete(
    "/{ticket}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a ticket: its workflow ends, its rows go (the audit log keeps it) [Admin]",
)
async def delete_ticket(
    ticket: TicketPath, caller: AdminUser, session: SessionDep, temporal: TemporalDep
) -> Response:
    found = await service.find_ticket(session, temporal, caller, ticket)
    await service.delete_ticket(session, temporal, caller, found)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{ticket}/attachment",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file to a ticket (multipart field `file`) [Auth]",
)
async def upload_attachment(
    ticket: TicketPath,
    file: UploadFile,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    files: FilesDep,
    quotas: QuotasDep,
) -> AttachmentCreated:
    """Requesters may upload `TICKETFLOW_QUOTA_UPLOAD_MB_PER_HOUR` MB an hour (429 beyond)."""
    found = await service.find_ticket(session, temporal, caller, ticket)
    row, view = await attachments.attach(
        session, temporal, files, caller, found, file, charge=quotas.upload
    )
    return AttachmentCreated(**AttachmentOut.model_validate(row).model_dump(), ticket=view)


@router.get("/{ticket}/attachments", summary="A ticket's files, oldest first [Auth]")
async def list_attachments(
    ticket: TicketPath,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[AttachmentOut]:
    found = await service.find_ticket(session, temporal, caller, ticket)
    page = await tickets_repo.list_attachments(
        session,
        found.view.id,
        include_private=not access.is_requester(caller),
        limit=limit,
        cursor=cursor,
    )
    items = [AttachmentOut.model_validate(a) for a in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get(
    "/{ticket}/attachments/{attachment_id}",
    summary="Download a file of a ticket [Auth]",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_attachment(
    ticket: TicketPath,
    attachment_id: UUID,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    files: FilesDep,
) -> StreamingResponse:
    found = await service.find_ticket(session, temporal, caller, ticket)
    row = await attachments.file_of(
        session, found.view.id, attachment_id, include_private=not access.is_requester(caller)
    )
    await session.commit()
    # Streamed through here, never a link to the store: the checks above are the only way in.
    download = await attachments.open_file(files, row)
    return StreamingResponse(
        download.chunks,
        media_type=row.content_type or attachments.FALLBACK_CONTENT_TYPE,
        headers={
            "Content-Length": str(download.size),
            # Always a download, never rendered in our origin (an uploaded page could run script).
            "Content-Disposition": attachments.content_disposition(row.filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.patch("/{ticket}/status", summary="Move a ticket to another status [Auth]")
async def set_status(
    ticket: TicketPath,
    body: StatusChange,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> TicketView:
    access.check_status_allowed(caller, body.status)
    found = await service.find_ticket(session, temporal, caller, ticket)
    payload = SetStatusInput(status=body.status, note=body.note, actor_id=caller.id)
    return await service.update_ticket(temporal, found, "set_status", payload, update_id=None)


@router.patch("/{ticket}/assign", summary="Assign a ticket to an agent [Agent]")
async def assign(
    ticket: TicketPath,
    body: AssignRequest,
    caller: AgentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> TicketView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    if body.assignee_id is not None:
        await service.check_assignee(session, body.assignee_id)
    payload = AssignInput(assignee_id=body.assignee_id, actor_id=caller.id)
    return await service.update_ticket(temporal, found, "assign", payload, update_id=None)


@router.patch("/{ticket}/priority", summary="Change a ticket's priority [Agent]")
async def set_priority(
    ticket: TicketPath,
    body: PriorityChange,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> TicketView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    access.check_staff(caller, "change a ticket's priority")
    payload = SetPriorityInput(priority=body.priority, actor_id=caller.id)
    return await service.update_ticket(temporal, found, "set_priority", payload, update_id=None)


@router.patch("/{ticket}/close", summary="Close a ticket [Auth]")
async def close(
    ticket: TicketPath, caller: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> TicketView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    payload = CloseInput(actor_id=caller.id)
    return await service.update_ticket(temporal, found, "close", payload, update_id=None)


@router.post("/{ticket}/resolve", summary="Resolve a ticket, with its solution [Auth]")
async def resolve(
    ticket: TicketPath,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    body: ResolveRequest | None = None,
) -> TicketView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    payload = ResolveInput(solution=body.solution if body else None, actor_id=caller.id)
    return await service.update_ticket(temporal, found, "resolve", payload, update_id=None)


@router.post("/{ticket}/reopen", summary="Reopen a resolved or recently closed ticket [Auth]")
async def reopen(
    ticket: TicketPath, caller: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> TicketView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    payload = ReopenInput(actor_id=caller.id)
    return await service.update_ticket(temporal, found, "reopen", payload, update_id=None)


@router.post(
    "/{ticket}/comment",
    status_code=status.HTTP_201_CREATED,
    summary="Reply, or add a private note (staff) [Auth]",
)
async def comment(
    ticket: TicketPath,
    body: CommentCreate,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> CommentCreated:
    if body.private and access.is_requester(caller):
        raise Forbidden("only agents and admins can write private notes")
    found = await service.find_ticket(session, temporal, caller, ticket)
    comment_id = uuid4()
    payload = CommentInput(
        comment_id=comment_id,
        author_id=caller.id,
        author_role=caller.role,
        body=body.body,
        private=body.private,
        mentions=body.mentions,
        attachments=body.attachments,
    )
    view = await service.update_ticket(
        temporal, found, "comment", payload, update_id=f"comment-{comment_id}"
    )
    return CommentCreated(
        id=comment_id,
        ticket_id=view.id,
        author_id=caller.id,
        body=body.body,
        private=body.private,
        mentions=body.mentions,
        attachments=body.attachments,
        created_at=view.updated_at,
        ticket=view,
    )


@router.get("/{ticket}/comments", summary="A ticket's conversation, oldest first [Auth]")
async def list_comments(
    ticket: TicketPath,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[CommentOut]:
    found = await service.find_ticket(session, temporal, caller, ticket)
    page = await tickets_repo.list_comments(
        session,
        found.view.id,
        include_private=not access.is_requester(caller),
        limit=limit,
        cursor=cursor,
    )
    items = [CommentOut.model_validate(c) for c in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.post("/{ticket}/rate", summary="Rate the help you got, 1 to 10 [Requester]")
async def rate(
    ticket: TicketPath,
    body: RateRequest,
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> TicketView:
    return await ratings.rate_ticket(session, temporal, caller, ticket, body.score, body.feedback)


@router.post("/{ticket}/merge", summary="Close a duplicate; the other ticket carries on [Agent]")
async def merge(
    ticket: TicketPath,
    body: MergeRequest,
    caller: AgentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> TicketView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    into = await service.find_ticket(session, temporal, caller, body.into)
    if into.view.status is TicketStatus.CLOSED:
        raise Conflict(f"ticket #{into.number} is closed; merge into an open ticket")
    payload = MergeInput(into_id=into.view.id, into_number=into.number, actor_id=caller.id)
    merged = await service.update_ticket(temporal, found, "merge", payload, update_id=None)
    note = CommentInput(
        author_id=caller.id,
        author_role=caller.role,
        body=f"Ticket #{found.number} ({found.view.title}) was merged into this one.",
        private=True,
        # One note per merge, however often the request is retried.
        comment_id=uuid5(found.view.id, f"merged-into/{into.view.id}"),
    )
    await service.update_ticket(temporal, into, "comment", note, update_id=None)
    return merged


@router.get("/{ticket}/sla", summary="The ticket's SLA clocks, live [Auth]")
async def get_sla(
    ticket: TicketPath, caller: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> SlaView:
    found = await service.find_ticket(session, temporal, caller, ticket)
    return await service.query_sla(temporal, found)


@router.get("/{ticket}/history", summary="The ticket's timeline, from its workflow [Auth]")
async def get_history(
    ticket: TicketPath, caller: CurrentUser, session: SessionDep, temporal: TemporalDep
) -> list[HistoryEntry]:
    found = await service.find_ticket(session, temporal, caller, ticket)
    history = await service.query_history(
        temporal, found, include_private=not access.is_requester(caller)
    )
    return list(history)
