"""Access logs without secrets: the value of a `token` query parameter never reaches them.

SendGrid's inbound secret used to be taken as `?token=`; it is refused now, but a sender
still configured that way keeps putting it in the URL, and the server's access log (uvicorn's
`uvicorn.access`) writes each request line with its query. The browser's WebSocket carries
an access token the same way. The filter rewrites the line before any handler sees it.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
_TOKEN_VALUE = re.compile(r"([?&](?:token|access_token)=)[^&#\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the value of every `token=` / `access_token=` query parameter replaced."""
    return _TOKEN_VALUE.sub(rf"\g<1>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message and its string arguments (uvicorn passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install(logger_name: str = ACCESS_LOGGER) -> None:
    """Add the filter to the access logger, once however many apps are created.

    A logger's filters survive uvicorn's own logging configuration, which replaces handlers
    only.
    """
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
