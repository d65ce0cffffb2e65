"""Ticket operations as a helpdesk user sees them, with time passed in by hand."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.enums import ClockState, Metric, Priority, Role, TicketStatus
from domain.errors import Conflict, IllegalTransition, InvalidInput
from domain.operations import REPLY_EXCERPT, TicketOps, open_ticket
from domain.sla import MetricTargets, PolicyTerms
from domain.ticket import CommentRecord, DepartmentTerms, TicketDraft, TicketState
from domain.views import sla_view, ticket_view

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
REQUESTER = uuid4()
AGENT = uuid4()
MANAGER = uuid4()

POLICY = PolicyTerms(
    name="Standard",
    targets={
        Priority.P1: MetricTargets(
            first_response=timedelta(minutes=15),
            next_response=timedelta(minutes=30),
            resolution=timedelta(hours=4),
        ),
        Priority.P3: MetricTargets(first_response=timedelta(hours=4), resolution=timedelta(days=1)),
    },
)


def new_ticket(priority: Priority = Priority.P1) -> TicketState:
    draft = TicketDraft(
        id=uuid4(),
        number=42,
        title="Printer on fire",
        description="It is really on fire",
        requester_id=REQUESTER,
        requester_role=Role.USER,
        department=DepartmentTerms(id=uuid4(), name="IT", manager_id=MANAGER),
        priority=priority,
        policy=POLICY,
        created_at=T0,
    )
    state, _ = open_ticket(draft)
    return state


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reply(author: object, *, private: bool = False) -> CommentRecord:
    return CommentRecord(id=uuid4(), author_id=author, body="hello", private=private, created_at=T0)


def test_opening_starts_first_response_and_resolution_clocks() -> None:
    draft_state = new_ticket()
    sla = sla_view(draft_state, at(0))
    assert sla.first_response is not None and sla.resolution is not None
    assert sla.first_response.target_at == at(15)
    assert sla.resolution.target_at == at(240)
    assert sla.next_response is None


def test_assigning_a_new_ticket_starts_work_and_notifies_the_agent() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(1))
    ops.assign(AGENT, actor_id=MANAGER)
    assert state.status is TicketStatus.IN_PROGRESS
    assert [n.event for n in ops.effects.notifications] == ["assigned"]
    assert ops.effects.history[-1].changes["status"] == ["new", "in_progress"]


def test_only_a_public_agent_reply_is_a_first_response() -> None:
    state = new_ticket()
    TicketOps(state, at(2)).comment(reply(AGENT, private=True), by_staff=True)
    TicketOps(state, at(3)).comment(reply(REQUESTER), by_staff=False)
    assert state.first_response_at is None
    TicketOps(state, at(4)).comment(reply(AGENT), by_staff=True)
    assert state.first_response_at == at(4)
    clock = state.clock(Metric.FIRST_RESPONSE)
    assert clock is not None and clock.state(at(60), ()) is ClockState.MET


def test_breach_fires_at_the_exact_deadline_and_escalates() -> None:
    state = new_ticket()
    TicketOps(state, at(1)).assign(AGENT, actor_id=None)
    early = TicketOps(state, at(15) - timedelta(milliseconds=1))
    early.advance_time()
    assert not any(e.kind == "sla.breached" for e in early.effects.history)
    ops = TicketOps(state, at(15))
    ops.advance_time()
    breach = [e for e in ops.effects.history if e.kind == "sla.breached"]
    assert len(breach) == 1 and breach[0].at == at(15)
    note = ops.effects.notifications[-1]
    assert note.urgent and {r.user_id for r in note.recipients} == {AGENT, None}
    assert {r.department_manager_of for r in note.recipients} - {None} == {state.department.id}
    again = TicketOps(state, at(16))
    again.advance_time()
    assert not any(e.kind == "sla.breached" for e in again.effects.history)


def test_on_hold_pauses_and_resumes_the_clocks() -> None:
    state = new_ticket()
    TicketOps(state, at(5)).set_status(TicketStatus.ON_HOLD, AGENT, None)
    assert sla_view(state, at(500)).resolution.state is ClockState.PAUSED  # type: ignore[union-attr]
    TicketOps(state, at(65)).set_status(TicketStatus.IN_PROGRESS, AGENT, None)
    assert sla_view(state, at(65)).resolution.target_at == at(300)  # type: ignore[union-attr]


def test_requester_reply_resumes_an_on_hold_ticket() -> None:
    state = new_ticket()
    TicketOps(state, at(5)).set_status(TicketStatus.ON_HOLD, AGENT, None)
    TicketOps(state, at(6)).comment(reply(REQUESTER), by_staff=False)
    assert state.status is TicketStatus.IN_PROGRESS


def test_priority_change_retargets_keeping_time_spent() -> None:
    state = new_ticket(Priority.P3)
    TicketOps(state, at(30)).set_status(TicketStatus.ON_HOLD, AGENT, None)
    TicketOps(state, at(90)).set_status(TicketStatus.IN_PROGRESS, AGENT, None)
    TicketOps(state, at(100)).set_priority(Priority.P1, AGENT)
    resolution = sla_view(state, at(100)).resolution
    assert resolution is not None
    assert resolution.elapsed == timedelta(minutes=40)
    assert resolution.target_at == at(90 + 240 - 30)


def test_resolve_then_auto_close_for_inactivity() -> None:
    state = new_ticket()
    TicketOps(state, at(10)).resolve("rebooted", AGENT)
    ops = TicketOps(state, at(10))
    wakeup = ops.next_wakeup()
    assert wakeup is not None and wakeup.at == at(10) + timedelta(days=3)
    closing = TicketOps(state, wakeup.at)
    closing.advance_time()
    assert state.status is TicketStatus.CLOSED and state.closed_for_inactivity


def test_requester_reply_reopens_a_resolved_ticket_with_a_new_cycle() -> None:
    state = new_ticket()
    TicketOps(state, at(10)).resolve(None, AGENT)
    TicketOps(state, at(20)).comment(reply(REQUESTER), by_staff=False)
    assert state.status is TicketStatus.REOPENED
    resolution = sla_view(state, at(20)).resolution
    assert resolution is not None and resolution.cycle == 2
    assert resolution.target_at == at(20 + 240)
    assert [c.cycle for c in state.clocks if c.metric is Metric.RESOLUTION] == [1, 2]


def test_illegal_move_names_the_allowed_ones() -> None:
    state = new_ticket()
    with pytest.raises(IllegalTransition, match="allowed: closed, in_progress, on_hold, resolved"):
        TicketOps(state, at(1)).set_status(TicketStatus.REOPENED, AGENT, None)


def test_closed_ticket_reopens_only_within_the_window() -> None:
    state = new_ticket()
    TicketOps(state, at(1)).close(AGENT, for_inactivity=False)
    with pytest.raises(Conflict):
        TicketOps(state, at(1) + timedelta(days=31)).reopen(AGENT)
    TicketOps(state, at(1) + timedelta(days=29)).reopen(AGENT)
    assert state.status is TicketStatus.REOPENED


def test_rating_needs_a_resolved_ticket() -> None:
    state = new_ticket()
    with pytest.raises(Conflict):
        TicketOps(state, at(1)).rate(9, None, REQUESTER)
    TicketOps(state, at(2)).resolve(None, AGENT)
    TicketOps(state, at(3)).rate(9, "quick", REQUESTER)
    assert ticket_view(state, at(3)).satisfaction_score == 9


def test_duplicate_comment_id_is_stored_once() -> None:
    state = new_ticket()
    comment = reply(AGENT)
    first = TicketOps(state, at(1))
    first.comment(comment, by_staff=True)
    second = TicketOps(state, at(2))
    second.comment(comment, by_staff=True)
    assert len(first.effects.comments) == 1 and not second.effects


def test_next_response_runs_from_the_oldest_unanswered_requester_reply() -> None:
    state = new_ticket()
    TicketOps(state, at(1)).comment(reply(REQUESTER), by_staff=False)
    assert state.clock(Metric.NEXT_RESPONSE) is None  # the first response covers it
    TicketOps(state, at(5)).comment(reply(AGENT), by_staff=True)
    TicketOps(state, at(10)).comment(reply(REQUESTER), by_staff=False)
    TicketOps(state, at(20)).comment(reply(REQUESTER), by_staff=False)
    waiting = sla_view(state, at(20)).next_response
    assert waiting is not None and waiting.target_at == at(40) and waiting.cycle == 1
    TicketOps(state, at(25)).comment(reply(AGENT, private=True), by_staff=True)
    TicketOps(state, at(30)).comment(reply(AGENT), by_staff=True)
    answered = sla_view(state, at(31)).next_response
    assert answered is not None and answered.state is ClockState.MET
    TicketOps(state, at(50)).comment(reply(REQUESTER), by_staff=False)
    again = sla_view(state, at(50)).next_response
    assert again is not None and again.cycle == 2 and again.target_at == at(80)


def test_a_long_conversation_keeps_only_recent_next_response_clocks() -> None:
    state = new_ticket()
    TicketOps(state, at(1)).comment(reply(AGENT), by_staff=True)
    for n in range(30):
        TicketOps(state, at(2 + 2 * n)).comment(reply(REQUESTER), by_staff=False)
        TicketOps(state, at(3 + 2 * n)).comment(reply(AGENT), by_staff=True)
    kept = [c for c in state.clocks if c.metric is Metric.NEXT_RESPONSE]
    assert len(kept) == 20 and kept[-1].cycle == 30


def test_a_merge_closes_the_duplicate_and_stops_its_clocks() -> None:
    state = new_ticket()
    into = uuid4()
    ops = TicketOps(state, at(5))
    ops.merge(into, 7, AGENT)
    assert (state.status, state.duplicate_of) == (TicketStatus.CLOSED, into)
    assert all(not c.running for c in state.clocks)
    assert [e.kind for e in ops.effects.history][:2] == ["merged", "closed"]
    assert ops.effects.notifications[-1].params == {"into": "7"}
    fresh = new_ticket()
    with pytest.raises(InvalidInput):
        TicketOps(fresh, at(6)).check_merge(fresh.id)


def said(
    author: UUID, body: str, *, private: bool = False, mentions: Sequence[UUID] = ()
) -> CommentRecord:
    return CommentRecord(
        id=uuid4(),
        author_id=author,
        body=body,
        private=private,
        mentions=list(mentions),
        created_at=T0,
    )


def test_an_agent_public_reply_tells_the_requester_what_it_says() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(5))
    ops.comment(said(AGENT, "  Please restart the router.\n"), by_staff=True)
    [note] = ops.effects.notifications
    assert note.event == "replied"
    assert [r.user_id for r in note.recipients] == [REQUESTER]
    assert note.body == "Please restart the router."


def test_a_very_long_reply_reaches_the_requester_cut_with_an_ellipsis() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(5))
    ops.comment(said(AGENT, "x" * 50_000), by_staff=True)
    [note] = ops.effects.notifications
    assert len(note.body) == REPLY_EXCERPT and note.body.endswith("x…")


def test_only_a_public_staff_reply_to_someone_else_tells_the_requester() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(5))
    ops.comment(said(AGENT, "a private note", private=True), by_staff=True)
    ops.comment(said(REQUESTER, "the requester's own reply"), by_staff=False)
    ops.comment(said(REQUESTER, "staff, on their own ticket"), by_staff=True)
    ops.comment(said(AGENT, "an automation rule's comment"), by_staff=False)
    ops.comment(said(AGENT, "the agent's reply"), by_staff=True)
    assert [n.body for n in ops.effects.notifications if n.event == "replied"] == [
        "the agent's reply"
    ]


def test_mentions_in_a_private_note_reach_staff_only_and_never_the_requester() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(5))
    note = said(AGENT, "@manager look", private=True, mentions=[MANAGER, REQUESTER, MANAGER])
    ops.comment(note, by_staff=True)
    assert [n.event for n in ops.effects.notifications] == ["mentioned"]
    [recipient] = ops.effects.notifications[0].recipients
    assert recipient.user_id == MANAGER and recipient.staff_only


def test_a_staff_requester_mentioned_in_a_private_note_hears_of_it() -> None:
    state = new_ticket()
    state.requester_role = Role.AGENT
    ops = TicketOps(state, at(5))
    ops.comment(said(AGENT, "@you", private=True, mentions=[REQUESTER]), by_staff=True)
    assert [r.user_id for n in ops.effects.notifications for r in n.recipients] == [REQUESTER]


def test_mentions_in_a_public_reply_reach_everyone_named_once() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(5))
    ops.comment(said(AGENT, "cc @manager", mentions=[MANAGER, REQUESTER]), by_staff=True)
    told = [
        (n.event, r.user_id, r.staff_only) for n in ops.effects.notifications for r in n.recipients
    ]
    # the requester hears of the reply itself, not a second time for being named in it
    assert told == [("replied", REQUESTER, False), ("mentioned", MANAGER, False)]
    answer = TicketOps(state, at(6))
    answer.comment(said(REQUESTER, "@agent thanks", mentions=[AGENT]), by_staff=False)
    assert [(n.event, n.recipients[0].user_id) for n in answer.effects.notifications] == [
        ("mentioned", AGENT)
    ]


def test_a_move_names_the_new_department_for_its_manager() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(5))
    ops.move_to_department(DepartmentTerms(id=uuid4(), name="Networks"), AGENT)
    [note] = ops.effects.notifications
    assert (note.event, note.params) == ("department_changed", {"department": "Networks"})


def test_acknowledging_an_unassigned_ticket_takes_it_and_starts_work() -> None:
    state = new_ticket()
    ops = TicketOps(state, at(1))
    ops.acknowledge(AGENT)
    assert (state.assignee_id, state.status) == (AGENT, TicketStatus.IN_PROGRESS)
    assert [e.kind for e in ops.effects.history][-1] == "acknowledged"


def test_acknowledging_someone_elses_ticket_leaves_it_theirs() -> None:
    state = new_ticket()
    TicketOps(state, at(1)).assign(MANAGER, actor_id=MANAGER)
    ops = TicketOps(state, at(2))
    ops.acknowledge(AGENT)
    assert (state.assignee_id, state.status) == (MANAGER, TicketStatus.IN_PROGRESS)
    assert ops.effects.history[-1].actor_id == AGENT


def test_a_closed_ticket_cannot_be_acknowledged() -> None:
    state = new_ticket()
    TicketOps(state, at(1)).close(AGENT, for_inactivity=False)
    with pytest.raises(Conflict):
        TicketOps(state, at(2)).acknowledge(AGENT)
