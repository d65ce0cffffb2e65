"""The failure the dev stack reports to its user: one message, no traceback needed."""

from __future__ import annotations


class DevStackError(RuntimeError):
    """A local server could not be started or reached; the message says what to do."""
