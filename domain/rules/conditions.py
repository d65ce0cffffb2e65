"""A rule's condition tree: `{"all": [...]}`, `{"any": [...]}` or a leaf `{field, operator, value}`.

Leaves are normalised when validated (English field names, canonical values), so a stored
tree reads the same whichever spelling an administrator used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from domain.rules.fields import (
    FIELDS,
    FieldSpec,
    Operator,
    normalise_value,
    resolve_field,
    resolve_operator,
)

MAX_CHILDREN = 50


class Leaf(BaseModel):
    """One test of one field, e.g. `{"field": "priority", "operator": "equals", "value": "P1"}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    operator: Operator
    value: Any = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "field" not in data or "operator" not in data:
            raise ValueError('a condition leaf needs "field" and "operator" (and usually "value")')
        spec = resolve_field(data["field"])
        operator = resolve_operator(data["operator"], spec)
        value = normalise_value(spec, operator, data.get("value"))
        return {**data, "field": spec.name, "operator": operator, "value": value}

    @property
    def spec(self) -> FieldSpec:
        return FIELDS[self.field]

    def leaves(self) -> Iterator[Leaf]:
        yield self

    def depth(self) -> int:
        return 1


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    mode: ClassVar[Literal["all", "any"]]

    @property
    def children(self) -> list[Condition]:
        raise NotImplementedError

    def leaves(self) -> Iterator[Leaf]:
        for child in self.children:
            yield from child.leaves()

    def depth(self) -> int:
        return 1 + max((child.depth() for child in self.children), default=0)


class AllOf(_Group):
    """True when every child is; an empty list is always true (a rule for every ticket)."""

    mode: ClassVar[Literal["all", "any"]] = "all"
    all: list[Condition] = Field(max_length=MAX_CHILDREN)

    @property
    def children(self) -> list[Condition]:
        return self.all


class AnyOf(_Group):
    """True when at least one child is."""

    mode: ClassVar[Literal["all", "any"]] = "any"
    # An empty "any" could never be true: refuse it rather than store a dead rule.
    any: list[Condition] = Field(min_length=1, max_length=MAX_CHILDREN)

    @property
    def children(self) -> list[Condition]:
        return self.any


def _tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return "all" if "all" in value else "any" if "any" in value else "leaf"
    if isinstance(value, AllOf | AnyOf):
        return value.mode
    return "leaf" if isinstance(value, Leaf) else None


Condition = Annotated[
    Annotated[AllOf, Tag("all")] | Annotated[AnyOf, Tag("any")] | Annotated[Leaf, Tag("leaf")],
    Discriminator(
        _tag,
        custom_error_type="invalid_condition",
        custom_error_message=(
            'a condition is {"all": [...]}, {"any": [...]} or {"field", "operator", "value"}'
        ),
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()

__all__ = ["AllOf", "AnyOf", "Condition", "Leaf"]
