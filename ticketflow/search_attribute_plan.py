"""Which ticket search attributes a namespace lacks, for `temporal-config/` scripts.

The scripts talk to Temporal with the `temporal` CLI (it knows every connection option:
address, API key, TLS, profiles) and ask this module what to do with its answer:

    temporal operator search-attribute list --namespace N --output json \\
        | python -m ticketflow.search_attribute_plan

prints `Name=Type` (as `--type` spells it) for each attribute to create, nothing for those
already there. An attribute that exists with another type cannot be fixed by creating it
again (Temporal never changes a type), so that exits with status 3 and names it. With
`--check`, any attribute still missing is an error too (status 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.common import SearchAttributeKey

from workflows.search_attributes import ALL_KEYS, cli_type_name

EXIT_MISSING = 1
EXIT_CLASH = 3


class TypeClash(Exception):
    """Attributes that exist in the namespace with another type than ticketflow's."""


def existing_attributes(listed: Mapping[str, Any]) -> dict[str, str]:
    """Custom attribute name → type (`INDEXED_VALUE_TYPE_KEYWORD`) from the CLI's JSON."""
    custom = listed.get("customAttributes") or {}
    return {name: _type_name(value) for name, value in custom.items()}


def missing_keys(
    existing: Mapping[str, str], keys: Sequence[SearchAttributeKey[Any]] = ALL_KEYS
) -> list[SearchAttributeKey[Any]]:
    """The keys to create; raises TypeClash if one exists with another type."""
    clashes = [
        f"{key.name} is {existing[key.name]}, ticketflow needs {_wanted(key)}"
        for key in keys
        if key.name in existing and existing[key.name] != _wanted(key)
    ]
    if clashes:
        raise TypeClash("; ".join(clashes))
    return [key for key in keys if key.name not in existing]


def _wanted(key: SearchAttributeKey[Any]) -> str:
    return IndexedValueType.Name(IndexedValueType.ValueType(key.indexed_value_type))


def _type_name(value: object) -> str:
    # Current CLIs write the enum's name; a number is accepted too.
    if isinstance(value, int):
        return IndexedValueType.Name(IndexedValueType.ValueType(value))
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ticketflow.search_attribute_plan", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="fail if any ticket attribute is missing"
    )
    args = parser.parse_args(argv)
    try:
        missing = missing_keys(existing_attributes(json.load(sys.stdin)))
    except TypeClash as clash:
        print(
            f"search attributes with the wrong type: {clash}. Temporal cannot change a type; "
            "remove the attribute (temporal operator search-attribute remove) or use another "
            "namespace.",
            file=sys.stderr,
        )
        return EXIT_CLASH
    for key in missing:
        print(f"{key.name}={cli_type_name(key)}")
    return EXIT_MISSING if args.check and missing else 0


if __name__ == "__main__":
    sys.exit(main())
