"""Keyset pagination: an opaque cursor over the sort key, and pages of results."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement, Select, UnaryExpression, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_INT64 = range(-(2**63), 2**63)


def _strict(kind: type, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Accept only the JSON type the encoder wrote; a forged cursor is bad input, not a crash."""

    def decode(value: Any) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}")
        return convert(value)

    return decode


def _bigint(value: int) -> int:
    if value not in _INT64:
        raise ValueError("out of range")
    return value


_DECODERS: dict[type, Callable[[Any], Any]] = {
    datetime: _strict(str, datetime.fromisoformat),
    UUID: _strict(str, UUID),
    int: _strict(int, _bigint),
    str: _strict(str, str),
}


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Keyset:
    """A list's sort key: columns unique together, all in one direction."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = True

    def order_by(self) -> list[UnaryExpression[Any]]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly past `values` in list order (a row comparison the index can serve)."""
        key = tuple_(*self.columns)
        return key < tuple_(*values) if self.descending else key > tuple_(*values)

    def values_of(self, item: object) -> list[Any]:
        return [getattr(item, column.key) for column in self.columns]

    def encode(self, item: object) -> str:
        raw = json.dumps(self.values_of(item), default=to_jsonable_python, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        """The key values in `cursor`; `InvalidInput` for anything this list did not make."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            values = json.loads(raw)
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError("wrong shape")
            return [
                _decoder(column)(value) for column, value in zip(self.columns, values, strict=True)
            ]
        except (ValueError, TypeError, OverflowError, binascii.Error) as error:
            raise InvalidInput("invalid cursor") from error


def _decoder(column: InstrumentedAttribute[Any]) -> Callable[[Any], Any]:
    python_type: type = column.type.python_type
    decoder: Callable[[Any], Any] = _DECODERS.get(python_type, python_type)
    return decoder


def clamp_limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


async def paginate(
    session: AsyncSession,
    statement: Select[T],
    keyset: Keyset,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[T]:
    """One page of `statement` in keyset order, starting after `cursor`."""
    limit = clamp_limit(limit)
    if cursor:
        statement = statement.where(keyset.after(keyset.decode(cursor)))
    statement = statement.order_by(*keyset.order_by()).limit(limit + 1)
    items = list((await session.scalars(statement)).all())
    if len(items) <= limit:
        return Page(items=items, next_cursor=None)
    items = items[:limit]
    return Page(items=items, next_cursor=keyset.encode(items[-1]))
