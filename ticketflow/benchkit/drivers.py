"""The two sides of every figure: ticketflow through its HTTP API, and bare Temporal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle

from api.services.tickets import workflow_id
from domain.enums import SlaEventKind
from persistence.models import SlaHistory
from ticketflow.benchkit.api_client import BenchApi
from ticketflow.benchkit.bare import PARKED_WORKFLOW, POKE_SIGNAL, TIMER_WORKFLOW
from ticketflow.benchkit.load import run_batch
from ticketflow.benchkit.processes import BenchError

BENCH_CATEGORY = "bench"
BREACH_CATEGORY = "bench-breach"
BREACH_POLICY = "Bench breach"
BURST_CATEGORY = "bench-burst"
BURST_POLICY = "Bench burst"
_BREACH_WAIT_S = 90.0
_POLL_S = 0.25


def batch_timeout(count: int) -> float:
    """A generous bound for a batch: nothing in the bench may hang for ever."""
    return 60.0 + count * 0.5


def _deadline(ticket: dict[str, Any], policy: str) -> datetime:
    """When the ticket's first response is due, under the bench policy."""
    sla = ticket.get("sla") or {}
    first_response = sla.get("first_response") or {}
    if sla.get("policy") != policy or not first_response.get("target_at"):
        raise BenchError(
            f"ticket #{ticket.get('number')} did not get the {policy!r} first-response "
            f"target: sla = {sla}"
        )
    return datetime.fromisoformat(first_response["target_at"])


@dataclass(frozen=True)
class TimedBatch:
    """How late (ms) each ticket of a batch was, after the instant it came due."""

    late_ms: list[float]
    offsets_s: list[float]  # each due instant from the start of the batch, for the bare side
    due_by_workflow: dict[str, datetime]  # workflow id -> due instant


def timed_batch(late_ms: list[float], started: float, due: dict[int, datetime]) -> TimedBatch:
    """A batch opened at `started` (epoch s) whose tickets (by number) came `due`."""
    return TimedBatch(
        late_ms=late_ms,
        offsets_s=[instant.timestamp() - started for instant in due.values()],
        due_by_workflow={workflow_id(number): instant for number, instant in due.items()},
    )


async def wait_for_rows(
    sessions: async_sessionmaker[AsyncSession],
    count: Select[int],
    wanted: int,
    *,
    until: float,
    what: str,
) -> None:
    """Poll `count` until it reaches `wanted`; BenchError once `until` (epoch s) has passed."""
    while True:
        async with sessions() as session:
            done = await session.scalar(count) or 0
        if done >= wanted:
            return
        if time.time() > until:
            raise BenchError(f"only {done} of {wanted} {what} were recorded in time")
        await asyncio.sleep(_POLL_S)


class TicketflowDriver:
    """Opens and changes tickets the way a client does: HTTP requests to the API."""

    def __init__(
        self,
        api: BenchApi,
        sessions: async_sessionmaker[AsyncSession],
        department_id: UUID,
        concurrency: int,
    ) -> None:
        self.api = api
        self.sessions = sessions
        self.department_id = department_id
        self.concurrency = concurrency

    async def open_tickets(
        self, count: int, *, label: str, category: str = BENCH_CATEGORY, priority: str = "P3"
    ) -> tuple[float, list[dict[str, Any]]]:
        """`POST /tickets` `count` times; the batch's wall seconds and the tickets it opened."""
        opened: list[dict[str, Any]] = [{} for _ in range(count)]

        async def open_one(index: int) -> None:
            opened[index] = await self.api.create_ticket(
                {
                    "title": f"{label} #{index}",
                    "description": "Opened by `ticketflow bench`; nobody will answer it.",
                    "department_id": str(self.department_id),
                    "category": category,
                    "priority": priority,
                }
            )

        seconds = await run_batch(count, self.concurrency, open_one, within=batch_timeout(count))
        return seconds, opened

    async def change_priorities(self, numbers: Sequence[int], count: int) -> float:
        """`count` priority changes spread over `numbers`, each a real change (P3 ↔ P2)."""

        async def change_one(index: int) -> None:
            lap, slot = divmod(index, len(numbers))
            await self.api.set_priority(numbers[slot], "P2" if lap % 2 == 0 else "P3")

        return await run_batch(count, self.concurrency, change_one, within=batch_timeout(count))

    async def add_breach_policy(self, target_s: int, warn_at: Sequence[float]) -> None:
        """A policy tried first, for the breach tickets only: P1 first response in `target_s`."""
        await self.api.create_policy(
            {
                "name": BREACH_POLICY,
                "position": 0,
                "conditions": {"category": [BREACH_CATEGORY]},
                "targets": {"P1": {"first_response": f"PT{target_s}S"}},
                "warn_at": list(warn_at),
            }
        )

    async def add_burst_policy(self, target_s: int) -> str:
        """A policy tried first, for the burst tickets only: P1 first response in `target_s`,
        no warnings (the burst times breaches alone); its id."""
        created = await self.api.create_policy(
            {
                "name": BURST_POLICY,
                "position": 0,
                "conditions": {"category": [BURST_CATEGORY]},
                "targets": {"P1": {"first_response": f"PT{target_s}S"}},
                "warn_at": [],
            }
        )
        return str(created["id"])

    async def breach_lateness(
        self,
        count: int,
        *,
        label: str = "breach",
        category: str = BREACH_CATEGORY,
        policy: str = BREACH_POLICY,
    ) -> TimedBatch:
        """Open `count` P1 tickets on the bench `policy` and wait until every one breached.

        A breach's lateness is `recorded_at - occurred_at` in the read model: from the exact
        deadline to the write of the breach.
        """
        started = time.time()
        _, opened = await self.open_tickets(count, label=label, category=category, priority="P1")
        ids = [UUID(ticket["id"]) for ticket in opened]
        deadlines = {ticket["number"]: _deadline(ticket, policy) for ticket in opened}
        breached = SlaHistory.ticket_id.in_(ids) & (SlaHistory.event == SlaEventKind.BREACHED)
        await wait_for_rows(
            self.sessions,
            select(func.count()).select_from(SlaHistory).where(breached),
            len(ids),
            until=max(deadlines.values()).timestamp() + _BREACH_WAIT_S,
            what="SLA breaches",
        )
        return timed_batch(await self._lateness_ms(ids), started, deadlines)

    async def _lateness_ms(self, ids: list[UUID]) -> list[float]:
        late = func.extract("epoch", SlaHistory.recorded_at - SlaHistory.occurred_at) * 1000
        query = select(late).where(
            SlaHistory.ticket_id.in_(ids), SlaHistory.event == SlaEventKind.BREACHED
        )
        async with self.sessions() as session:
            return [float(value) for value in await session.scalars(query)]


class BareDriver:
    """The same operations on no-op workflows, straight through the Temporal client."""

    def __init__(self, client: Client, task_queue: str, concurrency: int) -> None:
        self.client = client
        self.task_queue = task_queue
        self.concurrency = concurrency

    async def start_parked(self, count: int, *, label: str) -> tuple[float, list[str]]:
        """`count` workflow starts; the batch's wall seconds and the workflow ids."""
        ids = [f"bench-{label}-{index}" for index in range(count)]

        async def start_one(index: int) -> None:
            await self.client.start_workflow(
                PARKED_WORKFLOW, id=ids[index], task_queue=self.task_queue
            )

        seconds = await run_batch(count, self.concurrency, start_one, within=batch_timeout(count))
        return seconds, ids

    async def signal(self, ids: Sequence[str], count: int) -> float:
        """`count` signals spread over the parked workflows `ids`."""

        async def signal_one(index: int) -> None:
            await self.client.get_workflow_handle(ids[index % len(ids)]).signal(POKE_SIGNAL)

        return await run_batch(count, self.concurrency, signal_one, within=batch_timeout(count))

    async def timer_lateness(
        self, offsets: Sequence[float], *, label: str = "timer"
    ) -> list[float]:
        """Timers due `offsets` seconds from now; how late (ms) each one's side effect ran."""
        started = time.time()
        handles: list[WorkflowHandle[Any, float]] = []

        async def start_one(index: int) -> None:
            handle = await self.client.start_workflow(
                TIMER_WORKFLOW,
                started + offsets[index],
                id=f"bench-{label}-{index}",
                task_queue=self.task_queue,
                result_type=float,
            )
            handles.append(handle)

        count = len(offsets)
        await run_batch(count, self.concurrency, start_one, within=batch_timeout(count))
        async with asyncio.timeout(max(offsets) + _BREACH_WAIT_S):
            late_s = await asyncio.gather(*(handle.result() for handle in handles))
        return [seconds * 1000 for seconds in late_s]
