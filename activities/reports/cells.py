"""Text cells that a spreadsheet reads as data, never as a formula (CSV/formula injection).

Titles, names and e-mail addresses in a report are written by requesters, some by anyone who
can send the desk a mail. Excel, LibreOffice and Google Sheets start a formula (or a DDE
command) at a leading `=`, `+`, `-` or `@`, and a leading tab, CR or LF can carry one past a
naive check. Such a cell gets a `'` in front (OWASP's advice): the spreadsheet shows the text,
and editing the cell does not turn it into a formula either.

The check looks through what a person cannot see, and at what the character means rather
than how it is encoded: leading spaces (a reader may trim them), invisible format and control
characters, and compatibility forms such as the full-width `＝` (NFKC folds it to `=`).
"""

from __future__ import annotations

import unicodedata

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

QUOTE = "'"
# What may start a formula once folded by NFKC; U+2212 (minus sign) and the Unicode line
# separators are not folded into "-" or a newline, but a spreadsheet may treat them as such.
_TRIGGERS = frozenset("=+-@\t\r\n\v\f\u2212\u0085\u2028\u2029")
# Control, format and separator characters (spaces among them) hide what follows them.
_INVISIBLE_CATEGORIES = frozenset("CZ")


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula: its first visible character,
    or a leading tab, CR or LF, is a formula trigger in any Unicode form."""
    for char in text:
        folded = unicodedata.normalize("NFKC", char)[:1] or char
        if folded in _TRIGGERS:
            return True
        if unicodedata.category(folded)[0] not in _INVISIBLE_CATEGORIES:
            return False
    return False


def as_data(text: str) -> str:
    """`text`, with a `'` in front if it could be read as a formula."""
    return QUOTE + text if starts_like_formula(text) else text


def workbook_text(text: str) -> str:
    """`as_data(text)` as a workbook can hold it: each control character it cannot hold
    becomes U+FFFD (so the export never fails on a title that carries one), and line breaks
    are LF (its XML would turn a CR into an LF on reading anyway)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return as_data(ILLEGAL_CHARACTERS_RE.sub("\ufffd", lines))
