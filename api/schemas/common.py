"""Shapes shared by every resource: problems, pages, durations."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from domain.durations import INPUT_PATTERN, IsoDuration, is_input_duration

T = TypeVar("T")


def _iso_duration_text(value: Any) -> Any:
    """Only ISO 8601 text (`PT15M`, `P3D`, `P1DT12H`); years and months have no fixed length."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not is_input_duration(value):
        raise ValueError("expected an ISO 8601 duration such as 'PT15M', 'PT4H' or 'P3D'")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("the duration must be longer than zero")
    return value


# Taken as the pattern says (weeks and fractions of a second too), written back in days
# (`domain.durations`), so that whatever the API answers it also takes.
_DURATION_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": INPUT_PATTERN, "examples": ["PT15M", "P3D"]},
    mode="validation",
)
Duration = Annotated[IsoDuration, BeforeValidator(_iso_duration_text), _DURATION_SCHEMA]
PositiveDuration = Annotated[
    IsoDuration, BeforeValidator(_iso_duration_text), AfterValidator(_positive), _DURATION_SCHEMA
]

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="page size, 1 to 200")]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    allowed: list[str] | None = None


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated list; pass `next_cursor` back as `?cursor=`."""

    items: list[T]
    next_cursor: str | None = None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class ApiModel(BaseModel):
    """A request body: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold U+0000: refuse it here, not deep in a workflow's write.
        if _has_nul(data):
            raise ValueError("text must not contain NUL (U+0000) characters")
        return data


class Message(BaseModel):
    detail: str


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (401, 403, 404, 409, 422)
}
