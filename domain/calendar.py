"""Business time: how much of a wall-clock span counts towards an SLA.

Every SLA computation goes through a `BusinessCalendar`, so a calendar with working hours and
holidays can replace the round-the-clock one without touching the clock logic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class BusinessCalendar(Protocol):
    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants (zero when `end <= start`)."""
        ...

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The first instant at which `amount` of business time has passed since `start`."""
        ...


class AlwaysOpen:
    """A 24×7 calendar: business time is wall-clock time."""

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        return start + max(amount, timedelta(0))


ALWAYS_OPEN = AlwaysOpen()
