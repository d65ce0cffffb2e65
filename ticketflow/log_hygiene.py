"""Logs without secrets, whatever logs them: installed once per process by `ticketflow`.

Every log record is cleaned as it is made (a record factory, so it holds for every logger
and handler: ours, SQLAlchemy's, Temporal's, uvicorn's with its own handlers):

- **Database errors** in a record's exception (anywhere in its chain) or arguments are shown
  by kind, SQLSTATE, constraint and statement (`persistence.db.describe_db_error`), never by
  their message: PostgreSQL's DETAIL and asyncpg's messages quote the values they refused,
  e-mail addresses and password hashes among them. The traceback's frames are kept.
- **Request lines** that uvicorn logs (`uvicorn.access`, and `uvicorn.error` for WebSocket
  handshakes) lose their query values (`?token=…`: the WebSocket's access token, a webhook's
  secret, search text) and the path segments that are tokens (`/auth/verify-email/…`,
  `/surveys/…`, and any segment of 40 or more token characters).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import StatementError

from persistence.db import describe_db_error

REDACTED = "…"
_REQUEST_LOGGERS = frozenset({"uvicorn.access", "uvicorn.error"})
# Path segments that follow these are tokens: e-mail confirmation and survey links.
_TOKEN_AFTER = frozenset({"verify-email", "surveys"})
# Anything this long made of token characters (JWTs, signed links) is taken for a token;
# UUIDs (36) and ticket numbers stay readable.
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9._~+=-]{40,}$")
_MAX_CHAIN = 8


def redact_path(path: str) -> str:
    """A request path as it may be logged: query values and token segments become `…`."""
    base, has_query, query = path.partition("?")
    segments = base.split("/")
    for at, segment in enumerate(segments):
        after_token_route = at > 0 and segments[at - 1] in _TOKEN_AFTER
        if segment and (after_token_route or _TOKEN_LIKE.match(segment)):
            segments[at] = REDACTED
    redacted = "/".join(segments)
    if not has_query:
        return redacted
    pairs = [name + "=" + REDACTED if eq else name for name, eq, _ in _pairs(query)]
    return redacted + "?" + "&".join(pairs)


def _pairs(query: str) -> list[tuple[str, str, str]]:
    return [pair.partition("=") for pair in query.split("&")]


def _is_database_error(error: BaseException) -> bool:
    module = type(error).__module__
    return (
        isinstance(error, StatementError)
        or module.split(".")[0] == "asyncpg"
        or module.startswith(("sqlalchemy.dialects.", "sqlalchemy.connectors."))
    )


def _chain(error: BaseException) -> list[BaseException]:
    """The error and those before it, oldest first, as a traceback prints them."""
    chain = [error]
    while len(chain) < _MAX_CHAIN:
        last = chain[-1]
        before = last.__cause__ or (None if last.__suppress_context__ else last.__context__)
        if before is None or any(before is seen for seen in chain):
            break
        chain.append(before)
    return chain[::-1]


def safe_traceback(error: BaseException) -> str:
    """The traceback of `error` and its chain, database errors shown by `describe_db_error`."""
    chain = _chain(error)
    parts: list[str] = []
    for at, current in enumerate(chain):
        if at:
            caused = chain[at].__cause__ is chain[at - 1]
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if caused
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if current.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(current.__traceback__))
        name = type(current).__qualname__
        text = describe_db_error(current) if _is_database_error(current) else str(current)
        parts.append(f"{type(current).__module__}.{name}: {text}\n")
    return "".join(parts).rstrip("\n")


def _safe_value(value: Any) -> Any:
    if isinstance(value, BaseException) and _is_database_error(value):
        return describe_db_error(value)
    return value


def clean(record: logging.LogRecord) -> None:
    """Make `record` safe to write (see the module's docstring)."""
    error = record.exc_info[1] if record.exc_info else None
    if error is not None and any(_is_database_error(e) for e in _chain(error)):
        record.exc_text = safe_traceback(error)
        record.exc_info = None
    record.msg = _safe_value(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_safe_value(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _safe_value(value) for key, value in record.args.items()}
    if record.name in _REQUEST_LOGGERS and isinstance(record.args, tuple):
        record.args = tuple(
            redact_path(arg) if isinstance(arg, str) and arg.startswith("/") else arg
            for arg in record.args
        )


def install() -> None:
    """Clean every log record this process makes from now on (idempotent)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "_ticketflow_clean", False):
        return

    def make_clean(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        clean(record)
        return record

    factory: Callable[..., logging.LogRecord] = make_clean
    factory._ticketflow_clean = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
