"""What agents, requesters and time do to a ticket, as pure state changes.

Each operation has a `check_*` twin that raises a `TicketflowError` without changing anything,
so a workflow update validator can reject an illegal move before it reaches history.
Operations append to an `Effects` collector: timeline entries (which also become audit and SLA
history rows), comments to store and notifications to send.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.calendar import ALWAYS_OPEN, BusinessCalendar
from domain.enums import ClockState, Metric, Priority, SlaEventKind, TicketStatus
from domain.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from domain.lifecycle import check_transition
from domain.sla import (
    Clock,
    EscalationStep,
    EscalationTarget,
    PolicyTerms,
    delayed_escalations,
    next_due,
    pending_warning,
)
from domain.ticket import (
    CommentRecord,
    DepartmentTerms,
    HistoryEntry,
    NotificationIntent,
    Recipient,
    SlaEventData,
    TicketDraft,
    TicketState,
)

_S = TicketStatus
KEPT_CLOCKS_PER_METRIC = 20
EDITABLE = frozenset({"title", "description", "category", "subcategory", "tags"})
EDITABLE_BY_REQUESTER = frozenset({"title", "description"})
# A long description is kept on the timeline (workflow state, audit row) only this far: the
# ticket itself holds the full text, and the state must stay small.
KEPT_TEXT = 1_000
# An agent's reply reaches the requester (e-mail, in-app) with its text; a very long one is
# cut here with an ellipsis, because the intent travels through workflow history and the
# message ends with the ticket's link, where the whole reply can be read.
REPLY_EXCERPT = 4_000


@dataclass(frozen=True)
class Wakeup:
    at: datetime
    reason: str


@dataclass
class Effects:
    """What one or more operations produced, waiting to be written and sent."""

    history: list[HistoryEntry] = field(default_factory=list)
    comments: list[CommentRecord] = field(default_factory=list)
    notifications: list[NotificationIntent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.history or self.comments or self.notifications)

    def extend(self, other: Effects) -> None:
        self.history += other.history
        self.comments += other.comments
        self.notifications += other.notifications


def open_ticket(draft: TicketDraft) -> tuple[TicketState, Effects]:
    """A new ticket from its draft, with its SLA clocks started."""
    state = TicketState(
        **draft.model_dump(exclude={"policy", "assignee_id"}),
        policy=draft.policy,
        updated_at=draft.created_at,
    )
    ops = TicketOps(state, draft.created_at)
    ops.record("created", None, f"Ticket #{state.number} opened: {state.title}")
    ops.notify(
        "created", [Recipient(user_id=state.requester_id)], f"Ticket #{state.number} received"
    )
    ops.start_clocks(cycle=1)
    if draft.assignee_id is not None:
        ops.assign(draft.assignee_id, actor_id=None)
    state.version = 1
    return state, ops.effects


class TicketOps:
    """Operations on one ticket at one instant (`now` comes from the caller)."""

    def __init__(self, state: TicketState, now: datetime) -> None:
        self.state = state
        self.now = now
        self.effects = Effects()

    @property
    def calendar(self) -> BusinessCalendar:
        policy = self.state.policy
        return policy.business_calendar if policy else ALWAYS_OPEN

    # -- recording ---------------------------------------------------------------------------

    def record(
        self,
        kind: str,
        actor_id: UUID | None,
        summary: str,
        *,
        public: bool = True,
        changes: dict[str, list[Any]] | None = None,
        sla: SlaEventData | None = None,
        at: datetime | None = None,
    ) -> HistoryEntry:
        self.state.seq += 1
        entry = HistoryEntry(
            seq=self.state.seq,
            at=at or self.now,
            kind=kind,
            actor_id=actor_id,
            public=public,
            summary=summary,
            changes=changes or {},
            sla=sla,
        )
        self.effects.history.append(entry)
        self.state.updated_at = max(self.state.updated_at, self.now)
        return entry

    def notify(
        self,
        event: str,
        recipients: list[Recipient],
        subject: str,
        *,
        urgent: bool = False,
        params: dict[str, str] | None = None,
        body: str | None = None,
    ) -> None:
        self.effects.notifications.append(
            NotificationIntent(
                key=f"ticket-{self.state.number}/{self.state.seq}/{event}",
                event=event,
                recipients=recipients,
                subject=subject,
                body=f"{subject}: {self.state.title}" if body is None else body,
                urgent=urgent,
                params=params or {},
            )
        )

    def _change(self, field_name: str, value: Any) -> list[Any] | None:
        before = getattr(self.state, field_name)
        if before == value:
            return None
        setattr(self.state, field_name, value)
        return [_plain(before), _plain(value)]

    def _sla_event(self, clock: Clock, kind: SlaEventKind, **extra: Any) -> None:
        warn_at = self.state.policy.warn_at if self.state.policy else ()
        at: datetime = extra.pop("at", self.now)
        data = SlaEventData(
            metric=clock.metric,
            cycle=clock.cycle,
            kind=kind,
            target=clock.target,
            elapsed=clock.elapsed(at, self.calendar),
            state=clock.state(at, warn_at, self.calendar),
            due_at=clock.deadline(self.calendar),
            **extra,
        )
        summary = f"SLA {clock.metric.value.replace('_', ' ')} {kind.value}"
        self.record(f"sla.{kind.value}", None, summary, public=False, sla=data, at=at)

    # -- SLA clocks --------------------------------------------------------------------------

    def start_clocks(self, cycle: int) -> None:
        metrics = [Metric.RESOLUTION] if cycle > 1 else [Metric.FIRST_RESPONSE, Metric.RESOLUTION]
        for metric in metrics:
            self.start_clock(metric, cycle)

    def start_clock(self, metric: Metric, cycle: int) -> None:
        policy = self.state.policy
        target = policy.target(self.state.priority, metric) if policy else None
        if target is None:
            return
        clock = Clock(metric=metric, cycle=cycle, started_at=self.now, target=target)
        self.state.clocks.append(clock)
        self._sla_event(clock, SlaEventKind.APPLIED)
        if self.state.status in self._pause_statuses():
            self._pause(clock)

    def _pause_statuses(self) -> frozenset[TicketStatus]:
        return self.state.policy.pause_statuses if self.state.policy else frozenset()

    def _running(self) -> Iterator[Clock]:
        return (c for c in self.state.current_clocks() if c.running)

    def _pause(self, clock: Clock) -> None:
        if clock.pause(self.now):
            self._sla_event(clock, SlaEventKind.PAUSED)

    def _stop(self, clock: Clock | None) -> None:
        if clock is not None and clock.stop(self.now):
            self._sla_event(clock, SlaEventKind.FULFILLED)

    def _follow_status_for_clocks(self, before: TicketStatus) -> None:
        pausing = self._pause_statuses()
        if self.state.status in pausing and before not in pausing:
            for clock in self._running():
                self._pause(clock)
        elif before in pausing and self.state.status not in pausing:
            for clock in self._running():
                if clock.resume(self.now):
                    self._sla_event(clock, SlaEventKind.RESUMED)

    def change_policy(self, terms: PolicyTerms | None) -> None:
        """Apply an edited or newly matching SLA policy to the running clocks.

        Time already spent and pauses taken are kept (they are facts of each clock); only
        targets, warnings and the calendar change. A ticket that no policy matches any more
        keeps its clocks as they are.
        """
        if terms is None or terms == self.state.policy:
            return
        before = self.state.policy.name if self.state.policy else None
        self.state.policy = terms
        self.record(
            "sla.policy_changed",
            None,
            f"SLA policy {before} → {terms.name}",
            public=False,
            changes={"policy": [before, terms.name]},
        )
        self.retarget()

    def retarget(self) -> None:
        policy = self.state.policy
        if policy is None:
            return
        for clock in list(self._running()):
            target = policy.target(self.state.priority, clock.metric)
            if target is not None and clock.retarget(target, self.now, self.calendar):
                self._sla_event(clock, SlaEventKind.RETARGETED)

    # -- agent and requester actions ---------------------------------------------------------

    def check_open_for_work(self) -> None:
        if self.state.status is _S.CLOSED:
            raise Conflict(f"ticket #{self.state.number} is closed; reopen it first")

    def assign(self, assignee_id: UUID | None, actor_id: UUID | None) -> None:
        self.check_open_for_work()
        change = self._change("assignee_id", assignee_id)
        if change is None:
            return
        changes = {"assignee_id": change}
        if assignee_id is not None and self.state.status is _S.NEW:
            changes["status"] = [_S.NEW.value, _S.IN_PROGRESS.value]
            self.state.status = _S.IN_PROGRESS
        who = f"agent {assignee_id}" if assignee_id else "nobody"
        self.record("assigned", actor_id, f"Assigned to {who}", changes=changes)
        if assignee_id is not None:
            subject = f"Ticket #{self.state.number} assigned to you"
            self.notify("assigned", [Recipient(user_id=assignee_id)], subject)

    def move_to_department(self, department: DepartmentTerms, actor_id: UUID | None) -> None:
        """Hand the ticket to another department; its agents (routing) take it from there.

        The assignee belongs to the old department's queue, so the ticket is unassigned, and
        the new department's manager hears of it. The SLA policy stays as it was chosen.
        """
        self.check_open_for_work()
        if department.id == self.state.department.id:
            return
        changes: dict[str, list[Any]] = {
            "department_id": [str(self.state.department.id), str(department.id)]
        }
        if self.state.assignee_id is not None:
            changes["assignee_id"] = [str(self.state.assignee_id), None]
            self.state.assignee_id = None
        self.state.department = department
        self.record("department_changed", actor_id, f"Moved to {department.name}", changes=changes)
        self.notify(
            "department_changed",
            [Recipient(department_manager_of=department.id)],
            f"Ticket #{self.state.number} moved to {department.name}",
            params={"department": department.name},
        )

    def acknowledge(self, agent_id: UUID) -> None:
        """An agent takes note of the ticket: it becomes theirs if nobody has it, and starts."""
        self.check_open_for_work()
        if self.state.assignee_id is None:
            self.assign(agent_id, agent_id)
        elif self.state.status is _S.NEW:
            self._move(_S.IN_PROGRESS, agent_id, "status_changed")
        self.record("acknowledged", agent_id, f"Acknowledged by agent {agent_id}", public=False)

    def set_priority(self, priority: Priority, actor_id: UUID | None) -> None:
        self.check_open_for_work()
        change = self._change("priority", priority)
        if change is None:
            return
        self.record(
            "priority_changed",
            actor_id,
            f"Priority {change[0]} → {change[1]}",
            changes={"priority": change},
        )
        self.retarget()

    def tag(self, tag: str, *, add: bool) -> None:
        """Add or remove one tag (a no-op when it is already so)."""
        tags = [t for t in self.state.tags if t != tag] + ([tag] if add else [])
        if sorted(tags) == sorted(self.state.tags):
            return
        changes = {"tags": [list(self.state.tags), tags]}
        self.state.tags = tags
        verb = "Tagged" if add else "Untagged"
        self.record("tagged", None, f"{verb} {tag}", changes=changes)

    def check_edit(self, changes: Mapping[str, Any], *, by_staff: bool) -> None:
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidInput(f"these fields cannot be edited: {', '.join(sorted(unknown))}")
        if not changes:
            raise InvalidInput("name at least one field to change")
        for name in ("title", "description", "category"):
            if name in changes and not str(changes[name] or "").strip():
                raise InvalidInput(f"the {name} cannot be empty")
        if by_staff:
            self.check_open_for_work()
            return
        if set(changes) - EDITABLE_BY_REQUESTER:
            raise Forbidden("requesters can only change the title and description")
        if not self.state.status.is_open:
            raise Conflict(f"ticket #{self.state.number} is {self.state.status.value}")

    def edit(
        self, changes: Mapping[str, Any], actor_id: UUID | None, *, by_staff: bool
    ) -> dict[str, list[Any]]:
        """Change descriptive fields (title, description, category, subcategory, tags).

        Answers what changed, each as `[before, after]`; nothing changed records nothing.
        """
        self.check_edit(changes, by_staff=by_staff)
        diff: dict[str, list[Any]] = {}
        for name in sorted(changes):
            value = changes[name]
            if name == "tags":
                value = list(dict.fromkeys(value))
            if (change := self._change(name, value)) is not None:
                diff[name] = change
        if not diff:
            return diff
        shown = {name: [_clipped(v) for v in values] for name, values in diff.items()}
        self.record("edited", actor_id, f"Edited {', '.join(diff)}", changes=shown)
        return diff

    def check_attach(self) -> None:
        self.check_open_for_work()

    def attach(self, attachment_id: UUID, filename: str, actor_id: UUID | None) -> None:
        """A file was stored for the ticket: the timeline shows it."""
        self.check_attach()
        self.record(
            "attached",
            actor_id,
            f"Attached {filename}",
            changes={"attachment": [None, {"id": str(attachment_id), "filename": filename}]},
        )

    def check_set_status(self, status: TicketStatus) -> None:
        if status is _S.REOPENED:
            self.check_reopen()
        else:
            check_transition(self.state.status, status)

    def set_status(self, status: TicketStatus, actor_id: UUID | None, note: str | None) -> None:
        self.check_set_status(status)
        if status is _S.RESOLVED:
            self.resolve(note, actor_id)
        elif status is _S.CLOSED:
            self.close(actor_id, for_inactivity=False)
        elif status is _S.REOPENED:
            self.reopen(actor_id)
        else:
            self._move(status, actor_id, "status_changed")

    def _move(
        self,
        status: TicketStatus,
        actor_id: UUID | None,
        kind: str,
        extra: dict[str, list[Any]] | None = None,
    ) -> None:
        before = self.state.status
        self.state.status = status
        changes = {"status": [before.value, status.value], **(extra or {})}
        self.record(kind, actor_id, f"Status {before.value} → {status.value}", changes=changes)
        self._follow_status_for_clocks(before)

    def check_resolve(self) -> None:
        check_transition(self.state.status, _S.RESOLVED)

    def resolve(self, solution: str | None, actor_id: UUID | None) -> None:
        self.check_resolve()
        extra: dict[str, list[Any]] = {}
        if solution is not None and (change := self._change("solution", solution)):
            extra["solution"] = change
        self.state.resolved_at = self.now
        self.state.closed_for_inactivity = False
        self._move(_S.RESOLVED, actor_id, "resolved", extra)
        self._agent_replied()
        self._stop(self.state.clock(Metric.RESOLUTION))
        subject = f"Ticket #{self.state.number} resolved"
        self.notify("resolved", [Recipient(user_id=self.state.requester_id)], subject)

    def check_close(self) -> None:
        check_transition(self.state.status, _S.CLOSED)

    def close(self, actor_id: UUID | None, *, for_inactivity: bool) -> None:
        self.check_close()
        self.state.closed_at = self.now
        self.state.closed_for_inactivity = for_inactivity
        self._move(_S.CLOSED, actor_id, "closed")
        for clock in list(self._running()):
            self._stop(clock)

    def check_merge(self, into_id: UUID) -> None:
        if into_id == self.state.id:
            raise InvalidInput("a ticket cannot be merged into itself")
        self.check_close()

    def merge(self, into_id: UUID, into_number: int, actor_id: UUID | None) -> None:
        """Close the ticket as a duplicate of ticket #`into_number`; its clocks stop."""
        self.check_merge(into_id)
        changes = {"duplicate_of": [None, str(into_id)]}
        self.state.duplicate_of = into_id
        self.record("merged", actor_id, f"Merged into #{into_number}", changes=changes)
        self.close(actor_id, for_inactivity=False)
        self.notify(
            "merged",
            [Recipient(user_id=self.state.requester_id)],
            f"Ticket #{self.state.number} continues as #{into_number}",
            params={"into": str(into_number)},
        )

    def check_reopen(self) -> None:
        if self.state.status is _S.CLOSED and self.state.closed_at is not None:
            window_end = self.state.closed_at + self.state.department.reopen_window
            if self.now > window_end:
                raise Conflict(f"ticket #{self.state.number} was closed too long ago to reopen")
        check_transition(self.state.status, _S.REOPENED)

    def reopen(self, actor_id: UUID | None) -> None:
        self.check_reopen()
        self.state.resolved_at = None
        self.state.closed_at = None
        self.state.closed_for_inactivity = False
        self._move(_S.REOPENED, actor_id, "reopened")
        cycle = 1 + max((c.cycle for c in self.state.clocks), default=0)
        self.start_clock(Metric.RESOLUTION, cycle)

    def check_comment(self, body: str) -> None:
        if not body.strip():
            raise InvalidInput("a comment needs a body")

    def comment(self, comment: CommentRecord, *, by_staff: bool) -> None:
        """Store a comment; a public reply moves the ticket as a helpdesk user expects."""
        self.check_comment(comment.body)
        if comment.id in self.state.comment_ids:
            return
        self.state.comment_ids.append(comment.id)
        self.effects.comments.append(comment)
        visibility = "private note" if comment.private else "reply"
        self.record("commented", comment.author_id, f"New {visibility}", public=not comment.private)
        if comment.private:
            self._notify_mentioned(comment)
            return
        agent_reply = by_staff and comment.author_id != self.state.requester_id
        if agent_reply:
            self.notify_requester_of_reply(comment)
        self._notify_mentioned(comment, already_told=agent_reply)
        if agent_reply:
            self._agent_replied()
        elif comment.author_id == self.state.requester_id:
            self._requester_replied(comment.author_id)

    def notify_requester_of_reply(self, comment: CommentRecord) -> None:
        """The requester hears of a public reply from the desk, with its text."""
        self.notify(
            "replied",
            [Recipient(user_id=self.state.requester_id)],
            f"New reply on ticket #{self.state.number}",
            body=_clipped(comment.body.strip(), REPLY_EXCERPT),
        )

    def _notify_mentioned(self, comment: CommentRecord, *, already_told: bool = False) -> None:
        """Each user the comment mentions hears of it; of a private note, only staff do.

        The workflow knows only the requester's role, so a private note never names the
        requester (unless they are staff) and leaves the rest to the read model, which
        reaches a `staff_only` recipient only if they are staff. A requester the reply
        itself reached (`already_told`) gets no second notice for being mentioned in it.
        """
        requester = self.state.requester_id
        skip_requester = already_told or (
            comment.private and not self.state.requester_role.is_staff
        )
        for user_id in dict.fromkeys(comment.mentions):
            if user_id == requester and skip_requester:
                continue
            self.notify(
                "mentioned",
                [Recipient(user_id=user_id, staff_only=comment.private)],
                f"You were mentioned on ticket #{self.state.number}",
            )

    def _first_response_given(self) -> None:
        if self.state.first_response_at is None:
            self.state.first_response_at = self.now
            self._stop(self.state.clock(Metric.FIRST_RESPONSE))

    def _agent_replied(self) -> None:
        self._first_response_given()
        self._stop(self._running_clock(Metric.NEXT_RESPONSE))

    def _requester_replied(self, actor_id: UUID) -> None:
        if self.state.status is _S.RESOLVED:
            self.reopen(actor_id)
        elif self.state.status is _S.ON_HOLD:
            self._move(_S.IN_PROGRESS, actor_id, "status_changed")
        self._await_next_response()

    def _await_next_response(self) -> None:
        """After the first response, a requester's reply starts the next-response clock.

        It runs from the oldest unanswered reply: a second reply before an agent answers
        leaves the running clock alone. Before any first response that clock covers it.
        """
        if self.state.first_response_at is None or self.state.status is _S.CLOSED:
            return
        if self._running_clock(Metric.NEXT_RESPONSE) is not None:
            return
        last = self.state.clock(Metric.NEXT_RESPONSE)
        self._forget_old_clocks(Metric.NEXT_RESPONSE)
        self.start_clock(Metric.NEXT_RESPONSE, last.cycle + 1 if last else 1)

    def _running_clock(self, metric: Metric) -> Clock | None:
        clock = self.state.clock(metric)
        return clock if clock is not None and clock.running else None

    def _forget_old_clocks(self, metric: Metric) -> None:
        # Every exchange adds a next-response clock; the state keeps the recent ones and
        # sla_history keeps them all, so a long conversation cannot bloat the workflow.
        mine = [c for c in self.state.clocks if c.metric is metric]
        room_for_one_more = max(0, len(mine) - KEPT_CLOCKS_PER_METRIC + 1)
        stale = {id(c) for c in mine[:room_for_one_more]}
        self.state.clocks = [c for c in self.state.clocks if id(c) not in stale]

    def check_rate(self) -> None:
        if self.state.status not in (_S.RESOLVED, _S.CLOSED):
            raise Conflict("only a resolved or closed ticket can be rated")

    def rate(self, score: int, feedback: str | None, actor_id: UUID | None) -> None:
        self.check_rate()
        changes: dict[str, list[Any]] = {
            "satisfaction_score": [self.state.satisfaction_score, score]
        }
        self.state.satisfaction_score = score
        if feedback is not None:
            changes["feedback"] = [self.state.feedback, feedback]
            self.state.feedback = feedback
        self.record("rated", actor_id, f"Rated {score}/10", changes=changes)

    # -- time --------------------------------------------------------------------------------

    def auto_close_at(self) -> datetime | None:
        if self.state.status is _S.RESOLVED and self.state.resolved_at is not None:
            return self.state.resolved_at + self.state.department.auto_close_after
        return None

    def reopen_window_ends_at(self) -> datetime | None:
        if self.state.status is _S.CLOSED and self.state.closed_at is not None:
            return self.state.closed_at + self.state.department.reopen_window
        return None

    def next_wakeup(self) -> Wakeup | None:
        """The next instant the ticket needs attention without anyone acting on it, and why."""
        warn_at = self._warn_at()
        steps = self._escalation_steps()
        candidates = [
            Wakeup(at, f"SLA {clock.metric.value.replace('_', ' ')} check")
            for clock in self.state.current_clocks()
            if (at := next_due(clock, warn_at, self.calendar, steps)) is not None
        ]
        if (close_at := self.auto_close_at()) is not None:
            candidates.append(Wakeup(close_at, "auto-close if the requester stays silent"))
        if (ends := self.reopen_window_ends_at()) is not None:
            candidates.append(Wakeup(ends, "end of the reopen window"))
        return min(candidates, key=lambda w: w.at, default=None)

    def finished(self) -> bool:
        """A closed ticket whose reopen window has passed has nothing left to wait for."""
        ends = self.reopen_window_ends_at()
        return ends is not None and self.now >= ends

    def advance_time(self) -> None:
        """Fire every warning, breach and auto-close due at `now`."""
        for clock in list(self._running()):
            self._fire_clock(clock)
        close_at = self.auto_close_at()
        if close_at is not None and self.now >= close_at:
            self.close(None, for_inactivity=True)

    def _fire_clock(self, clock: Clock) -> None:
        if clock.breached_at is not None:
            self._run_delayed_escalations(clock)
        elif clock.state(self.now, (), self.calendar) is ClockState.BREACHED:
            self._breach(clock)
        else:
            self._warn(clock)

    def _breach(self, clock: Clock) -> None:
        deadline = clock.deadline(self.calendar) or self.now
        clock.breached_at = deadline
        clock.warned = sorted(set(clock.warned) | set(self._warn_at()))
        self._sla_event(clock, SlaEventKind.BREACHED, at=deadline)
        at_breach = [
            (index, step)
            for index, step in enumerate(self._escalation_steps())
            if step.after == timedelta(0)
        ]
        if not at_breach:
            subject = f"SLA breached on ticket #{self.state.number} ({clock.metric.value})"
            self.notify(
                f"sla_breached.{clock.metric.value}",
                self._escalation_targets(),
                subject,
                urgent=True,
            )
        for index, step in at_breach:
            self._escalate(clock, index, step, deadline)
        self._run_delayed_escalations(clock)

    def _run_delayed_escalations(self, clock: Clock) -> None:
        steps = self._escalation_steps()
        for index, due_at in delayed_escalations(clock, steps):
            if due_at <= self.now:
                clock.escalated.append(index)
                self._escalate(clock, index, steps[index], due_at)

    def _escalate(self, clock: Clock, index: int, step: EscalationStep, due_at: datetime) -> None:
        metric = clock.metric.value.replace("_", " ")
        late = _minutes(step.after)
        self.record(
            "sla.escalated",
            None,
            f"SLA {metric} escalation, {late} min after the breach",
            public=False,
            at=due_at,
        )
        if step.notify:
            subject = f"SLA breached on ticket #{self.state.number} ({clock.metric.value})"
            if step.after:
                subject = f"Still breached after {late} min: ticket #{self.state.number}"
            self.notify(
                f"sla_escalation.{clock.metric.value}.{index + 1}",
                self._step_targets(step.notify),
                subject,
                urgent=True,
            )
        if step.set_priority is not None:
            self.set_priority(step.set_priority, None)
        if isinstance(step.assign_to, UUID):
            self.assign(step.assign_to, None)
        elif step.assign_to == "manager" and self.state.department.manager_id is not None:
            self.assign(self.state.department.manager_id, None)

    def _warn(self, clock: Clock) -> None:
        fraction = pending_warning(clock, self.now, self._warn_at(), self.calendar)
        if fraction is None:
            return
        due_at = clock.time_at(fraction, self.calendar) or self.now
        clock.warned = sorted(set(clock.warned) | {f for f in self._warn_at() if f <= fraction})
        self._sla_event(clock, SlaEventKind.WARNED, fraction=fraction, at=due_at)
        left = _minutes(clock.remaining(self.now, self.calendar))
        subject = f"SLA warning on ticket #{self.state.number}: {left} min left"
        targets = [Recipient(user_id=self.state.assignee_id)] if self.state.assignee_id else []
        self.notify(
            f"sla_warning.{clock.metric.value}",
            targets or self._escalation_targets(),
            subject,
            urgent=True,
            params={"minutes_left": str(left)},
        )

    def _escalation_steps(self) -> tuple[EscalationStep, ...]:
        return self.state.policy.escalation if self.state.policy else ()

    def _step_targets(self, names: list[EscalationTarget]) -> list[Recipient]:
        chosen = {
            "assignee": Recipient(user_id=self.state.assignee_id)
            if self.state.assignee_id
            else None,
            "manager": Recipient(department_manager_of=self.state.department.id),
            "admins": Recipient(admins=True),
        }
        return [r for name in names if (r := chosen[name]) is not None]

    def _warn_at(self) -> tuple[float, ...]:
        return self.state.policy.warn_at if self.state.policy else ()

    def _escalation_targets(self) -> list[Recipient]:
        targets = [Recipient(department_manager_of=self.state.department.id)]
        if self.state.assignee_id is not None:
            targets.insert(0, Recipient(user_id=self.state.assignee_id))
        return targets


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _clipped(value: Any, limit: int = KEPT_TEXT) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, UUID | datetime):
        return str(value)
    if hasattr(value, "value"):
        return value.value
    return value


__all__ = ["Effects", "IllegalTransition", "TicketOps", "open_ticket"]
