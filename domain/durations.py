"""ISO 8601 durations as ticketflow writes them: days, hours, minutes and seconds.

Pydantic's own writing of a `timedelta` counts 365 days as a year (`P1Y35D`) and keeps
microseconds as a fraction of a second: a year has no fixed length, so the API refuses `Y`
on input, and what it wrote could not be sent back (nor read back from a schedule's memo).
Every duration the API or a workflow payload writes goes through `iso_duration` instead,
and the JSON schema it publishes for them is the pattern of exactly what that writes.

Reading stays lenient (`P1Y35D` still reads as 400 days), so payloads and memos written
before this change are still understood.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

_SECONDS = r"\d+(\.\d+)?S"
_TIME = rf"T(\d+H(\d+M)?({_SECONDS})?|\d+M({_SECONDS})?|{_SECONDS})"
# What the API accepts: weeks or days, then a time part; at least one component.
INPUT_PATTERN = rf"^P(\d+W(\d+D)?({_TIME})?|\d+D({_TIME})?|{_TIME})$"
# What `iso_duration` writes: days, then a time part; `PT0S` for nothing.
OUTPUT_PATTERN = rf"^P(\d+D({_TIME})?|{_TIME})$"
SIGNED_OUTPUT_PATTERN = rf"^-?P(\d+D({_TIME})?|{_TIME})$"

_INPUT = re.compile(INPUT_PATTERN)
_EXAMPLES = ["PT15M", "P3D", "P1DT12H"]


def is_input_duration(text: str) -> bool:
    """Whether `text` is a duration the API takes (no years or months, no sign)."""
    return _INPUT.match(text) is not None


def iso_duration(value: timedelta) -> str:
    """`value` as `[-]P[nD][T[nH][nM][n[.f]S]]`: days, never years; `PT0S` for zero."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    date = f"{value.days}D" if value.days else ""
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if value.microseconds:
        time += f"{seconds}.{value.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        time += f"{seconds}S"
    if not date and not time:
        return "PT0S"
    return f"{sign}P{date}" + (f"T{time}" if time else "")


_WRITTEN = PlainSerializer(iso_duration, return_type=str, when_used="json")

# A duration the API answers with; never negative (a negative one fails the schema check).
IsoDuration = Annotated[
    timedelta,
    _WRITTEN,
    WithJsonSchema(
        {"type": "string", "pattern": OUTPUT_PATTERN, "examples": _EXAMPLES},
        mode="serialization",
    ),
]
# One that may be negative: time left before a deadline, below zero once it has passed.
SignedIsoDuration = Annotated[
    timedelta,
    _WRITTEN,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": SIGNED_OUTPUT_PATTERN,
            "examples": ["PT15M", "-PT5M"],
            "description": "negative (`-PT5M`) once the deadline has passed",
        },
        mode="serialization",
    ),
]
