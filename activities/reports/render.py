"""A report table as a file: CSV (stdlib), XLSX (openpyxl) or PDF (fpdf2)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from fpdf import FPDF
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from activities.reports.cells import as_data, workbook_text
from activities.reports.tables import Cell, Table

FileFormat = Literal["csv", "xlsx", "pdf"]

CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# Excel's limit on a sheet's name.
_SHEET_NAME_CHARS = 31


@dataclass(frozen=True, slots=True)
class ReportFile:
    name: str
    content_type: str
    content: bytes
    rows: int


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(cell)


def _csv_cell(cell: Cell) -> str | int | float:
    # Numbers stay numbers; text is never a formula (activities.reports.cells).
    if isinstance(cell, int | float):
        return cell
    return as_data(_text(cell))


def to_csv(table: Table) -> bytes:
    out = io.StringIO(newline="")
    # Every text cell quoted: a spreadsheet that splits on ";" (as many locales do) cannot
    # start a new cell, and so a formula, in the middle of a title.
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([_csv_cell(name) for name in table.columns])
    writer.writerows([_csv_cell(cell) for cell in row] for row in table.rows)
    return out.getvalue().encode()


def _xlsx_value(cell: Cell) -> Cell:
    # Excel has no time zones: times are written as naive UTC.
    if isinstance(cell, datetime):
        return cell.astimezone(UTC).replace(tzinfo=None)
    if isinstance(cell, str):
        return workbook_text(cell)
    return cell


def _xlsx_row(sheet: Worksheet, number: int, row: Sequence[Cell]) -> None:
    for column, value in enumerate(row, start=1):
        cell = sheet.cell(row=number, column=column, value=_xlsx_value(value))
        if isinstance(value, str):
            # openpyxl makes any text starting with "=" a formula; text stays text.
            cell.data_type = "s"


def to_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "report"[:_SHEET_NAME_CHARS]
    for number, row in enumerate((table.columns, *table.rows), start=1):
        _xlsx_row(sheet, number, row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _latin1(text: str) -> str:
    # The PDF core fonts cover Latin-1 only; anything else prints as "?" rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(table: Table) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_latin1(table.title))
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=11)
    pdf.cell(text=_latin1(table.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=6)
    rows = [table.columns, *[tuple(_text(cell) for cell in row) for row in table.rows]]
    with pdf.table(wrapmode="CHAR", line_height=3) as pdf_table:
        for row in rows:
            pdf_row = pdf_table.row()
            for cell in row:
                pdf_row.cell(_latin1(str(cell)))
    return bytes(pdf.output())


_RENDERERS = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}


def render(table: Table, file_format: FileFormat, stem: str) -> ReportFile:
    """The table as a file of `file_format`, named `<stem>.<format>`."""
    content = _RENDERERS[file_format](table)
    return ReportFile(
        name=f"{stem}.{file_format}",
        content_type=CONTENT_TYPES[file_format],
        content=content,
        rows=len(table.rows),
    )
