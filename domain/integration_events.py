"""The ticket events an integration can subscribe to, and which history entries raise them.

A status move always raises `ticket.status_changed`, whatever made it (an agent, a reply, an
assignment, a rule); resolving, closing and reopening also raise their own event, so a
subscriber picks whichever grain it needs. Private notes never leave the helpdesk.
"""

from __future__ import annotations

from enum import StrEnum

from domain.ticket import HistoryEntry


class TicketEvent(StrEnum):
    CREATED = "ticket.created"
    ASSIGNED = "ticket.assigned"
    STATUS_CHANGED = "ticket.status_changed"
    PRIORITY_CHANGED = "ticket.priority_changed"
    COMMENTED = "ticket.commented"
    RESOLVED = "ticket.resolved"
    CLOSED = "ticket.closed"
    REOPENED = "ticket.reopened"
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"
    INCIDENT_CREATED = "incident.created"


KNOWN_EVENTS: tuple[str, ...] = tuple(event.value for event in TicketEvent)

_E = TicketEvent
# History entry kind → the event it raises (status moves add `ticket.status_changed`).
_EVENT_OF_KIND: dict[str, TicketEvent] = {
    "created": _E.CREATED,
    "assigned": _E.ASSIGNED,
    "status_changed": _E.STATUS_CHANGED,
    "priority_changed": _E.PRIORITY_CHANGED,
    "commented": _E.COMMENTED,
    "resolved": _E.RESOLVED,
    "closed": _E.CLOSED,
    "reopened": _E.REOPENED,
    "sla.warned": _E.SLA_WARNING,
    "sla.breached": _E.SLA_BREACHED,
    "automation.incident": _E.INCIDENT_CREATED,
}
# Kinds that are sent only when the entry is public: a private note stays inside.
_PUBLIC_ONLY = frozenset({"commented"})


def events_for(entry: HistoryEntry) -> list[str]:
    """The events `entry` raises, in a stable order; empty for entries nobody subscribes to."""
    if entry.kind in _PUBLIC_ONLY and not entry.public:
        return []
    events: list[str] = []
    if "status" in entry.changes:
        events.append(_E.STATUS_CHANGED.value)
    event = _EVENT_OF_KIND.get(entry.kind)
    if event is not None and event.value not in events:
        events.append(event.value)
    return events


__all__ = ["KNOWN_EVENTS", "TicketEvent", "events_for"]
