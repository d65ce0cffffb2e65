"""Durations as the API writes them: days (never years), matching the pattern it publishes,
and readable by the API's own input type."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from api.schemas.common import Duration
from domain.durations import (
    OUTPUT_PATTERN,
    SIGNED_OUTPUT_PATTERN,
    IsoDuration,
    SignedIsoDuration,
    iso_duration,
)

READ = TypeAdapter(timedelta)
TAKEN = TypeAdapter(Duration)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(minutes=15), "PT15M"),
        (timedelta(hours=36), "P1DT12H"),
        (timedelta(days=365), "P365D"),
        (timedelta(days=400), "P400D"),
        (timedelta(days=800, seconds=1), "P800DT1S"),
        (timedelta(microseconds=1500), "PT0.0015S"),
        (timedelta(seconds=61, microseconds=500_000), "PT1M1.5S"),
        (timedelta(hours=2, seconds=5), "PT2H5S"),
        (timedelta(seconds=-5), "-PT5S"),
        (timedelta(days=-1, hours=3), "-PT21H"),
    ],
)
def test_durations_are_written_in_days_hours_minutes_and_seconds(
    value: timedelta, written: str
) -> None:
    assert iso_duration(value) == written


SPAN = timedelta(days=100_000)


@given(st.timedeltas(min_value=timedelta(0), max_value=SPAN))
def test_what_is_written_matches_the_published_pattern_and_is_taken_back(
    value: timedelta,
) -> None:
    written = iso_duration(value)
    assert re.match(OUTPUT_PATTERN, written), written
    assert READ.validate_python(written) == value
    assert TAKEN.validate_python(written) == value


@given(st.timedeltas(min_value=-SPAN, max_value=SPAN))
def test_signed_durations_match_their_pattern_and_read_back(value: timedelta) -> None:
    written = iso_duration(value)
    assert re.match(SIGNED_OUTPUT_PATTERN, written), written
    assert READ.validate_python(written) == value


class _Clock(BaseModel):
    elapsed: IsoDuration
    remaining: SignedIsoDuration


def test_models_write_durations_in_json_and_keep_them_in_python() -> None:
    clock = _Clock(elapsed=timedelta(days=400), remaining=timedelta(minutes=-5))
    assert clock.model_dump(mode="json") == {"elapsed": "P400D", "remaining": "-PT5M"}
    assert clock.model_dump()["elapsed"] == timedelta(days=400)
    # Written before this change (pydantic's own way): still read.
    assert _Clock.model_validate({"elapsed": "P1Y35D", "remaining": "PT0S"}).elapsed == (
        timedelta(days=400)
    )
