"""Automation rules applied to a ticket: what the workflow runs after each event and in time.

The rules engine (`domain.rules`) decides which rules match and why; this module carries out
their actions through the same `TicketOps` agents use, and records every evaluation in the
ticket's history (kind `automation.*`, which does not count as activity). Rule actions never
raise a further event, so rules cannot loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import TicketflowError
from domain.operations import Effects, TicketOps, Wakeup, open_ticket
from domain.rules import (
    Action,
    AddComment,
    AddTag,
    AssignAgent,
    AssignDepartment,
    AutoResolve,
    Close,
    CreateIncident,
    Escalate,
    Firing,
    RemoveTag,
    Rule,
    SendNotification,
    SetPriority,
    SetStatus,
    Trigger,
    due_time_rules,
    facts_from_state,
    plan_time_rules,
    rules_for,
    run_event_rules,
)
from domain.ticket import (
    CommentRecord,
    HistoryEntry,
    Recipient,
    TicketDraft,
    TicketState,
    row_id,
)

# The author of comments rules add: no person, so no SLA clock takes them for a reply.
AUTOMATION_AUTHOR = UUID(int=0)


class RuleBook:
    """The rules a ticket runs, and which time rules held at the last check."""

    def __init__(self, rules: Sequence[Rule], seen_true: Sequence[str] = ()) -> None:
        self.rules = list(rules)
        self.seen_true = list(seen_true)

    def has(self, trigger: Trigger) -> bool:
        return bool(rules_for(self.rules, trigger))

    def on_event(
        self,
        ops: TicketOps,
        trigger: Trigger,
        history: Sequence[HistoryEntry],
        before: TicketState | None = None,
        comment: CommentRecord | None = None,
    ) -> None:
        """Run the event rules of `trigger` after a change and carry out what matched."""
        if not self.has(trigger):
            return
        facts = facts_from_state(
            ops.state, ops.now, history=history, before=before, comment=comment
        )
        for firing in run_event_rules(self.rules, trigger, facts, ops.now):
            _carry_out(ops, firing)

    def on_time(self, ops: TicketOps, history: Sequence[HistoryEntry]) -> None:
        """Fire the time rules whose conditions have just become true."""
        if not self.has(Trigger.TIME):
            return
        facts = facts_from_state(ops.state, ops.now, history=history)
        check = due_time_rules(self.rules, facts, ops.now, self.seen_true)
        self.seen_true = check.seen_true
        for firing in check.firings:
            _carry_out(ops, firing)

    def next_wakeup(
        self, state: TicketState, now: datetime, history: Sequence[HistoryEntry]
    ) -> Wakeup | None:
        """When a time rule may next become true (and which hold now)."""
        if not self.has(Trigger.TIME):
            return None
        plan = plan_time_rules(self.rules, facts_from_state(state, now, history=history), now)
        self.seen_true = plan.seen_true
        return Wakeup(plan.wake_at, "time rules") if plan.wake_at else None


def open_with_rules(draft: TicketDraft, rules: RuleBook) -> tuple[TicketState, Effects]:
    """A new ticket after its `created` rules: what the workflow starts from, and what the
    API answers a creation with."""
    state, effects = open_ticket(draft)
    ops = TicketOps(state, draft.created_at)
    rules.on_event(ops, Trigger.CREATED, effects.history)
    effects.extend(ops.effects)
    return state, effects


def _carry_out(ops: TicketOps, firing: Firing) -> None:
    verdict = "matched" if firing.matched else "not_matched"
    ops.record(
        f"automation.{verdict}",
        None,
        "\n".join(firing.evaluation.lines()),
        public=False,
        changes={"rule": [None, firing.rule_name]},
    )
    for action in firing.actions:
        try:
            _ACTIONS[type(action)](ops, action)
        except TicketflowError as error:
            ops.record(
                "automation.skipped",
                None,
                f"{firing.rule_name}: {action.describe()} skipped: {error.detail}",
                public=False,
            )


def _notify(ops: TicketOps, action: SendNotification) -> None:
    state = ops.state
    target = str(action.target)
    if target == "assignee":
        recipients = [Recipient(user_id=state.assignee_id)] if state.assignee_id else []
    elif target == "requester":
        recipients = [Recipient(user_id=state.requester_id)]
    elif target == "manager":
        recipients = [Recipient(department_manager_of=state.department.id)]
    else:
        recipients = [Recipient(user_id=UUID(target))]
    if recipients:
        ops.notify("automation", recipients, action.message)


def _comment(ops: TicketOps, action: AddComment) -> None:
    record = CommentRecord(
        id=row_id(ops.state.id, "rule-comment", ops.state.seq + 1),
        author_id=AUTOMATION_AUTHOR,
        body=action.body,
        private=action.private,
        created_at=ops.now,
    )
    first_time = record.id not in ops.state.comment_ids
    # Not staff: a rule's comment answers nobody, so it stops no SLA clock.
    ops.comment(record, by_staff=False)
    if first_time and not record.private:
        # It is still the desk speaking to the requester, who hears of it as of any reply.
        ops.notify_requester_of_reply(record)


def _escalate(ops: TicketOps, action: Escalate) -> None:
    ops.record("automation.escalated", None, f"Escalated to level {action.level}", public=False)
    manager = [Recipient(department_manager_of=ops.state.department.id)]
    ops.notify(
        f"escalated.{action.level}", manager, f"Ticket #{ops.state.number} escalated", urgent=True
    )


def _incident(ops: TicketOps, action: CreateIncident) -> None:
    ops.record("automation.incident", None, "Incident requested", public=False)
    manager = [Recipient(department_manager_of=ops.state.department.id)]
    ops.notify("incident", manager, f"Incident opened for ticket #{ops.state.number}", urgent=True)


def _move_department(ops: TicketOps, action: AssignDepartment) -> None:
    if action.department is None:
        raise _Gone(f"department {action.department_id} no longer exists")
    ops.move_to_department(action.department, None)


class _Gone(TicketflowError):
    code = "gone"


# Each action type and how it is carried out; `Any` because each entry takes its own type.
_ACTIONS: dict[type[Action], Callable[[TicketOps, Any], None]] = {
    SetPriority: lambda ops, a: ops.set_priority(a.priority, None),
    AssignAgent: lambda ops, a: ops.assign(a.agent_id, None),
    AssignDepartment: _move_department,
    AddTag: lambda ops, a: ops.tag(a.tag, add=True),
    RemoveTag: lambda ops, a: ops.tag(a.tag, add=False),
    SetStatus: lambda ops, a: ops.set_status(a.status, None, None),
    SendNotification: _notify,
    AddComment: _comment,
    CreateIncident: _incident,
    AutoResolve: lambda ops, a: ops.resolve(a.solution, None),
    Escalate: _escalate,
    Close: lambda ops, a: ops.close(None, for_inactivity=a.for_inactivity),
}
