"""Business-hours calendars: weekly working hours in a time zone, less holidays.

A working interval is wall-clock time in the calendar's zone. An instant is business time when
its local time falls inside one of the intervals of its local day and that day is not a
holiday. So on a DST day an 09:00–17:00 interval counts the real seconds between 09:00 and
17:00 local time, a wall-clock hour that never happens (spring forward) counts nothing, and
one that happens twice (fall back) counts twice.

Between two changes of UTC offset local time is UTC shifted by a constant, so business time
there is plain weekly arithmetic on wall-clock time, where every day lasts 24 hours
(`_WallWeek`). `BusinessHours` cuts a span at the offset changes and adds up the pieces.

Holidays arrive already resolved (country holidays are looked up outside workflow code), so
everything here is deterministic: the same terms give the same answers on every replay.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)

from domain.calendar import ALWAYS_OPEN, BusinessCalendar
from domain.errors import InvalidInput

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
# How far apart the UTC offset is probed for changes. No zone in the tz database changes its
# offset twice within 6.9 days (checked over every zone, 1970–2087), so a step shorter than
# that cannot step over a change and back.
_PROBE_STEP = timedelta(days=3)
_RESOLUTION = timedelta(microseconds=1)


class Weekday(StrEnum):
    """Days of the week as the API spells them, in `date.weekday()` order."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)

# -- reading and writing working intervals ------------------------------------------------

_CLOCK_TEXT = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
_INTERVAL_HINT = "a working interval is a pair of local times such as ['09:00', '17:00']"


def _since_midnight(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _until(end: time) -> timedelta:
    """An interval's end from midnight; `00:00` ends the day (24:00), as `time` has no 24."""
    return _since_midnight(end) or _ONE_DAY


def _clock_text(moment: time, *, end: bool = False) -> str:
    if end and moment == time(0):
        return "24:00"
    if moment.microsecond:
        return moment.isoformat()
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def _parse_clock(value: object, *, end: bool) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("working hours are local wall-clock times, without a UTC offset")
        return value
    match = _CLOCK_TEXT.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a time such as '09:00' or '17:30'")
    hour, minute, second = (int(part or 0) for part in match.groups())
    if end and (hour, minute, second) == (24, 0, 0):
        return time(0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{value!r} is not a time of day ('24:00' may only end an interval)")
    return time(hour, minute, second)


def _parse_interval(value: Any) -> tuple[time, time]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(_INTERVAL_HINT)
    start, end = _parse_clock(value[0], end=False), _parse_clock(value[1], end=True)
    if _since_midnight(start) >= _until(end):
        raise ValueError(f"a working interval must start before it ends: {_span_text(start, end)}")
    return start, end


def _span_text(start: time, end: time) -> str:
    return f"{_clock_text(start)}–{_clock_text(end, end=True)}"


def _interval_json(value: tuple[time, time]) -> list[str]:
    return [_clock_text(value[0]), _clock_text(value[1], end=True)]


_CLOCK_SCHEMA = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "examples": ["09:00"]}

WorkInterval = Annotated[
    tuple[time, time],
    PlainValidator(_parse_interval),
    PlainSerializer(_interval_json, when_used="json"),
    WithJsonSchema(
        {
            "type": "array",
            "items": _CLOCK_SCHEMA,
            "minItems": 2,
            "maxItems": 2,
            "description": "[start, end) in local time; '24:00' ends at midnight",
            "examples": [["09:00", "17:00"]],
        }
    ),
]
"""`[start, end)` in local wall-clock time; an end of `00:00` ("24:00") means midnight."""


def _holidays_json(days: frozenset[date]) -> list[str]:
    # Sorted, so the same terms always make the same bytes in a workflow's history.
    return [day.isoformat() for day in sorted(days)]


Holidays = Annotated[frozenset[date], PlainSerializer(_holidays_json, when_used="json")]

# -- time zones ----------------------------------------------------------------------------

_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
# Names the tz database ships that mean "whatever this host is set to", not a place.
_HOST_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; `ValueError` with a readable message if there is no such zone."""
    if name in _HOST_ZONES or len(name) > 64 or not _ZONE_NAME.match(name):
        raise ValueError(f"{name!r} is not an IANA time zone name such as 'Europe/Madrid'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Madrid'"
        ) from error


# -- the terms -----------------------------------------------------------------------------


def check_timezone(name: str) -> str:
    """`name` if it is an IANA zone; `ValueError` with a readable message if not."""
    load_zone(name)
    return name


def normalize_hours(
    hours: Mapping[Weekday, Iterable[tuple[time, time]]],
) -> dict[Weekday, list[tuple[time, time]]]:
    """Days in week order, each day's intervals by start; `ValueError` if any overlap."""
    return {day: _without_overlaps(day, hours[day]) for day in WEEKDAYS if day in hours}


def _without_overlaps(
    day: Weekday, intervals: Iterable[tuple[time, time]]
) -> list[tuple[time, time]]:
    ordered = sorted(intervals, key=lambda interval: _since_midnight(interval[0]))
    for before, after in pairwise(ordered):
        if _since_midnight(after[0]) < _until(before[1]):
            raise ValueError(
                f"the working intervals on {day.value} overlap: "
                f"{_span_text(*before)} and {_span_text(*after)}"
            )
    return ordered


WeeklyHours = Annotated[dict[Weekday, list[WorkInterval]], AfterValidator(normalize_hours)]
"""Working intervals per weekday: days in week order, intervals by start, none overlapping."""


# A ticket takes the holidays of the year it opens and of the next two.
YEARS_AHEAD = 3


def ticket_years(opened_at: datetime) -> range:
    """The years whose holidays a ticket opened at `opened_at` runs on."""
    return range(opened_at.year, min(opened_at.year + YEARS_AHEAD, MAXYEAR + 1))


class CalendarTerms(BaseModel):
    """A calendar as a ticket's workflow carries it: zone, weekly hours, resolved holidays."""

    model_config = ConfigDict(frozen=True)

    timezone: Annotated[str, AfterValidator(check_timezone)]
    hours: WeeklyHours
    holidays: Holidays = frozenset()


# -- wall-clock arithmetic -----------------------------------------------------------------

Shift = tuple[timedelta, timedelta]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0))


class _WallWeek:
    """Weekly working hours less holidays, on naive wall-clock time where days last 24 h."""

    def __init__(
        self, hours: Mapping[Weekday, Iterable[tuple[time, time]]], holidays: Iterable[date]
    ) -> None:
        self._shifts: tuple[tuple[Shift, ...], ...] = tuple(
            tuple((_since_midnight(start), _until(end)) for start, end in hours.get(day, ()))
            for day in WEEKDAYS
        )
        self._daily = tuple(sum((e - s for s, e in shifts), _ZERO) for shifts in self._shifts)
        self._weekly = sum(self._daily, _ZERO)
        if self._weekly <= _ZERO:
            raise InvalidInput("a calendar needs working hours")
        self._holidays = tuple(sorted(set(holidays)))  # sorted, to count a span's by bisection
        self._holiday_set = frozenset(self._holidays)

    def count(self, start: datetime, end: datetime) -> timedelta:
        """Business time in the wall-clock span [start, end)."""
        if end <= start:
            return _ZERO
        first, last = start.date(), end.date()
        since, until = start - _midnight(first), end - _midnight(last)
        if first == last:
            return self._within(first, since, until)
        return (
            self._within(first, since, _ONE_DAY)
            + self._whole_days(first + _ONE_DAY, last)
            + self._within(last, _ZERO, until)
        )

    def advance(self, start: datetime, amount: timedelta) -> datetime:
        """The first wall-clock time at which `amount` of business time has passed since `start`."""
        if amount <= _ZERO:
            return start
        day = start.date()
        reached, left = self._reach(day, start - _midnight(day), amount)
        if reached is not None:
            return reached
        day, left = self._skip_weeks(day + _ONE_DAY, left)
        while True:
            reached, left = self._reach(day, _ZERO, left)
            if reached is not None:
                return reached
            day += _ONE_DAY

    def _within(self, day: date, since: timedelta, until: timedelta) -> timedelta:
        """Business time of `day` between two offsets from its midnight."""
        if day in self._holiday_set:
            return _ZERO
        overlaps = (min(e, until) - max(s, since) for s, e in self._shifts[day.weekday()])
        return sum((o for o in overlaps if o > _ZERO), _ZERO)

    def _whole_days(self, first: date, stop: date) -> timedelta:
        """Business time of the days [first, stop): whole weeks by multiplication."""
        days = (stop - first).days
        if days <= 0:
            return _ZERO
        weeks, extra = divmod(days, 7)
        start = first.weekday()
        total = self._weekly * weeks + sum(
            (self._daily[(start + i) % 7] for i in range(extra)), _ZERO
        )
        lo, hi = bisect_left(self._holidays, first), bisect_left(self._holidays, stop)
        return total - sum((self._daily[h.weekday()] for h in self._holidays[lo:hi]), _ZERO)

    def _reach(
        self, day: date, since: timedelta, amount: timedelta
    ) -> tuple[datetime | None, timedelta]:
        """Where `amount` runs out within `day` after `since`; else None and what is left."""
        if day in self._holiday_set:
            return None, amount
        for start, end in self._shifts[day.weekday()]:
            begin = max(start, since)
            if begin >= end:
                continue
            if amount <= end - begin:
                return _midnight(day) + begin + amount, _ZERO
            amount -= end - begin
        return None, amount

    def _skip_weeks(self, day: date, amount: timedelta) -> tuple[date, timedelta]:
        """Jump whole weeks while two weeks' worth is left; the deadline lies beyond them."""
        # n weeks hold at most n × weekly, so skipping (n - 1) of them never overshoots;
        # holidays only make a block hold less, and the loop moves on regardless.
        while (weeks := amount // self._weekly) >= 2:
            stop = day + timedelta(weeks=weeks - 1)
            amount -= self._whole_days(day, stop)
            day = stop
        return day, amount


# -- the calendar --------------------------------------------------------------------------


class BusinessHours:
    """A `BusinessCalendar` counting only working hours, to the microsecond."""

    def __init__(self, terms: CalendarTerms) -> None:
        self.terms = terms
        self._zone = load_zone(terms.timezone)
        self._week = _WallWeek(terms.hours, terms.holidays)

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants (zero when `end <= start`)."""
        at, last = _naive_utc(start), _naive_utc(end)
        total = _ZERO
        while at < last:
            offset = self._offset(at)
            stop = self._next_change(at, offset, last) or last
            total += self._week.count(at + offset, stop + offset)
            at = stop
        return total

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The first instant (UTC) at which `amount` of business time has passed since `start`."""
        if amount <= _ZERO:
            return start
        at, left = _naive_utc(start), amount
        while True:
            offset = self._offset(at)
            # Where the amount runs out if the offset holds; a change on the way moves it.
            candidate = self._week.advance(at + offset, left) - offset
            change = self._next_change(at, offset, candidate)
            if change is None:
                return candidate.replace(tzinfo=UTC)
            left -= self._week.count(at + offset, change + offset)
            at = change

    def _offset(self, at: datetime) -> timedelta:
        """The zone's UTC offset at the naive UTC instant `at`."""
        return at.replace(tzinfo=UTC).astimezone(self._zone).utcoffset() or _ZERO

    def _next_change(self, after: datetime, offset: timedelta, limit: datetime) -> datetime | None:
        """The first instant in (after, limit] whose UTC offset is not `offset`, if any."""
        at = after
        while at < limit:
            probe = at + min(_PROBE_STEP, limit - at)
            if self._offset(probe) != offset:
                return self._bisect(at, probe, offset)
            at = probe
        return None

    def _bisect(self, before: datetime, after: datetime, offset: timedelta) -> datetime:
        """The instant the offset changes, given `offset` at `before` and another at `after`."""
        while after - before > _RESOLUTION:
            middle = before + (after - before) // 2
            if self._offset(middle) == offset:
                before = middle
            else:
                after = middle
        return after


def _naive_utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError("business hours need timezone-aware datetimes")
    return moment.astimezone(UTC).replace(tzinfo=None)


def calendar_for(terms: CalendarTerms | None) -> BusinessCalendar:
    """The calendar a ticket's SLA clocks run on: round the clock without terms."""
    return ALWAYS_OPEN if terms is None else BusinessHours(terms)
