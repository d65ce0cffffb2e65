"""Formula triggers in every form, and report files rendered from a table of hostile text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from activities.reports.cells import as_data, starts_like_formula, workbook_text
from activities.reports.render import render
from activities.reports.tables import AGENT_COLUMNS, Table


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "\n=1",
        "＝1",
        "﹦1",
        "＋1",
        "﹢1",
        "－1",
        "﹣1",
        "＠A1",
        "﹫A1",
        "\u22121",  # minus sign
        "\u2028=1",  # line separator
        "  =1",
        "\u00a0=1",  # no-break space
        "\u3000=1",  # ideographic space
        "\u200b=1",  # zero-width space
        "\u00ad=1",  # soft hyphen
        "\x07=1",
    ],
)
def test_every_form_of_a_trigger_is_caught(text: str) -> None:
    assert starts_like_formula(text)
    assert as_data(text) == "'" + text


@pytest.mark.parametrize("text", ["", "   ", "Printer", "1+1=2", "a=b", "'=1", "€5", "#1 =x"])
def test_text_that_is_no_formula_is_left_alone(text: str) -> None:
    assert not starts_like_formula(text)
    assert as_data(text) == text


def test_workbook_text_drops_what_a_workbook_cannot_hold() -> None:
    assert workbook_text("a\x00b\x1bc") == "a\ufffdb\ufffdc"
    assert workbook_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert workbook_text("\x07=1") == "\ufffd=1"  # no longer a formula once replaced
    assert workbook_text("=1") == "'=1"


AGENTS = Table(
    title="agents",
    columns=AGENT_COLUMNS,
    rows=[
        ("=cmd|' /C calc'!A0", "@evil.example", 3, -2, -1.5, None, 99.5, 1, 7.25),
        ("Ada", "ada@example.com", 0, 0, None, 2.0, None, 0, None),
    ],
)


def test_csv_of_hostile_agents_keeps_numbers_and_defuses_text() -> None:
    report = render(AGENTS, "csv", "agents")
    text = report.content.decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1][:2] == ["'=cmd|' /C calc'!A0", "'@evil.example"]
    assert rows[1][2:5] == ["3", "-2", "-1.5"]  # negative numbers are numbers, not text
    # Numbers are written bare, text quoted.
    assert text.splitlines()[1].split(",")[2:5] == ["3", "-2", "-1.5"]
    assert text.splitlines()[2].startswith('"Ada","ada@example.com",0,0,')


def test_xlsx_of_hostile_agents_has_string_and_number_cells_only() -> None:
    report = render(AGENTS, "xlsx", "agents")
    sheet = load_workbook(io.BytesIO(report.content)).active
    name, email, open_, resolved, minutes = sheet[2][:5]
    assert (name.data_type, name.value) == ("s", "'=cmd|' /C calc'!A0")
    assert (email.data_type, email.value) == ("s", "'@evil.example")
    assert [(c.data_type, c.value) for c in (open_, resolved, minutes)] == [
        ("n", 3),
        ("n", -2),
        ("n", -1.5),
    ]
    assert [c.value for c in sheet[1]] == list(AGENT_COLUMNS)


def test_times_stay_times() -> None:
    moment = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    table = Table(title="t", columns=("at",), rows=[(moment,)])
    sheet = load_workbook(io.BytesIO(render(table, "xlsx", "t").content)).active
    assert sheet["A2"].value == moment.replace(tzinfo=None)
    assert sheet["A2"].is_date
    assert b'"2025-03-03T09:30:00Z"' in render(table, "csv", "t").content
