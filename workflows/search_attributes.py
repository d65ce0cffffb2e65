"""The ticket search attributes: the one list the workflow, the dev server and ops share.

Agents filter the Web UI with these (`TicketPriority = 'P1' AND TicketSlaState =
'breached'`). `ticketflow dev` registers them on its dev server and
`temporal-config/register-search-attributes.sh` on a production cluster; both read this
module (`python -m workflows.search_attributes` prints `Name=Type` lines for the script).
The SQLite dev server allows at most 10 Keyword and 3 of each other type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

TICKET_NUMBER: SearchAttributeKey[int] = SearchAttributeKey.for_int("TicketNumber")
TICKET_STATUS: SearchAttributeKey[str] = SearchAttributeKey.for_keyword("TicketStatus")
TICKET_PRIORITY: SearchAttributeKey[str] = SearchAttributeKey.for_keyword("TicketPriority")
TICKET_ASSIGNEE: SearchAttributeKey[str] = SearchAttributeKey.for_keyword("TicketAssignee")
TICKET_DEPARTMENT: SearchAttributeKey[str] = SearchAttributeKey.for_keyword("TicketDepartment")
TICKET_SLA_STATE: SearchAttributeKey[str] = SearchAttributeKey.for_keyword("TicketSlaState")
TICKET_BREACH_AT: SearchAttributeKey[datetime] = SearchAttributeKey.for_datetime("TicketBreachAt")

ALL_KEYS: tuple[SearchAttributeKey[Any], ...] = (
    TICKET_NUMBER,
    TICKET_STATUS,
    TICKET_PRIORITY,
    TICKET_ASSIGNEE,
    TICKET_DEPARTMENT,
    TICKET_SLA_STATE,
    TICKET_BREACH_AT,
)

# The spelling `temporal server start-dev --search-attribute` and
# `temporal operator search-attribute create --type` accept.
_CLI_TYPE_NAMES: dict[SearchAttributeIndexedValueType, str] = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


def cli_type_name(key: SearchAttributeKey[Any]) -> str:
    """The type name the `temporal` CLI uses for `key`, e.g. `Keyword`."""
    return _CLI_TYPE_NAMES[key.indexed_value_type]


def cli_specs(keys: tuple[SearchAttributeKey[Any], ...] = ALL_KEYS) -> list[str]:
    """`Name=Type` for each key, as `temporal server start-dev --search-attribute` takes it."""
    return [f"{key.name}={cli_type_name(key)}" for key in keys]


if __name__ == "__main__":
    print("\n".join(cli_specs()))
