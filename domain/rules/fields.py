"""What a rule condition may look at, and which operators and values each field accepts.

Fields and operators are data (tables), so adding one is a new row, not a new branch.
Values are normalised once, when a rule is validated: enum values to their canonical
spelling, ids to canonical UUID text, flags to booleans. Evaluation then only compares.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.enums import Impact, Priority, Role, Source, TicketStatus, Urgency


class Kind(StrEnum):
    """How a field's value behaves: what it can be compared with, and how."""

    TEXT = "text"
    ENUM = "enum"
    ID = "id"
    TAGS = "tags"
    FLAG = "flag"
    TIME = "time"


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    GREATER_THAN = "greater_than"
    LESS_THAN = "less_than"
    IN = "in"
    NOT_IN = "not_in"
    CHANGED = "changed"
    CHANGED_TO = "changed_to"
    IS_EMPTY = "is_empty"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    choices: tuple[str, ...] = ()
    comment_only: bool = False  # only known while a comment is being added


def _enum(name: str, enum: type[StrEnum]) -> FieldSpec:
    return FieldSpec(name, Kind.ENUM, tuple(member.value for member in enum))


_SPECS = (
    FieldSpec("title", Kind.TEXT),
    FieldSpec("description", Kind.TEXT),
    _enum("status", TicketStatus),
    _enum("priority", Priority),
    _enum("urgency", Urgency),
    _enum("impact", Impact),
    FieldSpec("category", Kind.TEXT),
    FieldSpec("subcategory", Kind.TEXT),
    _enum("source", Source),
    FieldSpec("tags", Kind.TAGS),
    FieldSpec("assignee_id", Kind.ID),
    FieldSpec("department_id", Kind.ID),
    FieldSpec("requester_id", Kind.ID),
    _enum("requester_role", Role),
    FieldSpec("requester_vip", Kind.FLAG),
    FieldSpec("comment_body", Kind.TEXT, comment_only=True),
    FieldSpec("comment_private", Kind.FLAG, comment_only=True),
    FieldSpec("comment_by_requester", Kind.FLAG, comment_only=True),
    FieldSpec("hours_since_created", Kind.TIME),
    FieldSpec("hours_since_activity", Kind.TIME),
    FieldSpec("sla_minutes_remaining", Kind.TIME),
    FieldSpec("hours_in_status", Kind.TIME),
)
FIELDS: Mapping[str, FieldSpec] = {spec.name: spec for spec in _SPECS}
TIME_FIELDS = frozenset(name for name, spec in FIELDS.items() if spec.kind is Kind.TIME)

# The Spanish seed's spellings, accepted on input and stored in English.
FIELD_ALIASES: Mapping[str, str] = {
    "titulo": "title",
    "título": "title",
    "descripcion": "description",
    "descripción": "description",
    "estado": "status",
    "prioridad": "priority",
    "categoria": "category",
    "categoría": "category",
    "etiquetas": "tags",
    "usuario_vip": "requester_vip",
    "sla_minutos_restantes": "sla_minutes_remaining",
    "horas_sin_actividad": "hours_since_activity",
    "horas_desde_creacion": "hours_since_created",
}
OPERATOR_ALIASES: Mapping[str, str] = {"in_array": "in"}  # the seed's evaluator spelling

_O = Operator
_CHANGES = frozenset({_O.CHANGED, _O.CHANGED_TO})
_EQUALITY = frozenset({_O.EQUALS, _O.NOT_EQUALS, _O.IN, _O.NOT_IN})
OPERATORS_BY_KIND: Mapping[Kind, frozenset[Operator]] = {
    Kind.TEXT: _EQUALITY | _CHANGES | {_O.CONTAINS, _O.NOT_CONTAINS, _O.IS_EMPTY},
    Kind.ENUM: _EQUALITY | _CHANGES,
    Kind.ID: _EQUALITY | _CHANGES | {_O.IS_EMPTY},
    Kind.TAGS: frozenset({_O.CONTAINS, _O.NOT_CONTAINS, _O.IN, _O.NOT_IN, _O.IS_EMPTY, _O.CHANGED}),
    Kind.FLAG: frozenset({_O.EQUALS, _O.NOT_EQUALS, _O.CHANGED, _O.CHANGED_TO}),
    # Time fields move on their own; only thresholds (and "no SLA running") make sense.
    Kind.TIME: frozenset({_O.GREATER_THAN, _O.LESS_THAN, _O.IS_EMPTY}),
}
CHANGE_OPERATORS = _CHANGES

# Bounds a threshold so its crossing instant stays a representable datetime (~114 years).
MAX_TIME_VALUE = 1_000_000.0
MAX_TEXT_VALUE = 1_000
MAX_LIST_VALUE = 100


def _listing(values: Iterable[object]) -> str:
    return ", ".join(sorted(str(v) for v in values))


def resolve_field(name: object) -> FieldSpec:
    """The spec of a field named in English or by a seed alias."""
    if not isinstance(name, str):
        raise ValueError("a condition's field must be a string")
    canonical = FIELD_ALIASES.get(name, name)
    spec = FIELDS.get(canonical)
    if spec is None:
        raise ValueError(f"unknown field {name!r}; allowed: {_listing(FIELDS)}")
    return spec


def resolve_operator(name: object, spec: FieldSpec) -> Operator:
    """The operator, checked against what the field's kind supports."""
    if not isinstance(name, str):
        raise ValueError("a condition's operator must be a string")
    try:
        operator = Operator(OPERATOR_ALIASES.get(name, name))
    except ValueError:
        allowed = _listing(o.value for o in Operator)
        raise ValueError(f"unknown operator {name!r}; allowed: {allowed}") from None
    allowed_here = OPERATORS_BY_KIND[spec.kind]
    if operator not in allowed_here:
        raise ValueError(
            f"operator {operator.value!r} does not apply to {spec.name} ({spec.kind.value}); "
            f"allowed: {_listing(o.value for o in allowed_here)}"
        )
    return operator


# -- values ------------------------------------------------------------------------------------


def _text(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{spec.name} compares with text")
    if len(value) > MAX_TEXT_VALUE:
        raise ValueError(f"a value for {spec.name} must be at most {MAX_TEXT_VALUE} characters")
    return value


def _choice(spec: FieldSpec, value: Any) -> str:
    # Case-insensitive on input ("p1" is P1), canonical in storage.
    if isinstance(value, str):
        for choice in spec.choices:
            if choice.casefold() == value.casefold():
                return choice
    raise ValueError(f"{value!r} is not a {spec.name}; allowed: {', '.join(spec.choices)}")


def _uuid(spec: FieldSpec, value: Any) -> str:
    if value is None:
        raise ValueError(f"to test for no {spec.name}, use is_empty")
    try:
        return str(UUID(str(value)))
    except ValueError:
        raise ValueError(f"{spec.name} compares with a UUID, not {value!r}") from None


def _flag(spec: FieldSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{spec.name} compares with true or false")
    return value


def _no_scalar(spec: FieldSpec, value: Any) -> Any:
    raise ValueError(f"{spec.name} compares only with greater_than, less_than or is_empty")


_SCALAR: Mapping[Kind, Callable[[FieldSpec, Any], Any]] = {
    Kind.TEXT: _text,
    Kind.ENUM: _choice,
    Kind.ID: _uuid,
    Kind.TAGS: _text,
    Kind.FLAG: _flag,
    Kind.TIME: _no_scalar,
}


def _scalar(spec: FieldSpec, operator: Operator, value: Any) -> Any:
    return _SCALAR[spec.kind](spec, value)


def _many(spec: FieldSpec, operator: Operator, value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{operator.value} takes a non-empty list of values")
    if len(value) > MAX_LIST_VALUE:
        raise ValueError(f"{operator.value} takes at most {MAX_LIST_VALUE} values")
    return [_SCALAR[spec.kind](spec, item) for item in value]


def _number(spec: FieldSpec, operator: Operator, value: Any) -> float:
    # bool is an int in Python; `greater_than: true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{operator.value} on {spec.name} takes a number")
    if abs(value) > MAX_TIME_VALUE:
        raise ValueError(f"{spec.name} thresholds must lie within ±{MAX_TIME_VALUE:g}")
    return float(value)


def _switch(spec: FieldSpec, operator: Operator, value: Any) -> bool:
    # `changed` / `is_empty` need no value; `false` asks for the opposite.
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValueError(f"{operator.value} takes true, false or no value")
    return value


_VALUE_SHAPE: Mapping[Operator, Callable[[FieldSpec, Operator, Any], Any]] = {
    _O.EQUALS: _scalar,
    _O.NOT_EQUALS: _scalar,
    _O.CONTAINS: _scalar,
    _O.NOT_CONTAINS: _scalar,
    _O.CHANGED_TO: _scalar,
    _O.IN: _many,
    _O.NOT_IN: _many,
    _O.GREATER_THAN: _number,
    _O.LESS_THAN: _number,
    _O.CHANGED: _switch,
    _O.IS_EMPTY: _switch,
}


def normalise_value(spec: FieldSpec, operator: Operator, value: Any) -> Any:
    """The value in the shape `operator` needs for `spec`, or a ValueError saying why not."""
    return _VALUE_SHAPE[operator](spec, operator, value)


__all__ = [
    "CHANGE_OPERATORS",
    "FIELDS",
    "FIELD_ALIASES",
    "OPERATORS_BY_KIND",
    "OPERATOR_ALIASES",
    "TIME_FIELDS",
    "FieldSpec",
    "Kind",
    "Operator",
    "normalise_value",
    "resolve_field",
    "resolve_operator",
]
