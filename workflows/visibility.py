"""What a ticket shows outside its workflow: search attributes and the Web UI details card."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from domain.ticket import TicketState
from domain.views import MetricView, TicketView
from workflows.search_attributes import ALL_KEYS

_KEYS: dict[str, SearchAttributeKey[Any]] = {key.name: key for key in ALL_KEYS}


def searchable_values(state: TicketState, view: TicketView) -> dict[str, Any]:
    """The value of each ticket search attribute; None means unset."""
    overall = view.sla.overall()
    return {
        "TicketNumber": view.number,
        "TicketStatus": view.status.value,
        "TicketPriority": view.priority.value,
        "TicketAssignee": str(view.assignee_id) if view.assignee_id else None,
        "TicketDepartment": state.department.name,
        "TicketSlaState": overall.value if overall else "none",
        "TicketBreachAt": view.sla.next_breach_at(),
    }


def search_attribute_updates(
    state: TicketState, view: TicketView, published: dict[str, Any]
) -> list[SearchAttributeUpdate[Any]]:
    """Updates for the attributes whose value changed since `published` (which is updated)."""
    updates: list[SearchAttributeUpdate[Any]] = []
    for name, value in searchable_values(state, view).items():
        if name in published and published[name] == value:
            continue
        published[name] = value
        key = _KEYS[name]
        updates.append(key.value_unset() if value is None else key.value_set(value))
    return updates


def summary_line(view: TicketView) -> str:
    """The one line the Web UI's workflow list shows, e.g. `#42 P1 Printer on fire`."""
    return f"#{view.number} {view.priority.value} {view.title}"[:200]


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "—"


def _metric_row(name: str, metric: MetricView | None) -> str:
    if metric is None:
        return f"| {name} | — | — | — |"
    return f"| {name} | {metric.state.value} | {_when(metric.target_at)} | {metric.elapsed} |"


def details_card(state: TicketState, view: TicketView) -> str:
    """A markdown card of the ticket for the Web UI's details pane, kept current."""
    sla = view.sla
    lines = [
        f"## #{view.number} {view.title}",
        "",
        f"**Status** {view.status.value} · **Priority** {view.priority.value} · "
        f"**Department** {state.department.name}",
        f"**Assignee** {view.assignee_id or 'unassigned'} · **Requester** {view.requester_id}",
        f"**Opened** {_when(view.created_at)} · **Updated** {_when(view.updated_at)}",
        "",
        f"### SLA ({sla.policy or 'none'})",
        "| metric | state | due | elapsed |",
        "|---|---|---|---|",
        _metric_row("first response", sla.first_response),
        _metric_row("next response", sla.next_response),
        _metric_row("resolution", sla.resolution),
    ]
    return "\n".join(lines)
