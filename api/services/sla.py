"""Breached tickets and one ticket's SLA report."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.sla import BreachedTicket, SlaEventOut, TicketSlaReport
from api.services import tickets as tickets_service
from persistence.models import SlaHistory
from persistence.repositories import tickets as tickets_repo
from persistence.repositories.tickets import TicketBreaches


def event_out(event: SlaHistory) -> SlaEventOut:
    return SlaEventOut.model_validate(
        {
            "metric": event.metric,
            "cycle": event.cycle,
            "event": event.event,
            "target": timedelta(seconds=event.target_seconds),
            "elapsed": timedelta(seconds=event.elapsed_seconds),
            "state": event.state,
            "due_at": event.due_at,
            "fraction": event.fraction,
            "occurred_at": event.occurred_at,
        }
    )


def breached_ticket(item: TicketBreaches) -> BreachedTicket:
    view = tickets_service.view_from_row(item.ticket, tickets_service.utcnow())
    return BreachedTicket(
        ticket_id=view.id,
        number=view.number,
        title=view.title,
        status=view.status,
        priority=view.priority,
        assignee_id=view.assignee_id,
        department_id=view.department_id,
        sla_state=item.ticket.sla_state,
        sla=view.sla,
        breaches=[event_out(e) for e in item.breaches],
    )


async def sla_report(
    session: AsyncSession, client: Client, ticket: tickets_service.TicketRef
) -> TicketSlaReport:
    sla = await tickets_service.query_sla(client, ticket)
    events = await tickets_repo.sla_history(session, ticket.view.id)
    return TicketSlaReport(
        ticket_id=ticket.view.id,
        number=ticket.number,
        sla=sla,
        events=[event_out(e) for e in events],
    )
