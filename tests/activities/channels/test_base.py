from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from activities.channels import OutboundMessage, ProviderRejected, ProviderUnavailable
from activities.channels.base import describe_body, error_for_status, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("7", timedelta(seconds=7)),
        (" 120 ", timedelta(seconds=120)),
        ("Sat, 01 Mar 2025 12:00:30 GMT", timedelta(seconds=30)),
        ("Sat, 01 Mar 2025 11:59:00 GMT", None),  # already past: Temporal's backoff
        ("0", None),
        ("999999999999999999999", timedelta(hours=1)),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(header: str | None, wait: timedelta | None) -> None:
    assert parse_retry_after(header, now=NOW) == wait


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ProviderRejected),
        (401, ProviderRejected),
        (413, ProviderRejected),
        (408, ProviderUnavailable),
        (429, ProviderUnavailable),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
    ],
)
def test_status_decides_between_final_and_retryable(status: int, kind: type[Exception]) -> None:
    assert type(error_for_status(status, "detail")) is kind


def test_error_body_is_reduced_to_the_providers_message() -> None:
    assert describe_body(b'{"errors": [{"message": "bad from", "field": "from"}]}') == "bad from"
    assert describe_body(b'{"code": 21211, "message": "Invalid To"}') == "Invalid To"
    assert describe_body(b'{"error": {"code": 400, "message": "bad token"}}') == "bad token"
    assert describe_body(b"<html>\n  Bad   Gateway\n</html>") == "<html> Bad Gateway </html>"


def test_message_needs_an_idempotency_key() -> None:
    with pytest.raises(ValidationError):
        OutboundMessage(idempotency_key="", channel="email", to="a@b.c", subject="s", body="b")
