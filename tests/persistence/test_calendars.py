"""Calendars as the API stores them, and the terms a ticket's workflow takes from one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendars import BusinessHours, Weekday
from domain.errors import Conflict, InvalidInput
from domain.sla import MetricTargets
from persistence.models import Calendar
from persistence.repositories import calendars, sla_policies
from persistence.repositories.calendars import CalendarChanges, CalendarFields
from persistence.repositories.sla_policies import PolicyFields

WORKWEEK = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


async def add_calendar(session: AsyncSession, **fields: object) -> Calendar:
    values = {"name": f"Office {uuid4().hex[:8]}", "timezone": "Europe/Madrid", "hours": WORKWEEK}
    return await calendars.create(session, CalendarFields.model_validate(values | fields))


async def test_hours_are_stored_in_the_api_shape(db_session: AsyncSession) -> None:
    calendar = await add_calendar(
        db_session,
        hours={"mon": [("14:00", "18:00"), ("08:00", "13:00")], "sat": [("22:00", "24:00")]},
        holidays=[date(2026, 12, 25), date(2026, 1, 6), date(2026, 1, 6)],
    )
    stored = await db_session.execute(
        text("SELECT hours, holidays FROM calendars WHERE id = :id"), {"id": calendar.id}
    )
    hours, holidays = stored.one()
    assert hours == {"mon": [["08:00", "13:00"], ["14:00", "18:00"]], "sat": [["22:00", "24:00"]]}
    assert holidays == [date(2026, 1, 6), date(2026, 12, 25)]


async def test_names_are_unique(db_session: AsyncSession) -> None:
    calendar = await add_calendar(db_session)
    assert await calendars.get_by_name(db_session, calendar.name) is not None
    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            await add_calendar(db_session, name=calendar.name)


async def test_a_subdivision_needs_a_country(db_session: AsyncSession) -> None:
    with pytest.raises(IntegrityError, match="subdivision_needs_country"):
        async with db_session.begin_nested():
            await add_calendar(db_session, subdivision="MD")


async def test_updates_change_only_the_fields_given(db_session: AsyncSession) -> None:
    calendar = await add_calendar(db_session, country_code="ES", subdivision="MD")
    changed = await calendars.update_calendar(
        db_session,
        calendar.id,
        CalendarChanges(hours={"sun": [("10:00", "14:00")]}, subdivision=None, name=None),
    )
    assert changed is not None
    assert changed.name == calendar.name  # None leaves a required field alone
    assert changed.hours == {"sun": [["10:00", "14:00"]]}
    assert (changed.country_code, changed.subdivision) == ("ES", None)
    assert await calendars.update_calendar(db_session, uuid4(), CalendarChanges(name="x")) is None


async def test_pages_have_no_gaps_or_repeats(db_session: AsyncSession) -> None:
    made = [(await add_calendar(db_session)).id for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = await calendars.list_calendars(db_session, limit=2, cursor=cursor)
        seen += [c.id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert set(made) <= set(seen)
    assert len(seen) == len(set(seen))


async def test_a_calendar_in_use_by_a_policy_cannot_be_deleted(db_session: AsyncSession) -> None:
    calendar = await add_calendar(db_session)
    policy = await sla_policies.create(
        db_session,
        PolicyFields(
            name=f"Office hours {uuid4().hex[:6]}",
            targets={"P1": MetricTargets(resolution=timedelta(hours=4))},
            calendar_id=calendar.id,
        ),
    )
    with pytest.raises(Conflict, match=policy.name):
        await calendars.delete_calendar(db_session, calendar.id)

    await sla_policies.delete_policy(db_session, policy.id)
    assert await calendars.delete_calendar(db_session, calendar.id)
    assert await calendars.get(db_session, calendar.id) is None
    assert not await calendars.delete_calendar(db_session, calendar.id)


async def test_terms_merge_explicit_and_country_holidays_of_the_years_asked(
    db_session: AsyncSession,
) -> None:
    calendar = await add_calendar(
        db_session,
        country_code="ES",
        subdivision="MD",
        holidays=[date(2025, 12, 24), date(2026, 8, 14), date(2030, 1, 2)],
    )
    terms = await calendars.terms(db_session, calendar.id, range(2026, 2029))
    assert terms is not None
    assert terms.timezone == "Europe/Madrid"
    assert terms.hours[Weekday.MON] == [(time(9), time(17))]
    assert date(2026, 8, 14) in terms.holidays  # explicit
    assert {date(2026, 1, 6), date(2027, 1, 6), date(2028, 1, 6)} <= terms.holidays  # Epiphany
    assert date(2026, 5, 2) in terms.holidays  # Madrid's own day, a Saturday in 2026
    assert date(2025, 12, 24) not in terms.holidays  # outside the years asked
    assert date(2030, 1, 2) not in terms.holidays
    # Tuesday 6 January 2026 is skipped: Monday 16:00 + 2 h is Wednesday 10:00.
    monday = datetime(2026, 1, 5, 15, tzinfo=UTC)
    deadline = BusinessHours(terms).add_business_time(monday, timedelta(hours=2))
    assert deadline == datetime(2026, 1, 7, 9, tzinfo=UTC)


async def test_terms_of_an_unknown_or_unusable_calendar_are_none(db_session: AsyncSession) -> None:
    assert await calendars.terms(db_session, uuid4(), range(2026, 2029)) is None
    calendar = await add_calendar(db_session, hours={})
    assert await calendars.terms(db_session, calendar.id, range(2026, 2029)) is None


def test_country_codes_are_checked_and_spelled_as_the_tables_do() -> None:
    assert calendars.check_country("es", "md") == ("ES", "MD")
    assert calendars.check_country(" us ") == ("US", None)
    with pytest.raises(InvalidInput, match="no public holidays are known for country code 'XX'"):
        calendars.check_country("XX")
    with pytest.raises(InvalidInput, match="ES has no subdivision 'Narnia'; known: AN, AR"):
        calendars.check_country("ES", "Narnia")
    christmas = date(2026, 12, 25)
    assert christmas in calendars.country_holidays("GB", "ENG", range(2026, 2027))
