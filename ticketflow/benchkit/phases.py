"""The phases of one benchmark run: warm-up, then each figure on both sides, then memory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

import psutil
from sqlalchemy import text

from domain.sla import DEFAULT_WARN_AT
from ticketflow.benchkit.api_client import BenchApi
from ticketflow.benchkit.broadcasts import broadcasts_done
from ticketflow.benchkit.cpu import CpuMeter, postmaster_of, temporal_server
from ticketflow.benchkit.drivers import (
    BURST_CATEGORY,
    BURST_POLICY,
    BareDriver,
    TicketflowDriver,
    TimedBatch,
)
from ticketflow.benchkit.memory import Reading, quiesce, read
from ticketflow.benchkit.processes import BenchError
from ticketflow.benchkit.report import DueBatch, Figures, describe_cpu
from ticketflow.benchkit.stack import Say, Stack
from ticketflow.benchkit.stats import (
    Lateness,
    breach_target_s,
    due_after_batch_s,
    mb_per_thousand,
    rate,
    spread_s,
)
from ticketflow.benchkit.time_rules import FiringProbe, rule_body
from ticketflow.benchkit.timer_starts import sample_armed_late_ms

BENCH_DEPARTMENT = "IT Support"  # seeded by api.seed.demo
_BROADCAST_WAIT_S = 300.0


@dataclass(frozen=True)
class Plan:
    """How much load one run puts on each side."""

    quick: bool
    concurrency: int
    tickets: int
    breaches: int
    rule_tickets: int
    burst: int

    @property
    def warmup(self) -> int:
        return 2 * self.concurrency

    @classmethod
    def of(
        cls,
        *,
        quick: bool,
        concurrency: int = 16,
        tickets: int | None = None,
        breaches: int | None = None,
        rule_tickets: int | None = None,
        burst: int | None = None,
    ) -> Plan:
        return cls(
            quick=quick,
            concurrency=concurrency,
            tickets=tickets or (300 if quick else 1000),
            breaches=breaches or (50 if quick else 200),
            rule_tickets=rule_tickets or (50 if quick else 200),
            burst=burst or (300 if quick else 1000),
        )


class _Bench:
    """One run's two sides and what they have measured so far."""

    def __init__(
        self, stack: Stack, plan: Plan, ours: TicketflowDriver, meter: CpuMeter, say: Say
    ) -> None:
        self.stack = stack
        self.plan = plan
        self.ours = ours
        self.bare = BareDriver(stack.client, stack.bare_task_queue, plan.concurrency)
        self.meter = meter
        self.say = say
        self.cpu_ms_per_op: dict[str, dict[str, float]] = {}

    async def settle(self) -> None:
        """Let every process finish its backlog; fail early if one of them died."""
        children = [self.stack.api, self.stack.worker, self.stack.bare_worker]
        for child in children:
            child.check_alive()
        await quiesce(children)

    @contextlib.asynccontextmanager
    async def costed(self, phase: str, operations: int) -> AsyncIterator[None]:
        """Account the CPU of the block, and of the backlog it leaves, to `phase`."""
        before = self.meter.read()
        yield
        await self.settle()
        per_op = self.meter.read().since(before).ms_per_op(operations)
        self.cpu_ms_per_op[phase] = per_op
        self.say(f"  cpu {phase}: {describe_cpu(per_op)}")

    async def warm_up(self) -> None:
        count = self.plan.warmup
        _, tickets = await self.ours.open_tickets(count, label="warm-up")
        await self.ours.change_priorities([t["number"] for t in tickets], count)
        _, ids = await self.bare.start_parked(count, label="warm-up")
        await self.bare.signal(ids, count)
        await self.settle()
        self.say(f"warmed up with {count} operations of each kind")

    async def readings(self) -> tuple[Reading, Reading]:
        stack = self.stack
        ours = await read(stack.worker, stack.client, stack.task_queue)
        bare = await read(stack.bare_worker, stack.client, stack.bare_task_queue)
        return ours, bare

    async def creations(self) -> tuple[float, float, list[int], list[str]]:
        count = self.plan.tickets
        async with self.costed("create", count):
            seconds, tickets = await self.ours.open_tickets(count, label="ticket")
        async with self.costed("bare_start", count):
            bare_seconds, ids = await self.bare.start_parked(count, label="parked")
        ours, bare = rate(count, seconds), rate(count, bare_seconds)
        self.say(f"creations: {ours:.1f}/s through the API, {bare:.1f} bare starts/s")
        return ours, bare, [ticket["number"] for ticket in tickets], ids

    async def updates(self, numbers: list[int], ids: list[str]) -> tuple[float, float]:
        count = self.plan.tickets
        async with self.costed("update", count):
            seconds = await self.ours.change_priorities(numbers, count)
        async with self.costed("bare_signal", count):
            bare_seconds = await self.bare.signal(ids, count)
        ours, bare = rate(count, seconds), rate(count, bare_seconds)
        self.say(f"updates: {ours:.1f}/s through the API, {bare:.1f} bare signals/s")
        return ours, bare

    async def breaches(self, create_per_s: float) -> tuple[Lateness, Lateness]:
        count = self.plan.breaches
        target = breach_target_s(count, create_per_s, last_warning=max(DEFAULT_WARN_AT))
        await self.ours.add_breach_policy(target, DEFAULT_WARN_AT)
        self.say(f"breaches: {count} P1 tickets, first response due in {target}s; nobody answers")
        async with self.costed("breach", count):
            batch = await self.ours.breach_lateness(count)
        async with self.costed("bare_timer", count):
            bare_ms = await self.bare.timer_lateness(batch.offsets_s)
        ours, bare = Lateness.of(batch.late_ms), Lateness.of(bare_ms)
        self.say(
            f"breach lateness p50 {ours.p50_ms:.0f} / p99 {ours.p99_ms:.0f} ms; "
            f"bare timers p50 {bare.p50_ms:.0f} / p99 {bare.p99_ms:.0f} ms"
        )
        await self.say_armed_late(batch)
        return ours, bare

    async def say_armed_late(self, batch: TimedBatch) -> None:
        """How late the batch's timers were set to fire, from a sample of their histories."""
        samples = await sample_armed_late_ms(self.stack.client, batch.due_by_workflow)
        if not samples:
            self.say("  no timer found in the sampled histories")
            return
        late = Lateness.of(samples)
        self.say(
            f"  timers set to fire p50 {late.p50_ms:.0f} / p99 {late.p99_ms:.0f} ms after the "
            f"due instant (histories of {late.count} tickets)"
        )

    async def told(self) -> None:
        """Wait until every open ticket has taken in the last rule or policy change."""
        waited = await broadcasts_done(
            self.stack.client, self.stack.task_queue, within=_BROADCAST_WAIT_S
        )
        await self.settle()
        self.say(f"  open tickets told of the change in {waited:.1f}s")

    async def time_rule(self, create_per_s: float) -> DueBatch:
        count = self.plan.rule_tickets
        delay = due_after_batch_s(count, create_per_s)
        rule = await self.ours.api.create_rule(rule_body(delay))
        await self.told()
        self.say(f"time rule: {count} tickets, each turning the rule true {delay}s after it opened")
        async with FiringProbe(self.stack.sessions) as probe, self.costed("time_rule", count):
            firings = await probe.measure(self.ours, count, delay)
        # Rules apply to every ticket: the rule goes before anything else is measured. (A
        # failed run throws the whole stack away, the rule with it.)
        await self.ours.api.delete_rule(str(rule["id"]))
        await self.told()
        async with self.costed("bare_time_rule_timer", count):
            bare_ms = await self.bare.timer_lateness(firings.recorded.offsets_s, label="rule-timer")
        ours, bare, fired = (
            Lateness.of(firings.recorded.late_ms),
            Lateness.of(bare_ms),
            Lateness.of(firings.fired_ms),
        )
        self.say(
            f"time-rule lateness p50 {ours.p50_ms:.0f} / p99 {ours.p99_ms:.0f} ms "
            f"(fired in the workflow: p50 {fired.p50_ms:.0f} / p99 {fired.p99_ms:.0f} ms); "
            f"bare timers p50 {bare.p50_ms:.0f} / p99 {bare.p99_ms:.0f} ms"
        )
        await self.say_armed_late(firings.recorded)
        return DueBatch(ours, bare, delay, spread_s(firings.recorded.offsets_s))

    async def burst(self, create_per_s: float) -> DueBatch:
        count = self.plan.burst
        target = due_after_batch_s(count, create_per_s)
        policy_id = await self.ours.add_burst_policy(target)
        await self.told()
        self.say(f"burst: {count} P1 tickets, first response due in {target}s; nobody answers")
        async with self.costed("burst_breach", count):
            batch = await self.ours.breach_lateness(
                count, label="burst", category=BURST_CATEGORY, policy=BURST_POLICY
            )
        async with self.costed("bare_burst_timer", count):
            bare_ms = await self.bare.timer_lateness(batch.offsets_s, label="burst-timer")
        # The last phase: the broadcast of the deletion needs no waiting for.
        await self.ours.api.delete_policy(policy_id)
        ours, bare = Lateness.of(batch.late_ms), Lateness.of(bare_ms)
        spread = spread_s(batch.offsets_s)
        self.say(
            f"burst lateness (deadlines within {spread:.1f}s) p50 {ours.p50_ms:.0f} / "
            f"p99 {ours.p99_ms:.0f} ms; "
            f"bare timers p50 {bare.p50_ms:.0f} / p99 {bare.p99_ms:.0f} ms"
        )
        await self.say_armed_late(batch)
        return DueBatch(ours, bare, target, spread)


async def measure(stack: Stack, plan: Plan, say: Say) -> Figures:
    """Every figure of the table, ticketflow's and bare Temporal's, on `stack`."""
    async with BenchApi(stack.api_url, plan.concurrency) as api:
        await api.login(stack.admin_email, stack.admin_password)
        ours = TicketflowDriver(api, stack.sessions, await _department(stack), plan.concurrency)
        bench = _Bench(stack, plan, ours, await _cpu_meter(stack), say)
        await bench.warm_up()
        ours_before, bare_before = await bench.readings()
        create_per_s, start_per_s, numbers, ids = await bench.creations()
        update_per_s, signal_per_s = await bench.updates(numbers, ids)
        breach, timers = await bench.breaches(create_per_s)
        ours_after, bare_after = await bench.readings()
        say(
            f"parked: {ours_after.running} open tickets "
            f"(+{ours_after.running - ours_before.running}), "
            f"{bare_after.running} bare workflows (+{bare_after.running - bare_before.running})"
        )
        # After the memory readings: the tickets these open do not count in that figure.
        time_rule = await bench.time_rule(create_per_s)
        burst = await bench.burst(create_per_s)
    return Figures(
        quick=plan.quick,
        concurrency=plan.concurrency,
        creations=plan.tickets,
        create_per_s=create_per_s,
        bare_start_per_s=start_per_s,
        updates=plan.tickets,
        update_per_s=update_per_s,
        bare_signal_per_s=signal_per_s,
        breach=breach,
        bare_timer=timers,
        open_tickets=ours_after.running,
        worker_mb_per_1000_open=_per_thousand(ours_before, ours_after),
        parked_bare=bare_after.running,
        bare_worker_mb_per_1000_open=_per_thousand(bare_before, bare_after),
        time_rule=time_rule,
        burst=burst,
        cpu_ms_per_op=bench.cpu_ms_per_op,
    )


def _per_thousand(before: Reading, after: Reading) -> float:
    return mb_per_thousand(before.rss, after.rss, before.running, after.running)


async def _cpu_meter(stack: Stack) -> CpuMeter:
    """Every process of the stack this machine can see (PostgreSQL: when it runs here)."""
    processes = {
        "bench": psutil.Process(),
    }
    temporal = temporal_server()
    if temporal is not None:
        processes["temporal"] = temporal
    async with stack.sessions() as session:
        backend = await session.scalar(text("SELECT pg_backend_pid()"))
    postmaster = postmaster_of(int(backend)) if backend is not None else None
    # The API's and the workers' supervisors, with their processes.
    trees = {
        name: psutil.Process(child.pid)
        for name, child in (
            ("api", stack.api),
            ("worker", stack.worker),
            ("bare worker", stack.bare_worker),
        )
    }
    if postmaster is not None:
        trees["postgres"] = postmaster
    return CpuMeter(processes, trees)


async def _department(stack: Stack) -> UUID:
    from persistence.repositories import departments

    async with stack.sessions() as session:
        found = await departments.get_by_name(session, BENCH_DEPARTMENT)
    if found is None:
        raise BenchError(f"the seed made no {BENCH_DEPARTMENT!r} department")
    return found.id
