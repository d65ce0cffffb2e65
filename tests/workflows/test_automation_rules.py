"""Automation rules inside TicketWorkflow: event rules after each change, time rules on time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.enums import Priority
from domain.messages import (
    AssignInput,
    CommentInput,
    RulesChanged,
    SetPriorityInput,
    TicketWorkflowInput,
)
from domain.rules import Rule
from domain.ticket import DepartmentTerms, TicketDraft
from domain.views import TicketView
from tests.workflows.conftest import AGENT, REQUESTER, RecordedReadModel, Tickets, make_draft
from workflows.ticket import TicketWorkflow


def rule(**fields: Any) -> Rule:
    return Rule.model_validate({"name": fields.pop("name", "a rule"), **fields})


async def start_with(
    tickets: Tickets, draft: TicketDraft, rules: list[Rule]
) -> WorkflowHandle[TicketWorkflow, TicketView]:
    handle = await tickets.env.client.start_workflow(
        TicketWorkflow.run,
        TicketWorkflowInput(draft=draft, rules=rules),
        id=f"ticket-{draft.number}",
        task_queue=tickets.worker.task_queue,
    )
    tickets.handles.append(handle)
    return handle


P1_ALERT = rule(
    name="P1 → notify manager",
    trigger="created",
    conditions={"field": "priority", "operator": "equals", "value": "P1"},
    actions=[{"type": "send_notification", "target": "manager", "message": "P1 received"}],
)
PASSWORD = rule(
    name="password → P3 + tag",
    trigger="comment_added",
    position=1,
    conditions={"field": "comment_body", "operator": "contains", "value": "password"},
    actions=[
        {"type": "assign_priority", "priority": "P3"},
        {"type": "add_tag", "tag": "password_reset"},
    ],
)
RAISED = rule(
    name="raised to P1 → tag",
    trigger="updated",
    conditions={"field": "priority", "operator": "changed_to", "value": "P1"},
    actions=[{"type": "add_tag", "tag": "escalated"}],
)


async def test_event_rules_run_after_each_change_and_are_all_recorded(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P2)
    handle = await start_with(tickets, draft, [P1_ALERT, PASSWORD, RAISED])
    view = await handle.execute_update(
        TicketWorkflow.set_priority, SetPriorityInput(priority=Priority.P1)
    )
    assert view.tags == ["escalated"]
    view = await handle.execute_update(
        TicketWorkflow.comment,
        CommentInput(author_id=REQUESTER, author_role="user", body="I forgot my password"),
    )
    assert view.priority is Priority.P3 and view.tags == ["escalated", "password_reset"]
    matched = [e.summary.splitlines()[0] for e in read_model.entries("automation.matched")]
    assert matched == ["raised to P1 → tag: matched", "password → P3 + tag: matched"]
    # the P2 ticket did not match the `created` rule, and that evaluation is in history too
    assert [e.summary.splitlines()[0] for e in read_model.entries("automation.not_matched")][
        :1
    ] == ["P1 → notify manager: did not match"]


async def test_a_created_rule_notifies_the_manager(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P1)
    await start_with(tickets, draft, [P1_ALERT])
    await time_skipping_env.sleep(timedelta(seconds=1))
    notes = [n for b in read_model.batches for n in b.notifications if n.event == "automation"]
    assert [(n.subject, [r.department_manager_of for r in n.recipients]) for n in notes] == [
        ("P1 received", [draft.department.id])
    ]


STALE = rule(
    name="untouched for 2 h → tag",
    trigger="time",
    conditions={"field": "hours_since_activity", "operator": "greater_than", "value": 2},
    actions=[{"type": "add_tag", "tag": "stale"}],
)


async def test_a_time_rule_fires_at_the_exact_moment_and_once(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P3)
    handle = await start_with(tickets, draft, [STALE])
    await time_skipping_env.sleep(timedelta(hours=1))
    await handle.execute_update(
        TicketWorkflow.comment, CommentInput(author_id=AGENT, body="Looking")
    )
    touched = (await handle.query(TicketWorkflow.ticket)).updated_at
    await time_skipping_env.sleep(timedelta(hours=5))
    fired = read_model.entries("tagged")
    assert len(fired) == 1
    assert touched + timedelta(hours=2) <= fired[0].at < touched + timedelta(hours=2, seconds=1)
    assert (await handle.query(TicketWorkflow.ticket)).tags == ["stale"]


async def test_changed_rules_reach_a_running_ticket(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P3)
    handle = await start_with(tickets, draft, [])
    await handle.signal(TicketWorkflow.rules_changed, RulesChanged(rules=[STALE]))
    await time_skipping_env.sleep(timedelta(hours=3))
    assert (await handle.query(TicketWorkflow.ticket)).tags == ["stale"]


async def test_a_move_to_another_department_unassigns_and_routes_there(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    network = DepartmentTerms(id=uuid4(), name="Networks", manager_id=uuid4())
    mover = rule(
        name="VPN → Networks",
        trigger="comment_added",
        conditions={"field": "comment_body", "operator": "contains", "value": "vpn"},
        actions=[
            {"type": "assign_department", "department_id": str(network.id), "department": network}
        ],
    )
    draft = make_draft(await time_skipping_env.get_current_time(), priority=Priority.P2)
    handle = await start_with(tickets, draft, [mover])
    await handle.execute_update(TicketWorkflow.assign, AssignInput(assignee_id=AGENT))
    network_agent = uuid4()
    read_model.free_agent = network_agent
    view = await handle.execute_update(
        TicketWorkflow.comment,
        CommentInput(author_id=REQUESTER, author_role="user", body="The VPN drops every hour"),
    )
    assert view.department_id == network.id and view.assignee_id is None
    await time_skipping_env.sleep(timedelta(seconds=1))
    view = await handle.query(TicketWorkflow.ticket)
    assert view.assignee_id == network_agent
    moved = read_model.entries("department_changed")
    assert [m.changes["department_id"] for m in moved] == [
        [str(draft.department.id), str(network.id)]
    ]
    notes = [
        n for b in read_model.batches for n in b.notifications if n.event == "department_changed"
    ]
    assert [r.department_manager_of for n in notes for r in n.recipients] == [network.id]


async def test_a_move_to_a_deleted_department_is_skipped_with_the_reason(
    time_skipping_env: WorkflowEnvironment, tickets: Tickets, read_model: RecordedReadModel
) -> None:
    gone = rule(
        name="to a gone department",
        trigger="created",
        actions=[{"type": "assign_department", "department_id": str(uuid4())}],
    )
    draft = make_draft(await time_skipping_env.get_current_time())
    handle = await start_with(tickets, draft, [gone])
    view = await handle.query(TicketWorkflow.ticket)
    assert view.department_id == draft.department.id
    skipped = await read_model.written("automation.skipped")
    assert len(skipped) == 1 and "no longer exists" in skipped[0].summary
