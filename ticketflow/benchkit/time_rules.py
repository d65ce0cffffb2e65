"""The time-rule figure: how late a time rule fires, and its effect is written, after the
instant its condition became true.

The rule (`rule_body`) matches only the bench's `bench-rule` tickets and becomes true a known
delay after each one opened: `hours_since_created greater_than delay / 3600`. When it fires,
the ticket's read-model write inserts an `automation.matched` row into `audit_logs`. That
table keeps only the instant the workflow decided (`occurred_at`), not when the row was
written, so for the length of the phase a trigger (`FiringProbe`) copies each such row, with
`clock_timestamp()` of its insert, into a table of the bench's own: the counterpart of
`sla_history.recorded_at` for breaches.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from sqlalchemy import Column, DateTime, MetaData, Table, Uuid, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ticketflow.benchkit.drivers import TicketflowDriver, TimedBatch, timed_batch, wait_for_rows
from ticketflow.benchkit.stats import lateness_ms

RULE_CATEGORY = "bench-rule"
RULE_NAME = "Bench time rule"
RULE_TAG = "bench-fired"
_FIRING_WAIT_S = 90.0

_firings = Table(
    "bench_rule_firings",
    MetaData(),
    Column("audit_id", Uuid(), primary_key=True),
    Column("ticket_id", Uuid(), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

_INSTALL = (
    """
    CREATE TABLE bench_rule_firings (
        audit_id uuid PRIMARY KEY,
        ticket_id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    """
    CREATE FUNCTION bench_rule_fired() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO bench_rule_firings (audit_id, ticket_id, occurred_at)
        VALUES (NEW.id, NEW.entity_id, NEW.occurred_at);
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER bench_rule_fired AFTER INSERT ON audit_logs FOR EACH ROW
    WHEN (NEW.after ->> 'kind' = 'automation.matched' AND NEW.after ->> 'rule' = '{RULE_NAME}')
    EXECUTE FUNCTION bench_rule_fired()
    """,
)
_REMOVE = (
    "DROP TRIGGER IF EXISTS bench_rule_fired ON audit_logs",
    "DROP FUNCTION IF EXISTS bench_rule_fired()",
    "DROP TABLE IF EXISTS bench_rule_firings",
)


def rule_body(delay_s: int) -> dict[str, Any]:
    """A time rule, tried first, true from `delay_s` after a bench-rule ticket opened."""
    return {
        "name": RULE_NAME,
        "description": "Created by `ticketflow bench`; deleted when its phase ends.",
        "trigger": "time",
        "position": 0,
        "conditions": {
            "all": [
                {"field": "category", "operator": "equals", "value": RULE_CATEGORY},
                {
                    "field": "hours_since_created",
                    "operator": "greater_than",
                    "value": rule_hours(delay_s),
                },
            ]
        },
        "actions": [{"type": "add_tag", "tag": RULE_TAG}],
    }


def rule_hours(delay_s: int) -> float:
    """The rule's threshold: `delay_s` in the hours `hours_since_created` counts."""
    return delay_s / 3600


def true_from(created_at: datetime, delay_s: int) -> datetime:
    """The instant the rule's condition turns true: the threshold's crossing, computed as
    the rules engine does (`domain.rules.facts.TimeField.crossing`), to the microsecond."""
    return created_at + timedelta(hours=1) * rule_hours(delay_s)


@dataclass(frozen=True)
class RuleFirings:
    """A batch's lateness after the instants the rule's condition became true."""

    recorded: TimedBatch  # to the write of the `automation.matched` row: the effect recorded
    fired_ms: list[float]  # to the workflow's own instant for the firing (`occurred_at`)


class FiringProbe:
    """Records when each firing of the bench rule was written, while the block runs."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __aenter__(self) -> Self:
        await self._run(_REMOVE + _INSTALL)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._run(_REMOVE)

    async def _run(self, statements: Sequence[str]) -> None:
        async with self.sessions() as session:
            for statement in statements:
                await session.execute(text(statement))
            await session.commit()

    async def measure(self, ours: TicketflowDriver, count: int, delay_s: int) -> RuleFirings:
        """Open `count` bench-rule tickets and wait until the rule fired on every one."""
        started = time.time()
        _, opened = await ours.open_tickets(count, label="time rule", category=RULE_CATEGORY)
        due = {
            t["number"]: true_from(datetime.fromisoformat(t["created_at"]), delay_s) for t in opened
        }
        due_by_id = {UUID(t["id"]): due[t["number"]] for t in opened}
        mine = _firings.c.ticket_id.in_(due_by_id)
        await wait_for_rows(
            self.sessions,
            select(func.count(_firings.c.ticket_id.distinct())).where(mine),
            len(due_by_id),
            until=max(due.values()).timestamp() + _FIRING_WAIT_S,
            what="time-rule firings",
        )
        # A rule fires once while its condition holds; the first row per ticket is that firing.
        query = (
            select(_firings.c.ticket_id, _firings.c.occurred_at, _firings.c.recorded_at)
            .distinct(_firings.c.ticket_id)
            .where(mine)
            .order_by(_firings.c.ticket_id, _firings.c.recorded_at)
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        recorded_ms = [lateness_ms(due_by_id[row.ticket_id], row.recorded_at) for row in rows]
        return RuleFirings(
            recorded=timed_batch(recorded_ms, started, due),
            fired_ms=[lateness_ms(due_by_id[row.ticket_id], row.occurred_at) for row in rows],
        )
