"""Creating and changing calendars, public holidays, and deadline previews.

Country holidays are resolved here, in the API, for the years a ticket needs; workflows only
ever see the resulting dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.calendars import CalendarCreate, CalendarUpdate, DeadlinePreview
from domain.calendars import BusinessHours, CalendarTerms, Weekday, WorkInterval, ticket_years
from domain.errors import Conflict, InvalidInput, NotFound
from persistence.models import Calendar
from persistence.repositories import calendars as calendars_repo
from persistence.repositories.calendars import CalendarChanges, CalendarFields

# How far ahead a preview looks: longer than any SLA target, short enough to answer at once.
PREVIEW_HORIZON = timedelta(days=3653)

# The last instant whose local time exists in every zone (datetime stops at 9999-12-31).
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)

_STORED_HOURS = TypeAdapter(dict[Weekday, list[WorkInterval]])


def resolve_holidays(country: str, subdivision: str | None, years: range) -> set[date]:
    """A country's public holidays in `years`; `InvalidInput` (422) for an unknown code."""
    return calendars_repo.country_holidays(country, subdivision, years)


async def _check_name_free(
    session: AsyncSession, name: str, calendar_id: UUID | None = None
) -> None:
    existing = await calendars_repo.get_by_name(session, name)
    if existing is not None and existing.id != calendar_id:
        raise Conflict(f"a calendar named {name!r} already exists")


def _check_calendar(
    timezone: str,
    hours: Mapping[Weekday, Iterable[tuple[time, time]]],
    country_code: str | None,
    subdivision: str | None,
) -> tuple[str | None, str | None]:
    """Refuse a calendar no clock could run on; the country codes as the tables spell them."""
    BusinessHours(CalendarTerms(timezone=timezone, hours=dict(hours)))
    if country_code is None:
        if subdivision is not None:
            raise InvalidInput("a subdivision needs a country_code")
        return None, None
    return calendars_repo.check_country(country_code, subdivision)


async def create_calendar(session: AsyncSession, body: CalendarCreate) -> Calendar:
    await _check_name_free(session, body.name)
    country, subdivision = _check_calendar(
        body.timezone, body.hours, body.country_code, body.subdivision
    )
    fields = body.model_dump() | {"country_code": country, "subdivision": subdivision}
    return await calendars_repo.create(session, CalendarFields.model_validate(fields))


async def update_calendar(
    session: AsyncSession, calendar_id: UUID, body: CalendarUpdate
) -> Calendar:
    """Apply the fields given; the calendar they leave behind must still be valid."""
    current = await calendars_repo.get(session, calendar_id)
    if current is None:
        raise NotFound("no such calendar")
    if body.name is not None:
        await _check_name_free(session, body.name, calendar_id)
    given: dict[str, Any] = body.model_dump(exclude_unset=True)
    merged = _merged(current, given)
    country, subdivision = _check_calendar(
        merged["timezone"], merged["hours"], merged["country_code"], merged["subdivision"]
    )
    if {"country_code", "subdivision"} & given.keys():
        given |= {"country_code": country, "subdivision": subdivision}
    changes = CalendarChanges.model_validate(given)
    updated = await calendars_repo.update_calendar(session, calendar_id, changes)
    if updated is None:
        raise NotFound("no such calendar")
    return updated


def _merged(current: Calendar, given: Mapping[str, Any]) -> dict[str, Any]:
    """The calendar as it will be: `null` keeps a required field and clears an optional one."""
    merged: dict[str, Any] = {
        "timezone": current.timezone,
        "hours": _STORED_HOURS.validate_python(current.hours),
        "country_code": current.country_code,
        "subdivision": current.subdivision,
    }
    for field, value in given.items():
        if field in merged and (value is not None or field in ("country_code", "subdivision")):
            merged[field] = value
    return merged


async def preview(
    session: AsyncSession, calendar_id: UUID, start: datetime, duration: timedelta
) -> DeadlinePreview:
    """The deadline a ticket opened at `start` with a target of `duration` would get."""
    calendar = await calendars_repo.get(session, calendar_id)
    if calendar is None:
        raise NotFound("no such calendar")
    hours = BusinessHours(calendars_repo.to_terms(calendar, ticket_years(start)))
    try:
        _check_within_horizon(hours, start, duration)
        deadline = hours.add_business_time(start, duration)
    except OverflowError as exc:  # local time before year 1 or after 9999
        raise InvalidInput("start is too close to the limits of the calendar") from exc
    return DeadlinePreview(
        calendar_id=calendar.id,
        start=start.astimezone(UTC),
        duration=duration,
        deadline=deadline.astimezone(UTC),
    )


def _check_within_horizon(hours: BusinessHours, start: datetime, duration: timedelta) -> None:
    """Refuse a deadline beyond the horizon: finding it costs time in proportion to its span."""
    try:
        horizon = start + PREVIEW_HORIZON
    except OverflowError:
        horizon = _LAST_INSTANT
    if duration > hours.business_time(start, horizon):
        if horizon == _LAST_INSTANT:
            raise InvalidInput(f"the deadline would fall after the year {MAXYEAR}")
        raise InvalidInput("the deadline would fall more than ten years after start")
