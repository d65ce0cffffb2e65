"""What temporal-config/register-search-attributes.sh asks Python: which attributes to create."""

from __future__ import annotations

import io
import json

import pytest

from ticketflow import search_attribute_plan as plan
from workflows.search_attributes import ALL_KEYS, TICKET_NUMBER, TICKET_STATUS


def test_only_the_missing_attributes_are_planned() -> None:
    listed = {"customAttributes": {"TicketStatus": "INDEXED_VALUE_TYPE_KEYWORD", "Other": "X"}}
    missing = plan.missing_keys(plan.existing_attributes(listed))
    assert [key.name for key in missing] == [k.name for k in ALL_KEYS if k is not TICKET_STATUS]


def test_a_number_for_a_type_is_understood() -> None:
    listed = {"customAttributes": {"TicketNumber": 3}}  # INDEXED_VALUE_TYPE_INT
    assert TICKET_NUMBER not in plan.missing_keys(plan.existing_attributes(listed))


def test_another_type_is_a_clash_that_names_the_attribute() -> None:
    listed = {"customAttributes": {"TicketStatus": "INDEXED_VALUE_TYPE_INT"}}
    with pytest.raises(plan.TypeClash, match="TicketStatus is INDEXED_VALUE_TYPE_INT"):
        plan.missing_keys(plan.existing_attributes(listed))


def test_main_prints_what_the_cli_takes_and_check_fails_while_some_are_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"customAttributes": {}})))
    assert plan.main(["--check"]) == plan.EXIT_MISSING
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "TicketNumber=Int"
    assert "TicketBreachAt=Datetime" in printed
