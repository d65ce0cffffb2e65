"""The ticket status machine and the ITIL priority matrix, kept as data."""

from __future__ import annotations

from collections.abc import Mapping

from domain.enums import Impact, Priority, TicketStatus, Urgency
from domain.errors import IllegalTransition

_S = TicketStatus

TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    _S.NEW: frozenset({_S.IN_PROGRESS, _S.ON_HOLD, _S.RESOLVED, _S.CLOSED}),
    _S.IN_PROGRESS: frozenset({_S.ON_HOLD, _S.RESOLVED, _S.CLOSED}),
    _S.ON_HOLD: frozenset({_S.IN_PROGRESS, _S.RESOLVED, _S.CLOSED}),
    _S.RESOLVED: frozenset({_S.CLOSED, _S.REOPENED}),
    _S.REOPENED: frozenset({_S.IN_PROGRESS, _S.ON_HOLD, _S.RESOLVED, _S.CLOSED}),
    _S.CLOSED: frozenset({_S.REOPENED}),
}


def allowed_moves(current: TicketStatus) -> frozenset[TicketStatus]:
    return TRANSITIONS[current]


def check_transition(current: TicketStatus, requested: TicketStatus) -> None:
    """Raise `IllegalTransition` naming the allowed moves unless `current → requested` is legal."""
    if requested not in TRANSITIONS[current]:
        raise IllegalTransition(current, requested, TRANSITIONS[current])


# ITIL: the more urgent and the wider the impact, the higher the priority.
# Rows are urgency, columns impact (critical, high, medium, low).
_MATRIX_ROWS: Mapping[Urgency, tuple[Priority, Priority, Priority, Priority]] = {
    Urgency.CRITICAL: (Priority.P1, Priority.P1, Priority.P2, Priority.P3),
    Urgency.HIGH: (Priority.P1, Priority.P2, Priority.P3, Priority.P3),
    Urgency.NORMAL: (Priority.P2, Priority.P3, Priority.P3, Priority.P4),
    Urgency.LOW: (Priority.P3, Priority.P3, Priority.P4, Priority.P4),
}
_IMPACT_COLUMNS = (Impact.CRITICAL, Impact.HIGH, Impact.MEDIUM, Impact.LOW)

PRIORITY_MATRIX: Mapping[tuple[Urgency, Impact], Priority] = {
    (urgency, impact): row[col]
    for urgency, row in _MATRIX_ROWS.items()
    for col, impact in enumerate(_IMPACT_COLUMNS)
}


def priority_for(urgency: Urgency, impact: Impact) -> Priority:
    return PRIORITY_MATRIX[(urgency, impact)]
