"""Builds the ticketflow worker: the workflows and the activities they call."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.broadcast import BroadcastActivities
from activities.channels import CREDENTIALS, Channels, email_channel
from activities.delivery import DeliveryActivities
from activities.readmodel import ReadModelActivities
from activities.reports import ReportActivities
from activities.routing import RoutingActivities
from activities.webhooks import WebhookActivities
from domain.notices import EXTERNAL_CHANNELS
from persistence.outbox import Links, Outbound
from ticketflow.settings import Settings
from workers.runner import ContextFreeRunner
from workflows.account import AccountMessageWorkflow
from workflows.broadcast import BroadcastWorkflow
from workflows.report import ReportWorkflow
from workflows.ticket import TicketWorkflow

log = logging.getLogger(__name__)

# Parked tickets are evicted and replayed on demand; this bounds worker memory.
MAX_CACHED_WORKFLOWS = 2_000

# Workflow tasks take turns on one Python thread at a time. A task the worker has taken but
# not yet run waits inside it with its clock already running: Temporal stamps the task's start
# (what `workflow.now()` reads) when it hands the task over, so every timer the task arms
# starts that much late. Taking only a few at a time leaves the backlog in Temporal's task
# queue, unstamped and open to any other worker. Not fewer: a task waiting on its read-model
# write holds its slot, and with 4 a full benchmark's breaches queued behind those writes
# (`docs/benchmark.md`).
MAX_CONCURRENT_WORKFLOW_TASKS = 8

# The sandbox still forbids non-deterministic calls (clocks, I/O, randomness) in workflow
# code, but reuses already-imported modules instead of re-importing them for every ticket:
# the workflow imports only temporalio and the pure domain, which hold no mutable state.
WORKFLOW_RUNNER = ContextFreeRunner(
    SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())
)


def build_worker(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    task_queue: str | None = None,
) -> Worker:
    """A worker for the ticket workflow, its activities wired to their collaborators."""
    links = Links(settings.public_url, settings.link_keys)
    channels = Channels(settings)
    _log_recording_only(channels)
    sending = frozenset(c for c in EXTERNAL_CHANNELS if channels.configured(c))
    slack_channel = settings.slack_channel or None  # an empty variable means unset
    outbound = Outbound(links, sending, slack_channel, settings.slack_channel_locale)
    read_model = ReadModelActivities(sessions, outbound)
    routing = RoutingActivities(sessions)
    delivery = DeliveryActivities(sessions, channels, links)
    webhooks = WebhookActivities(sessions, settings)
    reports = ReportActivities(sessions, email_channel(settings))
    broadcasts = BroadcastActivities(sessions)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[TicketWorkflow, ReportWorkflow, BroadcastWorkflow, AccountMessageWorkflow],
        activities=[
            read_model.apply,
            routing.pick,
            routing.release,
            delivery.deliver,
            delivery.deliver_account_message,
            webhooks.deliver,
            reports.send,
            broadcasts.broadcast,
        ],
        max_cached_workflows=MAX_CACHED_WORKFLOWS,
        max_concurrent_workflow_tasks=MAX_CONCURRENT_WORKFLOW_TASKS,
        workflow_runner=WORKFLOW_RUNNER,
    )


def _log_recording_only(channels: Channels) -> None:
    # Once per channel as the worker starts, not once per message: at benchmark load a line per
    # recorded row would be thousands a minute saying the same thing, and each row already
    # carries "recorded only" for whoever looks at one message.
    for channel in channels.recording_only():
        log.warning(
            "%s notifications will be recorded, not sent: set %s to send them",
            channel,
            CREDENTIALS[channel],
        )
