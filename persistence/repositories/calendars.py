"""Calendars, and the terms a ticket's workflow takes from one.

A calendar's public holidays come from the `holidays` package for the years a ticket needs,
resolved here (never in workflow code) and handed to the workflow as plain dates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any
from uuid import UUID

import holidays as holiday_tables
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendars import BusinessHours, CalendarTerms, WeeklyHours
from domain.errors import Conflict, InvalidInput
from persistence.models import Calendar, SlaPolicy
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

log = logging.getLogger(__name__)

NEWEST_FIRST = Keyset((Calendar.created_at, Calendar.id))


class CalendarFields(BaseModel):
    """A new calendar as the API writes it."""

    name: str
    timezone: str
    hours: WeeklyHours
    holidays: list[date] = Field(default_factory=list)
    country_code: str | None = None
    subdivision: str | None = None


class CalendarChanges(BaseModel):
    """Fields an update may set; only the fields given change (None clears optional ones)."""

    name: str | None = None
    timezone: str | None = None
    hours: WeeklyHours | None = None
    holidays: list[date] | None = None
    country_code: str | None = None
    subdivision: str | None = None


_OPTIONAL = {"country_code", "subdivision"}


def _columns(fields: BaseModel, *, only_set: bool) -> dict[str, Any]:
    # hours in their JSON shape ({"mon": [["09:00", "17:00"]]}); dates stay dates for date[].
    values = fields.model_dump(exclude_unset=only_set)
    if values.get("hours") is not None:
        values["hours"] = fields.model_dump(mode="json", include={"hours"})["hours"]
    if values.get("holidays") is not None:
        values["holidays"] = sorted(set(values["holidays"]))
    return {k: v for k, v in values.items() if v is not None or k in _OPTIONAL}


async def get(session: AsyncSession, calendar_id: UUID) -> Calendar | None:
    return await session.get(Calendar, calendar_id)


async def get_by_name(session: AsyncSession, name: str) -> Calendar | None:
    return await session.scalar(select(Calendar).where(Calendar.name == name))


async def list_calendars(
    session: AsyncSession, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Calendar]:
    """Calendars, newest first."""
    return await paginate(session, select(Calendar), NEWEST_FIRST, limit=limit, cursor=cursor)


async def create(session: AsyncSession, fields: CalendarFields) -> Calendar:
    """Insert a calendar; a taken name raises `IntegrityError`."""
    calendar = Calendar(**_columns(fields, only_set=False))
    session.add(calendar)
    await session.flush()
    return calendar


async def update_calendar(
    session: AsyncSession, calendar_id: UUID, changes: CalendarChanges
) -> Calendar | None:
    values = _columns(changes, only_set=True)
    if not values:
        return await get(session, calendar_id)
    statement = update(Calendar).where(Calendar.id == calendar_id).values(**values)
    return await session.scalar(
        statement.returning(Calendar), execution_options={"populate_existing": True}
    )


async def policies_using(session: AsyncSession, calendar_id: UUID) -> list[str]:
    """Names of the SLA policies that count their targets in this calendar."""
    statement = (
        select(SlaPolicy.name).where(SlaPolicy.calendar_id == calendar_id).order_by(SlaPolicy.name)
    )
    return list(await session.scalars(statement))


async def delete_calendar(session: AsyncSession, calendar_id: UUID) -> bool:
    """Delete a calendar no SLA policy uses; `Conflict` naming the policies that do."""
    users = await policies_using(session, calendar_id)
    if users:
        names = ", ".join(repr(name) for name in users[:5]) + (" …" if len(users) > 5 else "")
        raise Conflict(
            f"SLA policies count their targets in this calendar: {names}; change them first"
        )
    statement = delete(Calendar).where(Calendar.id == calendar_id).returning(Calendar.id)
    return await session.scalar(statement) is not None


# -- holidays and terms ----------------------------------------------------------------------


@cache
def _supported() -> dict[str, list[str]]:
    """Country code → subdivision codes: ISO 3166 alpha-2 only, no aliases."""
    return holiday_tables.list_supported_countries(include_aliases=False)


def check_country(country: str, subdivision: str | None = None) -> tuple[str, str | None]:
    """The codes as the holidays tables spell them; `InvalidInput` for unknown ones."""
    code = country.strip().upper()
    subdivisions = _supported().get(code)
    if subdivisions is None:
        raise InvalidInput(
            f"no public holidays are known for country code {country!r}; "
            "use an ISO 3166-1 alpha-2 code such as 'ES' or 'US'"
        )
    if subdivision is None:
        return code, None
    by_folded = {s.casefold(): s for s in subdivisions}
    found = by_folded.get(subdivision.strip().casefold())
    if found is None:
        known = ", ".join(subdivisions) or "none"
        raise InvalidInput(f"{code} has no subdivision {subdivision!r}; known: {known}")
    return code, found


def country_holidays(country: str, subdivision: str | None, years: Iterable[int]) -> set[date]:
    """A country's (and subdivision's) public holidays in `years`, as observed."""
    code, subdivision = check_country(country, subdivision)
    return set(holiday_tables.country_holidays(code, subdiv=subdivision, years=list(years)))


def to_terms(calendar: Calendar, years: Iterable[int]) -> CalendarTerms:
    """The calendar as a workflow runs on it: explicit and country holidays within `years`."""
    wanted = set(years)
    days = {day for day in calendar.holidays if day.year in wanted}
    if calendar.country_code:
        try:
            days |= country_holidays(calendar.country_code, calendar.subdivision, wanted)
        except InvalidInput as exc:
            # Stored codes were valid when written; a holidays upgrade may drop one. The
            # ticket still opens, on the calendar's own holidays.
            log.error("calendar %s (%s): %s", calendar.name, calendar.id, exc.detail)
    return CalendarTerms.model_validate(
        {"timezone": calendar.timezone, "hours": calendar.hours, "holidays": days}
    )


async def terms(
    session: AsyncSession, calendar_id: UUID, years: Iterable[int]
) -> CalendarTerms | None:
    """What a ticket's workflow needs of a calendar; None if there is none usable.

    A stored calendar that no longer validates (say, a time zone dropped from the tz
    database) is logged and treated as absent, as an invalid SLA policy is.
    """
    calendar = await get(session, calendar_id)
    if calendar is None:
        return None
    try:
        found = to_terms(calendar, years)
        BusinessHours(found)  # what the workflow will build: it must not fail there
    except (ValidationError, InvalidInput) as exc:
        log.error("calendar %s (%s) is invalid and is ignored: %s", calendar.name, calendar.id, exc)
        return None
    return found
