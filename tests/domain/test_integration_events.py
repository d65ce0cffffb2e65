"""Which ticket events a change raises for integrations, from the history real operations write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.automation import RuleBook, open_with_rules
from domain.enums import Priority, Role, TicketStatus
from domain.integration_events import KNOWN_EVENTS, events_for
from domain.operations import TicketOps, open_ticket
from domain.rules import Rule
from domain.sla import MetricTargets, PolicyTerms
from domain.ticket import CommentRecord, DepartmentTerms, HistoryEntry, TicketDraft

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
REQUESTER = uuid4()
AGENT = uuid4()
POLICY = PolicyTerms(
    name="Standard",
    targets={Priority.P1: MetricTargets(first_response=timedelta(minutes=20))},
    warn_at=(0.5,),
)


def draft() -> TicketDraft:
    return TicketDraft(
        id=uuid4(),
        number=7,
        title="VPN down",
        description="Nobody can connect",
        requester_id=REQUESTER,
        requester_role=Role.USER,
        department=DepartmentTerms(id=uuid4(), name="IT"),
        priority=Priority.P1,
        policy=POLICY,
        created_at=T0,
    )


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reply(author: object, *, private: bool = False) -> CommentRecord:
    return CommentRecord(id=uuid4(), author_id=author, body="On it", private=private, created_at=T0)


def raised(history: list[HistoryEntry]) -> list[str]:
    return [event for entry in history for event in events_for(entry)]


def test_the_known_events_are_the_published_list() -> None:
    assert KNOWN_EVENTS == (
        "ticket.created",
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.priority_changed",
        "ticket.commented",
        "ticket.resolved",
        "ticket.closed",
        "ticket.reopened",
        "sla.warning",
        "sla.breached",
        "incident.created",
    )


def test_a_ticket_lifecycle_raises_each_event_once() -> None:
    state, opened = open_ticket(draft())
    history = list(opened.history)

    steps: list[Callable[[TicketOps], None]] = [
        lambda ops: ops.assign(AGENT, None),
        lambda ops: ops.set_priority(Priority.P2, AGENT),
        lambda ops: ops.set_status(TicketStatus.ON_HOLD, AGENT, None),
        lambda ops: ops.resolve("Restarted the concentrator", AGENT),
        lambda ops: ops.reopen(REQUESTER),
        lambda ops: ops.close(AGENT, for_inactivity=False),
    ]
    for minute, step in enumerate(steps, start=1):
        ops = TicketOps(state, at(minute))
        step(ops)
        history.extend(ops.effects.history)

    assert state.status is TicketStatus.CLOSED
    assert raised(history) == [
        "ticket.created",
        "ticket.status_changed",  # assigning a new ticket starts work on it
        "ticket.assigned",
        "ticket.priority_changed",
        "ticket.status_changed",
        "ticket.status_changed",
        "ticket.resolved",
        "ticket.status_changed",
        "ticket.reopened",
        "ticket.status_changed",
        "ticket.closed",
    ]


def test_private_notes_are_never_sent_out_and_public_replies_are() -> None:
    state, _ = open_ticket(draft())
    note = TicketOps(state, at(1))
    note.comment(reply(AGENT, private=True), by_staff=True)
    public = TicketOps(state, at(2))
    public.comment(reply(AGENT), by_staff=True)

    assert raised(note.effects.history) == []
    assert raised(public.effects.history) == ["ticket.commented"]


def test_sla_warnings_and_breaches_are_events_other_clock_moves_are_not() -> None:
    state, opened = open_ticket(draft())
    warned = TicketOps(state, at(10))
    warned.advance_time()
    breached = TicketOps(state, at(20))
    breached.advance_time()
    answered = TicketOps(state, at(21))
    answered.comment(reply(AGENT), by_staff=True)  # fulfils the (late) first response

    assert raised(opened.history) == ["ticket.created"]  # not the clock being applied
    assert raised(warned.effects.history) == ["sla.warning"]
    assert raised(breached.effects.history) == ["sla.breached"]
    assert raised(answered.effects.history) == ["ticket.commented"]


def test_a_rule_creating_an_incident_raises_incident_created() -> None:
    incident_rule = Rule.model_validate(
        {
            "name": "P1 is an incident",
            "trigger": "created",
            "conditions": {"field": "priority", "operator": "equals", "value": "P1"},
            "actions": [{"type": "create_incident"}],
        }
    )
    _, effects = open_with_rules(draft(), RuleBook([incident_rule]))

    assert raised(effects.history) == ["ticket.created", "incident.created"]


@pytest.mark.parametrize(
    "kind", ["tagged", "rated", "acknowledged", "sla.applied", "sla.paused", "automation.matched"]
)
def test_changes_no_integration_subscribes_to_raise_nothing(kind: str) -> None:
    assert events_for(HistoryEntry(seq=1, at=T0, kind=kind, summary=kind)) == []
