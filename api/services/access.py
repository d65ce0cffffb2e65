"""Who may see and do what with a ticket (requesters: their own; agents: their team's)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.enums import Role, TicketStatus
from domain.errors import Forbidden
from persistence.models import User
from persistence.repositories.tickets import AllTickets, OwnTickets, Scope, scope_for


class TicketLike(Protocol):
    @property
    def requester_id(self) -> UUID: ...
    @property
    def assignee_id(self) -> UUID | None: ...
    @property
    def department_id(self) -> UUID: ...


def ticket_scope(user: User) -> Scope:
    departments = [user.department_id] if user.department_id else []
    return scope_for(user.id, user.role, departments)


def can_see(scope: Scope, ticket: TicketLike) -> bool:
    if isinstance(scope, AllTickets):
        return True
    if isinstance(scope, OwnTickets):
        return ticket.requester_id == scope.requester_id
    return ticket.department_id in scope.department_ids or scope.agent_id in (
        ticket.assignee_id,
        ticket.requester_id,
    )


def is_requester(user: User) -> bool:
    return not user.role.is_staff


# Requesters may settle or revive their own ticket, not run the agents' workflow states.
REQUESTER_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.REOPENED})


def check_staff(user: User, action: str) -> None:
    if user.role not in (Role.AGENT, Role.ADMIN):
        raise Forbidden(f"only agents and admins can {action}")


def check_status_allowed(user: User, status: TicketStatus) -> None:
    if is_requester(user) and status not in REQUESTER_STATUSES:
        allowed = ", ".join(sorted(REQUESTER_STATUSES))
        raise Forbidden(f"requesters can only move their ticket to {allowed}")
