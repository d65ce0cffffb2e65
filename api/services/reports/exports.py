"""`GET /reports/export/{format}`: the tickets of a period as a downloadable file."""

from __future__ import annotations

import asyncio
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from activities.reports import FileFormat, ReportFile, build_table, render
from persistence.repositories.reports import Period, Slice


async def export_tickets(
    session: AsyncSession, file_format: FileFormat, period: Period, department_id: UUID | None
) -> ReportFile:
    table = await build_table(session, "tickets", period, Slice(department_id=department_id))
    stem = f"tickets-{period.since:%Y%m%d}-{period.until:%Y%m%d}"
    # Building a large spreadsheet or PDF is CPU work: keep it off the event loop.
    return await asyncio.to_thread(render, table, file_format, stem)
