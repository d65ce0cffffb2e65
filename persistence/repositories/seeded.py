"""The seed ledger (`seeded_items`): which seeded things exist, or existed once."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import SeededItem

# Any constant will do, as long as nothing else takes the same advisory lock.
_SEED_LOCK = 0x7469636B_65746677  # "ticketfw"


async def lock(session: AsyncSession) -> None:
    """Hold the seed lock until the transaction ends: two seeds at once take turns."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})


async def recorded(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(SeededItem.key).where(SeededItem.key == key)) is not None


async def record(session: AsyncSession, key: str) -> None:
    await session.execute(insert(SeededItem).values(key=key).on_conflict_do_nothing())
