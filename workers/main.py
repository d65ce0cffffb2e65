"""Builds the ticketflow worker: the ticket workflow and the activities it calls."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.readmodel import ReadModelActivities
from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow

# Parked tickets are evicted and replayed on demand; this bounds worker memory.
MAX_CACHED_WORKFLOWS = 2_000


def build_worker(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    task_queue: str | None = None,
) -> Worker:
    """A worker for the ticket workflow, its activities wired to their collaborators."""
    read_model = ReadModelActivities(sessions)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[TicketWorkflow],
        activities=[read_model.apply],
        max_cached_workflows=MAX_CACHED_WORKFLOWS,
    )
