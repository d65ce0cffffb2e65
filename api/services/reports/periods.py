"""The period a report is about: `from`/`to` from the query, checked, defaulting to 30 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.schemas.reports import PeriodOut
from domain.errors import InvalidInput
from persistence.repositories.reports import Period

DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=731)


def period_from(since: datetime | None, until: datetime | None, now: datetime) -> Period:
    """`[since, until)`, by default the 30 days up to `now`; both need a time zone."""
    if (since is not None and since.tzinfo is None) or (until is not None and until.tzinfo is None):
        raise InvalidInput("from and to need a time zone (RFC 3339, e.g. 2026-01-05T00:00:00Z)")
    try:
        until = until or (now if since is None else min(now, since + DEFAULT_SPAN))
        since = since or until - DEFAULT_SPAN
    except OverflowError as error:
        raise InvalidInput("from and to must lie between the years 1 and 9999") from error
    if not timedelta(0) < until - since <= MAX_SPAN:
        raise InvalidInput("from must be before to, at most two years apart")
    return Period(since.astimezone(UTC), until.astimezone(UTC))


def period_out(period: Period) -> PeriodOut:
    return PeriodOut(since=period.since, until=period.until)


def start_of_day(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def start_of_week(now: datetime) -> datetime:
    """Monday 00:00 UTC of `now`'s ISO week."""
    day = start_of_day(now)
    return day - timedelta(days=day.weekday())
