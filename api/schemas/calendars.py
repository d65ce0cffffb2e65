"""Business-hours calendars: working hours in a time zone, less holidays."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import ApiModel
from domain.calendars import WEEKDAYS, Weekday, WeeklyHours, WorkInterval, check_timezone
from domain.durations import IsoDuration

CalendarName = Annotated[str, Field(min_length=1, max_length=120)]
TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, description="IANA time zone", examples=["Europe/Madrid"]),
    AfterValidator(check_timezone),
]
MAX_INTERVALS_A_DAY = 24


def _few_intervals(hours: dict[Weekday, list[Any]]) -> dict[Weekday, list[Any]]:
    # Every ticket's workflow carries its calendar: keep it small.
    for day, intervals in hours.items():
        if len(intervals) > MAX_INTERVALS_A_DAY:
            raise ValueError(f"{day.value} has more than {MAX_INTERVALS_A_DAY} working intervals")
    return hours


Hours = Annotated[
    WeeklyHours,
    AfterValidator(_few_intervals),
    Field(
        description=(
            "Working intervals per weekday (`mon`..`sun`) in local wall-clock time, "
            "`[start, end)`; `24:00` ends at midnight, a missing day is a day off. "
            "A calendar needs working hours on at least one day."
        ),
        examples=[{day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}],
    ),
]
HolidayList = Annotated[
    list[date], Field(max_length=1000, description="explicit days off (local dates)")
]
CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2: adds that country's public holidays",
        examples=["ES"],
    ),
    AfterValidator(str.upper),
]
Subdivision = Annotated[
    str,
    Field(
        min_length=1,
        max_length=16,
        description="a subdivision code of the country (its regional holidays)",
        examples=["MD"],
    ),
]


class CalendarOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    timezone: str
    hours: dict[Weekday, list[WorkInterval]]
    holidays: list[date]
    country_code: str | None
    subdivision: str | None
    created_at: datetime
    updated_at: datetime

    @field_validator("hours")
    @classmethod
    def _every_day(cls, value: dict[Weekday, list[Any]]) -> dict[Weekday, list[Any]]:
        # Days off as [], so a reader sees the whole week without knowing the convention.
        return {day: value.get(day, []) for day in WEEKDAYS}


class CalendarCreate(ApiModel):
    name: CalendarName
    timezone: TimeZoneName
    hours: Hours
    holidays: HolidayList = Field(default_factory=list)
    country_code: CountryCode | None = None
    subdivision: Subdivision | None = None


class CalendarUpdate(ApiModel):
    """Absent fields stay as they are; `null` clears `country_code` or `subdivision`."""

    name: CalendarName | None = None
    timezone: TimeZoneName | None = None
    hours: Hours | None = None
    holidays: HolidayList | None = None
    country_code: CountryCode | None = None
    subdivision: Subdivision | None = None


class DeadlinePreview(BaseModel):
    """When a target of `duration` started at `start` falls due on this calendar."""

    calendar_id: UUID
    start: datetime
    duration: IsoDuration
    deadline: datetime
