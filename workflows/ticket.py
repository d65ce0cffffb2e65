"""TicketWorkflow: one support ticket, from its opening to the end of its reopen window.

The workflow holds the ticket (the source of truth), runs its SLA clocks on durable timers and
hands every side effect to activities: each state change is flushed as one idempotent batch to
the PostgreSQL read model by a local activity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.automation import RuleBook, open_with_rules
    from domain.errors import IllegalTransition, TicketflowError
    from domain.messages import (
        AssignInput,
        AttachInput,
        CloseInput,
        CommentInput,
        Dispatch,
        EditInput,
        ExternalReply,
        HistoryQuery,
        MergeInput,
        PickAgentInput,
        PickAgentResult,
        PolicyChanged,
        RateInput,
        ReadModelBatch,
        ReadModelOutcome,
        ReopenInput,
        ResolveInput,
        RulesChanged,
        SetPriorityInput,
        SetStatusInput,
        SlackAction,
        TicketWorkflowInput,
    )
    from domain.operations import Effects, TicketOps, Wakeup
    from domain.policies import TicketFacts
    from domain.rules import Trigger
    from domain.ticket import CommentRecord, HistoryEntry, TicketState
    from domain.views import SlaView, TicketView, sla_view, ticket_view
    from workflows.visibility import details_card, search_attribute_updates

READ_MODEL_ACTIVITY = "apply_read_model"
DELIVERY_ACTIVITIES = {  # activities.delivery / activities.webhooks
    "notification": "deliver_notification",
    "webhook": "deliver_webhook",
}
OUTBOUND_PATCH = "outbound-delivery"
PICK_AGENT_ACTIVITY = "pick_agent"  # activities.routing.PICK_AGENT
RELEASE_PICK_ACTIVITY = "release_pick"
AUTO_ASSIGN_PATCH = "auto-assign"  # activities.readmodel.APPLY_READ_MODEL
ROUTE_FIRST_PATCH = "route-before-first-write"
HISTORY_KEPT = 1_000
_READ_MODEL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
# A provider outage is waited out for a day, backing off to one try every 10 minutes; a
# provider's 4xx (or Retry-After) is decided by the activity.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=200,
)
DELIVERY_WINDOW = timedelta(days=1)
# A send heartbeats while it waits on the provider: a worker that dies mid-send is noticed,
# and the send retried, this long after, not after the whole minute a send may take.
DELIVERY_HEARTBEAT = timedelta(seconds=15)


def _rejected(error: TicketflowError) -> ApplicationError:
    details: list[Any] = []
    if isinstance(error, IllegalTransition):
        details.append({"allowed": error.allowed})
    return ApplicationError(error.detail, *details, type=error.code, non_retryable=True)


@workflow.defn(name="TicketWorkflow")
class TicketWorkflow:
    """A ticket's whole lifecycle; agents drive it with updates, integrations with signals."""

    @workflow.init
    def __init__(self, input: TicketWorkflowInput) -> None:
        self._pending = Effects()
        self._continue_after = input.continue_as_new_after
        self._timer: asyncio.Task[None] | None = None
        self._timer_at: Wakeup | None = None
        self._searchable: dict[str, Any] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self._rules = RuleBook(input.rules, input.time_rules_held)
        self._replan = False
        self._reroute = False  # moved to another department: routing picks a new agent
        self._is_new = input.draft is not None
        self._row_written = input.state is not None  # a continued ticket's row exists
        if input.state is not None:
            self._state = input.state
            self._history = list(input.history)
        elif input.draft is not None:
            self._state, effects = open_with_rules(input.draft, self._rules)
            self._history = []
            self._absorb(effects)
        else:
            raise ApplicationError("a ticket needs a draft or a state", non_retryable=True)

    # -- main loop -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: TicketWorkflowInput) -> TicketView:
        routes = self._is_new and self._state.assignee_id is None
        if routes and workflow.patched(ROUTE_FIRST_PATCH):
            # Routing before the first write: the ticket reaches the read model once, assigned.
            await self._auto_assign()
            await self._flush()
        else:
            await self._flush()
            if routes:
                await self._auto_assign()
        while True:
            if self._ops().finished():
                break
            self._arm_timer()
            await workflow.wait_condition(
                lambda: (
                    bool(self._pending)
                    or self._timer_fired()
                    or self._replan
                    or self._reroute
                    or self._should_continue()
                )
            )
            self._replan = False
            if self._timer_fired():
                self._timer, self._timer_at = None, None
                ops = self._ops()
                ops.advance_time()
                self._rules.on_time(ops, self._history + ops.effects.history)
                self._commit(ops)
            await self._flush()
            if self._reroute:
                self._reroute = False
                if self._state.assignee_id is None:
                    await self._auto_assign()
            if self._should_continue():
                await self._continue_as_new()
        await workflow.wait_condition(lambda: not self._sending)
        return self._view()

    async def _auto_assign(self) -> None:
        """Give a new, unassigned ticket to the agent routing picks (if anyone is free)."""
        if not workflow.patched(AUTO_ASSIGN_PATCH):
            return
        picked = await workflow.execute_local_activity(
            PICK_AGENT_ACTIVITY,
            PickAgentInput(department_id=self._state.department.id, category=self._state.category),
            result_type=PickAgentResult,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=_READ_MODEL_RETRY,
            summary="pick an agent",
        )
        if picked.agent_id is None:
            return
        if self._state.assignee_id is not None or not self._state.status.is_open:
            # Someone was quicker while routing looked: give the pick back.
            await workflow.execute_local_activity(
                RELEASE_PICK_ACTIVITY,
                picked.agent_id,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=_READ_MODEL_RETRY,
            )
            return
        self._act(lambda ops: ops.assign(picked.agent_id, None))
        if not workflow.patched(ROUTE_FIRST_PATCH):
            await self._flush()

    def _next_wakeup(self) -> Wakeup | None:
        now = workflow.now()
        wakeups = [
            self._ops().next_wakeup(),
            self._rules.next_wakeup(self._state, now, self._history),
        ]
        return min((w for w in wakeups if w is not None), key=lambda w: w.at, default=None)

    def _arm_timer(self) -> None:
        """Keep exactly one durable timer, on the next instant the ticket needs attention."""
        wakeup = self._next_wakeup()
        if wakeup == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = wakeup
        self._timer = None
        if wakeup is None:
            return
        delay = max((wakeup.at - workflow.now()).total_seconds(), 0.001)
        self._timer = asyncio.create_task(workflow.sleep(delay, summary=wakeup.reason))

    def _timer_fired(self) -> bool:
        return self._timer is not None and self._timer.done()

    def _should_continue(self) -> bool:
        info = workflow.info()
        if self._continue_after is not None:
            return info.get_current_history_length() >= self._continue_after
        return info.is_continue_as_new_suggested()

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush()
        await workflow.wait_condition(lambda: not self._sending)
        if self._timer is not None:
            self._timer.cancel()
        workflow.continue_as_new(
            TicketWorkflowInput(
                state=self._state,
                history=self._history,
                rules=self._rules.rules,
                time_rules_held=self._rules.seen_true,
                continue_as_new_after=self._continue_after,
            )
        )

    # -- effects ---------------------------------------------------------------------------------

    def _ops(self) -> TicketOps:
        return TicketOps(self._state, workflow.now())

    def _absorb(self, effects: Effects) -> None:
        self._pending.extend(effects)
        if any(entry.kind == "department_changed" for entry in effects.history):
            self._reroute = True
        self._history = (self._history + effects.history)[-HISTORY_KEPT:]

    def _commit(self, ops: TicketOps) -> TicketView:
        if ops.effects:
            self._state.version += 1
            self._absorb(ops.effects)
        return self._view()

    async def _flush(self) -> None:
        """Write what changed to the read model and refresh what the Web UI shows."""
        view = self._view()
        self._publish(view)
        if not self._pending:
            return
        effects, self._pending = self._pending, Effects()
        batch = ReadModelBatch(
            ticket=view,
            requester_role=self._state.requester_role,
            history=effects.history,
            comments=effects.comments,
            notifications=effects.notifications,
            first_write=not self._row_written,
        )
        self._row_written = True
        await self._write_read_model(batch)

    async def _write_read_model(self, batch: ReadModelBatch) -> None:
        # Untyped on purpose: histories from before outbound delivery recorded no result.
        result = await workflow.execute_local_activity(
            READ_MODEL_ACTIVITY,
            batch,
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=_READ_MODEL_RETRY,
            summary=f"read model v{batch.ticket.version}",
        )
        outcome = ReadModelOutcome.model_validate(result) if result else None
        if outcome and outcome.dispatches and workflow.patched(OUTBOUND_PATCH):
            for dispatch in outcome.dispatches:
                task = asyncio.create_task(self._send(dispatch))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _send(self, dispatch: Dispatch) -> None:
        """One notification or webhook, retried durably; its failure never fails the ticket."""
        try:
            await workflow.execute_activity(
                DELIVERY_ACTIVITIES[dispatch.kind],
                dispatch.id,
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=DELIVERY_WINDOW,
                heartbeat_timeout=DELIVERY_HEARTBEAT,
                retry_policy=DELIVERY_RETRY,
                summary=f"{dispatch.kind} {dispatch.id}",
            )
        except ActivityError as error:
            workflow.logger.warning("%s %s not delivered: %s", dispatch.kind, dispatch.id, error)

    def _publish(self, view: TicketView) -> None:
        updates = search_attribute_updates(self._state, view, self._searchable)
        if updates:
            workflow.upsert_search_attributes(updates)
        workflow.set_current_details(details_card(self._state, view))

    def _view(self) -> TicketView:
        return ticket_view(self._state, workflow.now())

    def _act(
        self,
        change: Callable[[TicketOps], None],
        trigger: Trigger = Trigger.UPDATED,
        comment: CommentRecord | None = None,
    ) -> TicketView:
        ops = self._ops()
        before = self._snapshot() if self._rules.has(trigger) else None
        try:
            change(ops)
        except TicketflowError as error:
            raise _rejected(error) from error
        if ops.effects:
            history = self._history + ops.effects.history
            self._rules.on_event(ops, trigger, history, before=before, comment=comment)
        return self._commit(ops)

    def _snapshot(self) -> TicketState:
        return self._state.model_copy(deep=True)

    def _check(self, check: Callable[[TicketOps], None]) -> None:
        try:
            check(self._ops())
        except TicketflowError as error:
            raise _rejected(error) from error

    # -- updates ---------------------------------------------------------------------------------

    @workflow.update(name="assign", description="Assign the ticket to an agent (null unassigns).")
    def assign(self, input: AssignInput) -> TicketView:
        return self._act(lambda ops: ops.assign(input.assignee_id, input.actor_id))

    @assign.validator
    def _validate_assign(self, input: AssignInput) -> None:
        self._check(lambda ops: ops.check_open_for_work())

    @workflow.update(name="set_priority", description="Change the priority; SLA clocks re-target.")
    def set_priority(self, input: SetPriorityInput) -> TicketView:
        return self._act(lambda ops: ops.set_priority(input.priority, input.actor_id))

    @set_priority.validator
    def _validate_set_priority(self, input: SetPriorityInput) -> None:
        self._check(lambda ops: ops.check_open_for_work())

    @workflow.update(
        name="edit",
        description=(
            "Edit title, description, category, subcategory or tags (null keeps a field); "
            "a new category re-selects the SLA policy from `policies` when given."
        ),
    )
    def edit(self, input: EditInput) -> TicketView:
        by_staff = input.actor_role.is_staff

        def change(ops: TicketOps) -> None:
            diff = ops.edit(input.changes(), input.actor_id, by_staff=by_staff)
            if "category" in diff and input.policies is not None:
                ops.change_policy(input.policies.terms_for(self._facts()))

        return self._act(change)

    @edit.validator
    def _validate_edit(self, input: EditInput) -> None:
        by_staff = input.actor_role.is_staff
        self._check(lambda ops: ops.check_edit(input.changes(), by_staff=by_staff))

    @workflow.update(name="attach", description="Put a stored file on the ticket's timeline.")
    def attach(self, input: AttachInput) -> TicketView:
        return self._act(
            lambda ops: ops.attach(input.attachment_id, input.filename, input.actor_id)
        )

    @attach.validator
    def _validate_attach(self, input: AttachInput) -> None:
        self._check(lambda ops: ops.check_attach())

    @workflow.update(name="set_status", description="Move the ticket to another status.")
    def set_status(self, input: SetStatusInput) -> TicketView:
        return self._act(lambda ops: ops.set_status(input.status, input.actor_id, input.note))

    @set_status.validator
    def _validate_set_status(self, input: SetStatusInput) -> None:
        self._check(lambda ops: ops.check_set_status(input.status))

    @workflow.update(name="comment", description="Add a public reply or a private note.")
    def comment(self, input: CommentInput) -> TicketView:
        record = CommentRecord(
            id=input.comment_id or workflow.uuid4(),
            author_id=input.author_id,
            body=input.body,
            private=input.private,
            mentions=input.mentions,
            attachments=input.attachments,
            created_at=workflow.now(),
        )
        by_staff = input.author_role.is_staff
        return self._act(
            lambda ops: ops.comment(record, by_staff=by_staff), Trigger.COMMENT_ADDED, record
        )

    @comment.validator
    def _validate_comment(self, input: CommentInput) -> None:
        self._check(lambda ops: ops.check_comment(input.body))

    @workflow.update(name="resolve", description="Resolve the ticket, with an optional solution.")
    def resolve(self, input: ResolveInput) -> TicketView:
        return self._act(lambda ops: ops.resolve(input.solution, input.actor_id))

    @resolve.validator
    def _validate_resolve(self, input: ResolveInput) -> None:
        self._check(lambda ops: ops.check_resolve())

    @workflow.update(name="close", description="Close the ticket.")
    def close(self, input: CloseInput) -> TicketView:
        return self._act(lambda ops: ops.close(input.actor_id, for_inactivity=False))

    @close.validator
    def _validate_close(self, input: CloseInput) -> None:
        self._check(lambda ops: ops.check_close())

    @workflow.update(name="reopen", description="Reopen a resolved or recently closed ticket.")
    def reopen(self, input: ReopenInput) -> TicketView:
        return self._act(lambda ops: ops.reopen(input.actor_id))

    @reopen.validator
    def _validate_reopen(self, input: ReopenInput) -> None:
        self._check(lambda ops: ops.check_reopen())

    @workflow.update(name="merge", description="Close as a duplicate of another ticket.")
    def merge(self, input: MergeInput) -> TicketView:
        return self._act(lambda ops: ops.merge(input.into_id, input.into_number, input.actor_id))

    @merge.validator
    def _validate_merge(self, input: MergeInput) -> None:
        self._check(lambda ops: ops.check_merge(input.into_id))

    @workflow.update(name="rate", description="The requester's satisfaction score (1-10).")
    def rate(self, input: RateInput) -> TicketView:
        return self._act(lambda ops: ops.rate(input.score, input.feedback, input.actor_id))

    @rate.validator
    def _validate_rate(self, input: RateInput) -> None:
        self._check(lambda ops: ops.check_rate())

    # -- signals ---------------------------------------------------------------------------------

    @workflow.signal(name="external_reply", description="A reply that came in by e-mail, SMS…")
    def external_reply(self, input: ExternalReply) -> None:
        record = CommentRecord(
            id=input.comment_id or workflow.uuid4(),
            author_id=input.author_id,
            body=input.body,
            attachments=input.attachments,
            created_at=workflow.now(),
        )
        by_staff = input.author_role.is_staff
        try:
            self._act(
                lambda ops: ops.comment(record, by_staff=by_staff), Trigger.COMMENT_ADDED, record
            )
        except ApplicationError as error:
            workflow.logger.warning("external reply ignored: %s", error)

    @workflow.signal(name="slack_action", description="Assign to me / Acknowledge / Resolve.")
    def slack_action(self, input: SlackAction) -> None:
        actions: dict[str, Callable[[TicketOps], None]] = {
            "assign_to_me": lambda ops: ops.assign(input.agent_id, input.agent_id),
            "acknowledge": lambda ops: ops.acknowledge(input.agent_id),
            "resolve": lambda ops: ops.resolve(None, input.agent_id),
        }
        try:
            self._act(actions[input.action])
        except ApplicationError as error:
            workflow.logger.warning("slack action %s ignored: %s", input.action, error)

    @workflow.signal(name="policy_changed", description="The SLA policies now in force.")
    def policy_changed(self, input: PolicyChanged) -> None:
        terms = input.policies.terms_for(self._facts())
        self._act(lambda ops: ops.change_policy(terms))

    def _facts(self) -> TicketFacts:
        """What SLA policy conditions look at, as the ticket stands now."""
        state = self._state
        return TicketFacts(
            department_id=state.department.id,
            category=state.category,
            priority=state.priority,
            requester_role=state.requester_role,
        )

    @workflow.signal(name="rules_changed", description="The automation rules now in force.")
    def rules_changed(self, input: RulesChanged) -> None:
        self._rules = RuleBook(input.rules, self._rules.seen_true)
        self._replan = True

    # -- queries ---------------------------------------------------------------------------------

    @workflow.query(name="ticket", description="The ticket as it is now.")
    def ticket(self) -> TicketView:
        return self._view()

    @workflow.query(name="sla", description="The SLA clocks as they stand now.")
    def sla(self) -> SlaView:
        return sla_view(self._state, workflow.now())

    @workflow.query(name="history", description="The ticket's timeline, oldest first.")
    def history(self, input: HistoryQuery | None = None) -> list[HistoryEntry]:
        if input is None or input.include_private:
            return list(self._history)
        return [entry for entry in self._history if entry.public]
