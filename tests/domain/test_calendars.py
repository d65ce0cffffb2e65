"""Business hours against a brute-force reference that walks real UTC instants.

The reference asks of each instant only "is its local time inside a working interval of a
local day that is not a holiday?", so it knows nothing of offsets, DST or week arithmetic.
"""

from __future__ import annotations

import time as stopwatch
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.calendar import ALWAYS_OPEN
from domain.calendars import WEEKDAYS, BusinessHours, CalendarTerms, Weekday, calendar_for
from domain.errors import InvalidInput

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
QUARTER = timedelta(minutes=15)

# DST in spring and autumn; New York and Madrid at 02:00, Lord Howe by 30 minutes, Havana and
# Santiago at midnight (a local day starting at 01:00, or repeating its last hour), Chatham at
# +12:45/+13:45, Casablanca twice within five weeks (Ramadan), and two zones without DST.
ZONES = (
    "Europe/Madrid",
    "Africa/Casablanca",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
)
WORKWEEK = {day: [(time(9), time(17))] for day in WEEKDAYS[:5]}
MADRID = ZoneInfo("Europe/Madrid")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def madrid(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=MADRID)


def office(timezone: str = "Europe/Madrid", **fields: object) -> BusinessHours:
    return BusinessHours(CalendarTerms.model_validate({"timezone": timezone, **fields}))


def madrid_office(holidays: frozenset[date] = frozenset()) -> BusinessHours:
    return office(hours=WORKWEEK, holidays=holidays)


# -- the reference ---------------------------------------------------------------------------


def _offset(moment: time) -> timedelta:
    return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)


def is_business(terms: CalendarTerms, instant: datetime) -> bool:
    local = instant.astimezone(ZoneInfo(terms.timezone))
    if local.date() in terms.holidays:
        return False
    wall = _offset(local.time())
    for start, end in terms.hours.get(WEEKDAYS[local.weekday()], []):
        until = _offset(end) or timedelta(days=1)
        if _offset(start) <= wall < until:
            return True
    return False


def steps(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    at = start
    while at < end:
        yield at
        at += step


def business_steps(
    terms: CalendarTerms, start: datetime, end: datetime, step: timedelta
) -> list[datetime]:
    """The steps of [start, end) that are business time (exact when every boundary is on one)."""
    return [at for at in steps(start, end, step) if is_business(terms, at)]


@cache
def offset_changes(zone: str) -> tuple[datetime, ...]:
    """Every change of UTC offset in 2026 and 2027 (all of them fall on a quarter hour)."""
    tz, found = ZoneInfo(zone), []
    before = datetime(2026, 1, 1, tzinfo=UTC)
    for at in steps(before, datetime(2028, 1, 1, tzinfo=UTC), QUARTER):
        if at.astimezone(tz).utcoffset() != before.astimezone(tz).utcoffset():
            found.append(at)
        before = at
    return tuple(found)


# -- strategies ------------------------------------------------------------------------------


@st.composite
def day_hours(draw: st.DrawFn) -> list[tuple[time, time]]:
    """0–3 intervals on quarter hours, often touching the small hours where DST happens."""
    count = draw(st.integers(min_value=0, max_value=3))
    points = sorted(draw(st.sets(st.integers(0, 96), min_size=2 * count, max_size=2 * count)))
    quarters = [time(q // 4 % 24, q % 4 * 15) for q in points]  # 96 quarters: 24:00 = 00:00
    return list(zip(quarters[::2], quarters[1::2], strict=True))


@st.composite
def calendars(draw: st.DrawFn, around: datetime, zone: str | None = None) -> CalendarTerms:
    """A calendar in one of `ZONES` (or `zone`), with a few holidays around `around`."""
    zone = zone or draw(st.sampled_from(ZONES))
    hours = {day: draw(day_hours()) for day in WEEKDAYS}
    if not any(hours.values()):
        hours[Weekday.MON] = [(time(9), time(17))]
    first = around.date() - timedelta(days=10)
    holidays = draw(st.frozensets(st.dates(first, first + timedelta(days=20)), max_size=4))
    return CalendarTerms(timezone=zone, hours=hours, holidays=holidays)


@st.composite
def cases(
    draw: st.DrawFn, *, step: timedelta, longest: timedelta
) -> tuple[CalendarTerms, datetime, datetime]:
    """A calendar and a span of up to `longest` on `step` boundaries, often across a DST change."""
    zone = draw(st.sampled_from(ZONES))
    around = draw(st.sampled_from(offset_changes(zone) or (datetime(2026, 6, 1, tzinfo=UTC),)))
    terms = draw(calendars(around, zone))
    start = around + draw(st.integers(-longest // step, longest // step)) * step
    return terms, start, start + draw(st.integers(0, longest // step)) * step


# -- properties against the reference --------------------------------------------------------


@settings(deadline=None, max_examples=150)
@given(cases(step=MINUTE, longest=timedelta(days=5)))
def test_business_time_matches_minute_reference(
    case: tuple[CalendarTerms, datetime, datetime],
) -> None:
    terms, start, end = case
    expected = len(business_steps(terms, start, end, MINUTE)) * MINUTE
    assert BusinessHours(terms).business_time(start, end) == expected


@settings(deadline=None, max_examples=150)
@given(cases(step=MINUTE, longest=timedelta(days=5)), st.data())
def test_add_business_time_matches_minute_reference(
    case: tuple[CalendarTerms, datetime, datetime], data: st.DataObject
) -> None:
    terms, start, end = case
    minutes = business_steps(terms, start, end, MINUTE)
    used = data.draw(st.integers(0, len(minutes)), label="business minutes")
    # The amount runs out at the end of its last business minute.
    expected = minutes[used - 1] + MINUTE if used else start
    assert BusinessHours(terms).add_business_time(start, used * MINUTE) == expected


@settings(deadline=None, max_examples=60)
@given(cases(step=SECOND, longest=timedelta(hours=5)), st.data())
def test_both_match_second_reference_near_dst_changes(
    case: tuple[CalendarTerms, datetime, datetime], data: st.DataObject
) -> None:
    terms, start, end = case
    calendar = BusinessHours(terms)
    seconds = business_steps(terms, start, end, SECOND)
    assert calendar.business_time(start, end) == len(seconds) * SECOND
    used = data.draw(st.integers(0, len(seconds)), label="business seconds")
    expected = seconds[used - 1] + SECOND if used else start
    assert calendar.add_business_time(start, used * SECOND) == expected


@settings(deadline=None, max_examples=25)
@given(cases(step=QUARTER, longest=timedelta(days=400)))
def test_long_spans_match_quarter_hour_reference(
    case: tuple[CalendarTerms, datetime, datetime],
) -> None:
    # Every boundary (hours, offsets, offset changes) lies on a quarter hour in these zones.
    terms, start, end = case
    expected = len(business_steps(terms, start, end, QUARTER)) * QUARTER
    assert BusinessHours(terms).business_time(start, end) == expected


instants = st.datetimes(
    datetime(2025, 6, 1), datetime(2028, 6, 1), timezones=st.just(UTC), allow_imaginary=False
)


@settings(deadline=None)
@given(calendars(datetime(2026, 10, 1)), instants, instants, instants)
def test_business_time_adds_up_over_consecutive_spans(
    terms: CalendarTerms, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    calendar = BusinessHours(terms)
    whole = calendar.business_time(a, c)
    assert calendar.business_time(a, b) + calendar.business_time(b, c) == whole
    assert calendar.business_time(c, a) == timedelta(0)


@settings(deadline=None)
@given(
    calendars(datetime(2026, 10, 1)),
    instants,
    st.timedeltas(timedelta(0), timedelta(days=90)),
)
def test_add_business_time_is_the_first_instant_reaching_the_amount(
    terms: CalendarTerms, start: datetime, amount: timedelta
) -> None:
    calendar = BusinessHours(terms)
    deadline = calendar.add_business_time(start, amount)
    assert calendar.business_time(start, deadline) == amount
    if amount:
        assert calendar.business_time(start, deadline - timedelta(microseconds=1)) < amount


@settings(deadline=None)
@given(calendars(datetime(2026, 10, 1)), instants, instants)
def test_adding_the_business_time_of_a_span_lands_within_it(
    terms: CalendarTerms, start: datetime, end: datetime
) -> None:
    calendar = BusinessHours(terms)
    spent = calendar.business_time(start, end)
    landed = calendar.add_business_time(start, spent)
    assert landed <= max(start, end)
    assert calendar.business_time(start, landed) == spent


# -- worked examples -------------------------------------------------------------------------


def test_friday_afternoon_plus_two_hours_is_monday_morning() -> None:
    deadline = madrid_office().add_business_time(madrid(2026, 3, 27, 16, 30), timedelta(hours=2))
    assert deadline == madrid(2026, 3, 30, 10, 30)


def test_a_deadline_at_closing_time_is_closing_time_not_next_morning() -> None:
    deadline = madrid_office().add_business_time(madrid(2026, 3, 27, 16, 30), timedelta(minutes=30))
    assert deadline == madrid(2026, 3, 27, 17)


def test_a_ticket_opened_on_saturday_counts_from_monday_nine() -> None:
    calendar = madrid_office()
    saturday = madrid(2026, 3, 28, 11)
    assert calendar.business_time(saturday, madrid(2026, 3, 30, 9, 30)) == timedelta(minutes=30)
    assert calendar.add_business_time(saturday, timedelta(hours=1)) == madrid(2026, 3, 30, 10)


def test_madrid_spring_forward_weekend_2026() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST. Working hours never touch the gap, so
    # Friday 16:00 → Monday 10:00 is two hours, though Monday 09:00 is an hour earlier in UTC.
    calendar = madrid_office()
    assert calendar.business_time(madrid(2026, 3, 27, 16), madrid(2026, 3, 30, 10)) == timedelta(
        hours=2
    )
    monday_nine = calendar.add_business_time(madrid(2026, 3, 27, 17), timedelta(microseconds=1))
    assert monday_nine == datetime(2026, 3, 30, 7, 0, 0, 1, tzinfo=UTC)


def test_dst_sundays_count_real_seconds() -> None:
    all_sunday = office(hours={"sun": [["00:00", "24:00"]]})
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    for day, hours in ((spring, 23), (autumn, 25)):
        start = datetime.combine(day, time(0), MADRID)
        end = datetime.combine(day + timedelta(days=1), time(0), MADRID)
        assert all_sunday.business_time(start, end) == timedelta(hours=hours)

    small_hours = office(hours={"sun": [["02:00", "04:00"]]})
    sunday = datetime.combine(spring, time(0), MADRID)
    assert small_hours.business_time(sunday, sunday + timedelta(days=1)) == timedelta(hours=1)
    sunday = datetime.combine(autumn, time(0), MADRID)
    assert small_hours.business_time(sunday, sunday + timedelta(days=1)) == timedelta(hours=3)


def test_lord_howe_moves_its_clocks_by_half_an_hour() -> None:
    all_sunday = office("Australia/Lord_Howe", hours={"sun": [["00:00", "24:00"]]})
    for day, length in ((date(2026, 4, 5), 24.5), (date(2026, 10, 4), 23.5)):
        start = datetime.combine(day, time(0), LORD_HOWE)
        end = start + timedelta(days=2)  # an instant well into the next (Monday) local day
        assert all_sunday.business_time(start, end) == timedelta(hours=length)


def test_offset_changes_five_weeks_apart_are_both_seen() -> None:
    # Casablanca leaves UTC+1 on Sunday 15 February 2026 (03:00 → 02:00) and returns on
    # Sunday 22 March (02:00 → 03:00). Of the 11 Sundays from 15 February to 26 April,
    # 01:00–03:00, 15 February lasts three hours and 22 March, a holiday here, none: 21 hours.
    # Stepping over both changes at once would make it 20.
    casablanca = ZoneInfo("Africa/Casablanca")
    calendar = office(
        "Africa/Casablanca", hours={"sun": [["01:00", "03:00"]]}, holidays=["2026-03-22"]
    )
    start, end = datetime(2026, 2, 12, tzinfo=casablanca), datetime(2026, 5, 1, tzinfo=casablanca)
    assert calendar.business_time(start, end) == timedelta(hours=21)


def test_holidays_are_skipped() -> None:
    # Tuesday 6 January 2026 is Epiphany.
    calendar = madrid_office(frozenset({date(2026, 1, 6)}))
    deadline = calendar.add_business_time(madrid(2026, 1, 5, 16), timedelta(hours=2))
    assert deadline == madrid(2026, 1, 7, 10)
    assert calendar.business_time(madrid(2026, 1, 5), madrid(2026, 1, 8)) == timedelta(hours=16)


def test_night_shifts_run_across_midnight() -> None:
    nights = office(
        hours={day: [["00:00", "06:00"], ["22:00", "24:00"]] for day in ("mon", "tue", "wed")}
    )
    assert nights.business_time(madrid(2026, 6, 1, 23), madrid(2026, 6, 2, 1)) == timedelta(hours=2)
    assert nights.add_business_time(madrid(2026, 6, 1, 23), timedelta(hours=3)) == madrid(
        2026, 6, 2, 2
    )


def test_zero_amounts_and_empty_spans() -> None:
    calendar = madrid_office()
    saturday = madrid(2026, 3, 28, 11)
    assert calendar.add_business_time(saturday, timedelta(0)) == saturday
    assert calendar.add_business_time(saturday, -timedelta(hours=1)) == saturday
    assert calendar.business_time(saturday, saturday) == timedelta(0)
    assert calendar.business_time(saturday, saturday - timedelta(days=3)) == timedelta(0)


def test_sub_second_precision() -> None:
    almost_closing = madrid(2026, 3, 27, 16, 59, 59, 500_000)
    deadline = madrid_office().add_business_time(almost_closing, SECOND)
    assert deadline == madrid(2026, 3, 30, 9, 0, 0, 500_000)


def test_a_year_is_counted_in_whole_weeks_and_quickly() -> None:
    calendar = madrid_office()
    start = madrid(2026, 1, 5)  # a Monday; 52 weeks on, DST has come and gone
    took = stopwatch.perf_counter()
    assert calendar.business_time(start, start + timedelta(weeks=52)) == 52 * timedelta(hours=40)
    last_friday = (start + timedelta(weeks=520, days=-3)).replace(hour=17)
    assert calendar.add_business_time(start, 520 * timedelta(hours=40)) == last_friday
    # Generous enough for a loaded machine; walking every minute would take minutes.
    assert stopwatch.perf_counter() - took < 0.5


def test_results_are_utc_and_naive_datetimes_are_refused() -> None:
    calendar = madrid_office()
    assert calendar.add_business_time(madrid(2026, 3, 27, 9), MINUTE).tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.business_time(datetime(2026, 3, 27, 9), madrid(2026, 3, 27, 10))


# -- terms and their validation --------------------------------------------------------------


def test_terms_travel_as_plain_json() -> None:
    terms = CalendarTerms.model_validate(
        {
            "timezone": "Europe/Madrid",
            "hours": {"tue": [["14:00", "18:30"], ["08:00", "13:00"]], "mon": [["22:00", "24:00"]]},
            "holidays": ["2026-12-25", "2026-01-06"],
        }
    )
    assert terms.model_dump(mode="json") == {
        "timezone": "Europe/Madrid",
        "hours": {"mon": [["22:00", "24:00"]], "tue": [["08:00", "13:00"], ["14:00", "18:30"]]},
        "holidays": ["2026-01-06", "2026-12-25"],
    }
    assert CalendarTerms.model_validate_json(terms.model_dump_json()) == terms


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, "on mon overlap: 09:00–13:00"),
        ({"tue": [["17:00", "09:00"]]}, "must start before it ends: 17:00–09:00"),
        ({"wed": [["09:00", "09:00"]]}, "must start before it ends"),
        ({"thu": [["24:00", "24:00"]]}, "'24:00' may only end an interval"),
        ({"fri": [["9am", "5pm"]]}, "is not a time such as '09:00'"),
        ({"sat": [["09:00"]]}, "a pair of local times"),
        ({"sun": [["25:00", "26:00"]]}, "is not a time of day"),
        ({"someday": [["09:00", "17:00"]]}, "'mon', 'tue'"),
    ],
)
def test_bad_hours_are_explained(hours: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CalendarTerms.model_validate({"timezone": "UTC", "hours": hours})


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "localtime", "utc"])
def test_unknown_time_zones_are_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        CalendarTerms(timezone=zone, hours=WORKWEEK)


def test_touching_intervals_are_fine() -> None:
    calendar = office(hours={"mon": [["09:00", "13:00"], ["13:00", "17:00"]]})
    monday = madrid(2026, 6, 1)
    assert calendar.business_time(monday, monday + timedelta(days=1)) == timedelta(hours=8)


@pytest.mark.parametrize("hours", [{}, {"mon": [], "sun": []}])
def test_a_calendar_needs_working_hours(hours: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="a calendar needs working hours"):
        office(hours=hours)


def test_no_terms_means_round_the_clock() -> None:
    assert calendar_for(None) is ALWAYS_OPEN
    assert isinstance(calendar_for(CalendarTerms(timezone="UTC", hours=WORKWEEK)), BusinessHours)
