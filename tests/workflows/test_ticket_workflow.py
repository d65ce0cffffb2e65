"""TicketWorkflow timers on the time-skipping server: every SLA path, to the virtual second."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.calendars import BusinessHours, CalendarTerms
from domain.enums import ClockState, Priority, Role, TicketStatus
from domain.messages import (
    AssignInput,
    AttachInput,
    CloseInput,
    CommentInput,
    EditInput,
    ExternalReply,
    HistoryQuery,
    PolicyChanged,
    ResolveInput,
    SetPriorityInput,
    SetStatusInput,
    TicketWorkflowInput,
)
from domain.policies import PolicySet, SlaPolicy
from domain.rules import Rule
from domain.sla import EscalationStep, MetricTargets
from domain.ticket import HistoryEntry
from domain.views import SlaView, TicketView
from tests.workflows.conftest import (
    AGENT,
    POLICY,
    REQUESTER,
    RecordedReadModel,
    Tickets,
    make_draft,
)
from workflows.ticket import TicketWorkflow

TOLERANCE = timedelta(seconds=1)


async def sla(handle: WorkflowHandle[TicketWorkflow, TicketView]) -> SlaView:
    return await handle.query(TicketWorkflow.sla)


async def test_first_response_breach_at_the_exact_virtual_second(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    await handle.execute_update(TicketWorkflow.assign, AssignInput(assignee_id=AGENT))
    deadline = draft.created_at + timedelta(minutes=15)

    await time_skipping_env.sleep(timedelta(minutes=15) - timedelta(seconds=2))
    assert not read_model.entries("sla.breached")
    assert (await sla(handle)).first_response.state is ClockState.AT_RISK  # type: ignore[union-attr]

    await time_skipping_env.sleep(timedelta(seconds=4))
    breaches = read_model.entries("sla.breached")
    assert [b.at for b in breaches] == [deadline]
    written = next(b for b in read_model.batches if b.history and b.history[-1] in breaches)
    assert deadline <= written.ticket.updated_at < deadline + TOLERANCE
    notes = [n for b in read_model.batches for n in b.notifications if n.event.startswith("sla_b")]
    assert len(notes) == 1 and notes[0].urgent
    assert {r.user_id for r in notes[0].recipients} >= {AGENT}
    assert (await sla(handle)).first_response.state is ClockState.BREACHED  # type: ignore[union-attr]


async def test_warnings_at_each_fraction(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    await time_skipping_env.sleep(timedelta(minutes=14))
    warnings = [
        e for e in read_model.entries("sla.warned") if e.sla and e.sla.metric == "first_response"
    ]
    assert [w.sla.fraction for w in warnings if w.sla] == [0.5, 0.75, 0.9]
    assert [w.at - draft.created_at for w in warnings] == [
        timedelta(minutes=7.5),
        timedelta(minutes=11.25),
        timedelta(minutes=13.5),
    ]
    await handle.terminate()


async def test_on_hold_pauses_then_resumes_with_the_time_left(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    await time_skipping_env.sleep(timedelta(minutes=5))
    await handle.execute_update(
        TicketWorkflow.set_status, SetStatusInput(status=TicketStatus.ON_HOLD)
    )
    await time_skipping_env.sleep(timedelta(hours=2))
    assert not read_model.entries("sla.breached")
    view = await sla(handle)
    assert view.first_response is not None and view.first_response.state is ClockState.PAUSED

    resumed = await handle.execute_update(
        TicketWorkflow.set_status, SetStatusInput(status=TicketStatus.IN_PROGRESS)
    )
    first = resumed.sla.first_response
    assert first is not None and first.target_at is not None
    assert first.elapsed <= timedelta(minutes=5, seconds=1)
    await time_skipping_env.sleep(timedelta(minutes=11))
    breach = read_model.entries("sla.breached")
    assert [b.at for b in breach] == [first.target_at]


async def test_priority_change_retargets_the_running_clocks(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P3)
    handle = await tickets.start(draft)
    await time_skipping_env.sleep(timedelta(minutes=10))
    view = await handle.execute_update(
        TicketWorkflow.set_priority, SetPriorityInput(priority=Priority.P1)
    )
    first = view.sla.first_response
    assert first is not None and first.target_at == draft.created_at + timedelta(minutes=15)
    assert read_model.entries("sla.retargeted")
    await time_skipping_env.sleep(timedelta(minutes=6))
    assert [b.at for b in read_model.entries("sla.breached")] == [first.target_at]


async def test_agent_reply_meets_the_first_response(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    view = await handle.execute_update(
        TicketWorkflow.comment, CommentInput(author_id=AGENT, body="On my way")
    )
    assert view.first_response_at is not None
    await time_skipping_env.sleep(timedelta(hours=1))
    assert (await sla(handle)).first_response.state is ClockState.MET  # type: ignore[union-attr]
    assert not [
        e for e in read_model.entries("sla.breached") if e.sla and e.sla.metric == "first_response"
    ]


async def test_resolved_ticket_auto_closes_after_the_department_delay(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(
        await time_skipping_env.get_current_time(), auto_close_after=timedelta(days=1)
    )
    handle = await tickets.start(draft)
    resolved = await handle.execute_update(
        TicketWorkflow.resolve, ResolveInput(solution="Replaced the fuser", actor_id=AGENT)
    )
    await time_skipping_env.sleep(timedelta(days=1, seconds=1))
    ticket = await handle.query(TicketWorkflow.ticket)
    assert ticket.status is TicketStatus.CLOSED and ticket.closed_for_inactivity
    assert ticket.closed_at is not None and resolved.resolved_at is not None
    assert ticket.closed_at - resolved.resolved_at < timedelta(days=1) + TOLERANCE


async def test_requester_reply_reopens_and_starts_a_new_resolution_cycle(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(
        await time_skipping_env.get_current_time(), auto_close_after=timedelta(days=1)
    )
    handle = await tickets.start(draft)
    await handle.execute_update(TicketWorkflow.resolve, ResolveInput(actor_id=AGENT))
    await time_skipping_env.sleep(timedelta(hours=20))
    await handle.signal(
        TicketWorkflow.external_reply, ExternalReply(author_id=REQUESTER, body="Still broken")
    )
    await time_skipping_env.sleep(timedelta(days=2))
    ticket = await handle.query(TicketWorkflow.ticket)
    assert ticket.status is TicketStatus.REOPENED and not ticket.closed_for_inactivity
    resolution = ticket.sla.resolution
    assert resolution is not None and resolution.cycle == 2
    applied = [
        e for e in read_model.entries("sla.applied") if e.sla and e.sla.metric == "resolution"
    ]
    assert [e.sla.cycle for e in applied if e.sla] == [1, 2]


async def test_continue_as_new_keeps_state_and_running_clocks(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft, continue_as_new_after=25)
    first_run = (await handle.describe()).run_id
    before = await sla(handle)
    for n in range(6):
        await handle.execute_update(
            TicketWorkflow.comment,
            CommentInput(author_id=REQUESTER, author_role="user", body=f"ping {n}"),
        )
    await time_skipping_env.sleep(timedelta(seconds=1))
    assert (await handle.describe()).run_id != first_run
    after = await sla(handle)
    assert after.resolution == before.resolution or (
        after.resolution is not None
        and before.resolution is not None
        and after.resolution.target_at == before.resolution.target_at
    )
    history = await handle.query(TicketWorkflow.history, HistoryQuery())
    assert [e.kind for e in history].count("commented") == 6
    await time_skipping_env.sleep(timedelta(minutes=15))
    assert [b.at for b in read_model.entries("sla.breached")][:1] == [
        draft.created_at + timedelta(minutes=15)
    ]


async def test_illegal_transition_is_rejected_before_history(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update(
            TicketWorkflow.set_status, SetStatusInput(status=TicketStatus.REOPENED)
        )
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "illegal_transition"
    assert cause.details[0] == {"allowed": ["closed", "in_progress", "on_hold", "resolved"]}
    events = [e async for e in handle.fetch_history_events()]
    assert not any(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in events
    )


async def test_private_notes_stay_out_of_the_public_history(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    await handle.execute_update(
        TicketWorkflow.comment,
        CommentInput(author_id=AGENT, body="secret", private=True, comment_id=uuid4()),
    )
    public: list[HistoryEntry] = await handle.query(
        TicketWorkflow.history, HistoryQuery(include_private=False)
    )
    everything: list[HistoryEntry] = await handle.query(TicketWorkflow.history, HistoryQuery())
    assert any(not e.public for e in everything)
    assert all(e.public for e in public)


async def test_history_query_needs_no_input_from_the_web_ui(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets
) -> None:
    handle = await tickets.start(make_draft(await time_skipping_env.get_current_time()))
    history: list[HistoryEntry] = await handle.query("history", result_type=list[HistoryEntry])
    assert [e.kind for e in history][:1] == ["created"]


async def test_clocks_count_business_hours_only(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    now = await time_skipping_env.get_current_time()
    zone = ZoneInfo("Europe/Madrid")
    workdays = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    calendar = CalendarTerms.model_validate(
        {"timezone": "Europe/Madrid", "hours": workdays, "holidays": [now.astimezone(zone).date()]}
    )
    policy = POLICY.model_copy(update={"calendar": calendar})
    draft = make_draft(now, policy=policy)
    handle = await tickets.start(draft)
    expected = BusinessHours(calendar).add_business_time(draft.created_at, timedelta(minutes=15))
    assert expected - draft.created_at > timedelta(hours=1)  # today is a holiday
    view = await sla(handle)
    assert view.first_response is not None and view.first_response.target_at == expected

    await time_skipping_env.sleep(expected - draft.created_at + timedelta(seconds=1))
    assert [b.at for b in read_model.entries("sla.breached")][:1] == [expected]


async def test_next_response_breaches_when_a_requester_reply_waits_too_long(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    await handle.execute_update(
        TicketWorkflow.comment, CommentInput(author_id=AGENT, body="Which printer?")
    )
    await handle.signal(
        TicketWorkflow.external_reply, ExternalReply(author_id=REQUESTER, body="The one on 3")
    )
    view = await sla(handle)
    assert view.next_response is not None and view.next_response.target_at is not None
    due = view.next_response.target_at
    await time_skipping_env.sleep(timedelta(minutes=31))
    breaches = [e for e in read_model.entries("sla.breached") if e.sla]
    assert [(e.sla.metric, e.at) for e in breaches if e.sla] == [("next_response", due)]
    answered = await handle.execute_update(
        TicketWorkflow.comment, CommentInput(author_id=AGENT, body="Replacing it")
    )
    assert answered.sla.next_response is not None
    assert answered.sla.next_response.state is ClockState.BREACHED  # late stays late


async def test_a_new_unassigned_ticket_goes_to_the_agent_routing_picks(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    read_model.free_agent = AGENT
    handle = await tickets.start(make_draft(await time_skipping_env.get_current_time()))
    await time_skipping_env.sleep(timedelta(seconds=1))
    ticket = await handle.query(TicketWorkflow.ticket)
    assert ticket.assignee_id == AGENT and ticket.status is TicketStatus.IN_PROGRESS
    assert [e.kind for e in read_model.entries("assigned")] == ["assigned"]
    # Routing runs before the first write: the ticket reaches the read model once, assigned.
    first = read_model.batches[0]
    assert first.ticket.assignee_id == AGENT
    assert [e.kind for e in first.history][:1] == ["created"]
    assert "assigned" in [e.kind for e in first.history]


async def test_a_changed_policy_retargets_an_open_ticket_keeping_time_spent(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P3)
    handle = await tickets.start(draft)
    await time_skipping_env.sleep(timedelta(minutes=5))
    faster = SlaPolicy(
        name="Faster",
        targets={Priority.P3: MetricTargets(first_response=timedelta(minutes=10))},
    )
    await handle.signal(
        TicketWorkflow.policy_changed, PolicyChanged(policies=PolicySet(policies=[faster]))
    )
    view = await sla(handle)
    assert view.policy == "Faster"
    assert view.first_response is not None
    assert view.first_response.target_at == draft.created_at + timedelta(minutes=10)
    assert view.resolution is not None and view.resolution.state is ClockState.OK  # kept
    await time_skipping_env.sleep(timedelta(minutes=6))
    first = [e for e in read_model.entries("sla.breached") if e.sla]
    assert [e.at for e in first] == [draft.created_at + timedelta(minutes=10)]


ESCALATION_LEAD = uuid4()


async def test_a_breach_runs_the_escalation_chain_each_step_after_its_delay(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    chain = POLICY.model_copy(
        update={
            "targets": {
                Priority.P1: MetricTargets(
                    first_response=timedelta(minutes=15), resolution=timedelta(days=1)
                ),
                Priority.P3: MetricTargets(
                    first_response=timedelta(hours=4), resolution=timedelta(days=2)
                ),
            },
            "escalation": (
                EscalationStep(notify=["assignee", "manager"]),
                EscalationStep(
                    after=timedelta(minutes=30),
                    set_priority=Priority.P1,
                    assign_to=ESCALATION_LEAD,
                    notify=["admins"],
                ),
            ),
        }
    )
    draft = make_draft(await time_skipping_env.get_current_time(), Priority.P3, policy=chain)
    handle = await tickets.start(draft)
    await handle.execute_update(TicketWorkflow.assign, AssignInput(assignee_id=AGENT))
    breach_at = draft.created_at + timedelta(hours=4)

    await time_skipping_env.sleep(timedelta(hours=4, minutes=1))
    steps = read_model.entries("sla.escalated")
    assert [s.at for s in steps] == [breach_at]
    view = await handle.query(TicketWorkflow.ticket)
    assert view.priority is Priority.P3 and view.assignee_id == AGENT

    await time_skipping_env.sleep(timedelta(minutes=28))
    assert len(read_model.entries("sla.escalated")) == 1
    await time_skipping_env.sleep(timedelta(minutes=2))
    steps = read_model.entries("sla.escalated")
    assert [s.at for s in steps] == [breach_at, breach_at + timedelta(minutes=30)]
    view = await handle.query(TicketWorkflow.ticket)
    assert view.priority is Priority.P1 and view.assignee_id == ESCALATION_LEAD
    notes = [n for b in read_model.batches for n in b.notifications if "escalation" in n.event]
    assert [[r.model_dump(exclude_defaults=True) for r in n.recipients] for n in notes] == [
        [{"user_id": AGENT}, {"department_manager_of": draft.department.id}],
        [{"admins": True}],
    ]
    assert all(n.urgent for n in notes)


async def test_an_answer_after_the_breach_calls_off_the_steps_still_to_come(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    chain = POLICY.model_copy(
        update={"escalation": (EscalationStep(after=timedelta(hours=1), notify=["admins"]),)}
    )
    draft = make_draft(await time_skipping_env.get_current_time(), policy=chain)
    handle = await tickets.start(draft)
    await time_skipping_env.sleep(timedelta(minutes=20))
    assert len(read_model.entries("sla.breached")) == 1
    breach_notes = [n for b in read_model.batches for n in b.notifications if "sla_b" in n.event]
    assert len(breach_notes) == 1  # no step at the breach: the default notice goes out
    await handle.execute_update(
        TicketWorkflow.comment, CommentInput(author_id=AGENT, body="Looking at it")
    )
    await time_skipping_env.sleep(timedelta(hours=2))
    escalated = [e for e in read_model.entries("sla.escalated") if "first response" in e.summary]
    assert escalated == []


async def test_each_planned_send_runs_as_its_own_activity(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    read_model.plans_sends = True
    handle = await tickets.start(make_draft(await time_skipping_env.get_current_time()))
    await handle.execute_update(TicketWorkflow.assign, AssignInput(assignee_id=AGENT))
    await time_skipping_env.sleep(timedelta(seconds=5))
    assert sorted(read_model.sends[i] for i in read_model.delivered) == ["assigned", "created"]


async def test_a_send_that_fails_for_good_leaves_the_ticket_working(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    read_model.plans_sends = True
    read_model.provider_down = True
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await tickets.start(draft)
    await time_skipping_env.sleep(timedelta(seconds=5))
    view = await handle.execute_update(TicketWorkflow.assign, AssignInput(assignee_id=AGENT))
    assert view.assignee_id == AGENT and read_model.delivered == []
    await time_skipping_env.sleep(timedelta(minutes=16))
    assert len(read_model.entries("sla.breached")) == 1  # the clocks kept running
    described = await handle.describe()
    assert described.status is not None and described.status.name == "RUNNING"


async def test_an_agent_answering_by_email_gives_the_first_response(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets
) -> None:
    handle = await tickets.start(make_draft(await time_skipping_env.get_current_time()))
    await handle.signal(
        TicketWorkflow.external_reply,
        ExternalReply(author_id=AGENT, author_role="agent", body="On it", source="email"),
    )
    view = await handle.query(TicketWorkflow.ticket)
    assert view.first_response_at is not None
    assert view.sla.first_response is not None
    assert view.sla.first_response.state is ClockState.MET


async def rejected(handle: WorkflowHandle[TicketWorkflow, TicketView], input: EditInput) -> str:
    """The error type an `edit` the validator refuses comes back with."""
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update(TicketWorkflow.edit, input)
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type or ""


async def test_an_edit_changes_the_fields_and_records_before_and_after(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    handle = await tickets.start(make_draft(await time_skipping_env.get_current_time()))
    view = await handle.execute_update(
        TicketWorkflow.edit,
        EditInput(
            title="Printer smoking",
            category="hardware",
            tags=["printer", "fire", "printer"],
            actor_id=AGENT,
        ),
    )
    assert view.title == "Printer smoking" and view.category == "hardware"
    assert view.tags == ["printer", "fire"]
    assert view.description == "Smoke everywhere"  # not named: kept
    history = await handle.query(TicketWorkflow.history)
    [edited] = [e for e in history if e.kind == "edited"]
    assert edited.actor_id == AGENT and edited.public
    assert edited.changes == {
        "category": ["general", "hardware"],
        "tags": [[], ["printer", "fire"]],
        "title": ["Printer on fire", "Printer smoking"],
    }
    # the same values again change nothing and record nothing
    again = await handle.execute_update(
        TicketWorkflow.edit, EditInput(title="Printer smoking", actor_id=AGENT)
    )
    assert again.version == view.version
    assert [e.kind for e in await handle.query(TicketWorkflow.history)].count("edited") == 1


async def test_the_validator_refuses_bad_edits_before_they_reach_history(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets
) -> None:
    handle = await tickets.start(make_draft(await time_skipping_env.get_current_time()))
    requester = {"actor_id": REQUESTER, "actor_role": Role.USER}
    assert await rejected(handle, EditInput(actor_id=AGENT)) == "invalid_input"
    assert await rejected(handle, EditInput(title="   ", actor_id=AGENT)) == "invalid_input"
    assert await rejected(handle, EditInput(category="network", **requester)) == "forbidden"
    mine = await handle.execute_update(TicketWorkflow.edit, EditInput(title="Mine", **requester))
    assert mine.title == "Mine"

    await handle.execute_update(TicketWorkflow.resolve, ResolveInput(solution="Done"))
    assert await rejected(handle, EditInput(title="Later", **requester)) == "conflict"
    fixed = await handle.execute_update(
        TicketWorkflow.edit, EditInput(title="Fixed by staff", actor_id=AGENT)
    )
    assert fixed.title == "Fixed by staff"  # staff may tidy a resolved ticket
    await handle.execute_update(TicketWorkflow.close, CloseInput())
    assert await rejected(handle, EditInput(title="Too late", actor_id=AGENT)) == "conflict"
    history = await handle.query(TicketWorkflow.history)
    assert [e.summary for e in history if e.kind == "edited"] == ["Edited title"] * 2


async def test_a_new_category_reselects_the_policy_keeping_time_spent(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P3)
    handle = await tickets.start(draft)
    await time_skipping_env.sleep(timedelta(minutes=5))
    network = SlaPolicy(
        name="Network",
        conditions={"category": ["network"]},  # type: ignore[arg-type]
        targets={Priority.P3: MetricTargets(first_response=timedelta(minutes=10))},
    )
    policies = PolicySet(policies=[network])
    # a title edit leaves the policy alone, whatever the policies say
    view = await handle.execute_update(
        TicketWorkflow.edit, EditInput(title="Still slow", policies=policies)
    )
    assert view.sla.policy == POLICY.name
    view = await handle.execute_update(
        TicketWorkflow.edit, EditInput(category="network", policies=policies)
    )
    assert view.sla.policy == "Network"
    first = view.sla.first_response
    assert first is not None and first.target_at == draft.created_at + timedelta(minutes=10)
    assert first.elapsed >= timedelta(minutes=5)  # time already spent is kept
    await time_skipping_env.sleep(timedelta(minutes=6))
    assert [e.at for e in read_model.entries("sla.breached") if e.sla] == [first.target_at]
    # a category no policy matches keeps the current one
    kept = await handle.execute_update(
        TicketWorkflow.edit, EditInput(category="printers", policies=policies)
    )
    assert kept.sla.policy == "Network"


async def test_an_edit_runs_the_updated_rules(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets
) -> None:
    rule = Rule.model_validate(
        {
            "name": "network → tag",
            "trigger": "updated",
            "conditions": {"field": "category", "operator": "changed_to", "value": "network"},
            "actions": [{"type": "add_tag", "tag": "net"}],
        }
    )
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await time_skipping_env.client.start_workflow(
        TicketWorkflow.run,
        TicketWorkflowInput(draft=draft, rules=[rule]),
        id=f"ticket-{draft.number}",
        task_queue=tickets.worker.task_queue,
    )
    tickets.handles.append(handle)
    view = await handle.execute_update(TicketWorkflow.edit, EditInput(category="network"))
    assert view.tags == ["net"]


async def test_an_attached_file_shows_on_the_timeline(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    handle = await tickets.start(make_draft(await time_skipping_env.get_current_time()))
    file_id = uuid4()
    attach = AttachInput(
        attachment_id=file_id, filename="smoke.jpg", size_bytes=10, actor_id=REQUESTER
    )
    view = await handle.execute_update(TicketWorkflow.attach, attach)
    [entry] = read_model.entries("attached") or [
        e for e in await handle.query(TicketWorkflow.history) if e.kind == "attached"
    ]
    assert entry.summary == "Attached smoke.jpg" and entry.actor_id == REQUESTER
    assert entry.changes["attachment"][1]["id"] == str(file_id)
    assert view.updated_at == entry.at

    await handle.execute_update(TicketWorkflow.close, CloseInput())
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(TicketWorkflow.attach, attach)
