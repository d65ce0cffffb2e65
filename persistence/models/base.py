"""The declarative base: naming convention, column types and enum CHECK constraints."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, DateTime, Dialect, MetaData, Table, Text, Uuid, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from domain.enums import (
    Availability,
    ClockState,
    Impact,
    Locale,
    Metric,
    Priority,
    Role,
    SlaEventKind,
    Source,
    TicketStatus,
    Urgency,
    UserStatus,
)
from persistence.models.vocab import (
    ArticleStatus,
    AuditAction,
    NotificationChannel,
    NotificationStatus,
    RuleTrigger,
    TokenChannel,
    TokenPurpose,
)

E = TypeVar("E", bound=StrEnum)

# Deterministic constraint names, so a later migration can drop or alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class TextEnum(TypeDecorator[E], Generic[E]):
    """A StrEnum stored as plain text: a CHECK constraint, not a PG ENUM, guards the values.

    PG ENUM types cannot drop a value and need their own migration steps; text does not.
    """

    impl = Text
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def enum_check(column: str, values: Iterable[str]) -> CheckConstraint:
    """`column IN (...)`, named `ck_<table>_<column>`."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


_ENUMS: tuple[type[StrEnum], ...] = (
    Availability,
    ClockState,
    Impact,
    Locale,
    Metric,
    Priority,
    Role,
    SlaEventKind,
    Source,
    TicketStatus,
    Urgency,
    UserStatus,
    ArticleStatus,
    AuditAction,
    NotificationChannel,
    NotificationStatus,
    RuleTrigger,
    TokenChannel,
    TokenPurpose,
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        str: Text(),
        datetime: DateTime(timezone=True),
        UUID: Uuid(),
        dict[str, Any]: JSONB(),
        list[dict[str, Any]]: JSONB(),
        list[str]: ARRAY(Text()),
        list[UUID]: ARRAY(Uuid()),
        **{enum: TextEnum(enum) for enum in _ENUMS},
    }
    # Read server-made values (timestamps, defaults) back with RETURNING on INSERT and
    # UPDATE: an expired attribute would need a lazy load, which async sessions forbid.
    __mapper_args__ = {"eager_defaults": True}


# sort_order keeps mixin columns where a reader looks for them: id first, timestamps last.
class HasId:
    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4, sort_order=-1)


class HasCreatedAt:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), sort_order=1)


class HasTimestamps(HasCreatedAt):
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), sort_order=2
    )


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for bulk statements that load no objects."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
