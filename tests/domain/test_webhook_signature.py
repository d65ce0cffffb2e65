"""Webhook signatures: what we sign, what a receiver accepts, and the snippet the docs show."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.webhook_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_timestamp,
    verify,
)

SECRET = "s3cret-s3cret-s3cret"
BODY = b'{"event":"ticket.created","ticket":{"number":42}}'
NOW = datetime(2026, 12, 15, 10, 4, 1, 250_000, tzinfo=UTC)
DOCS = Path(__file__).parents[2] / "docs" / "integrations.md"


def test_the_signature_is_base64_hmac_sha256_of_timestamp_and_body() -> None:
    timestamp = signature_timestamp(NOW)
    digest = hmac.new(SECRET.encode(), timestamp.encode() + BODY, hashlib.sha256).digest()

    assert timestamp == "2026-12-15T10:04:01Z"
    assert sign(SECRET, timestamp, BODY) == base64.b64encode(digest).decode()


def test_verify_accepts_ours_and_refuses_any_change() -> None:
    timestamp = signature_timestamp(NOW)
    signature = sign(SECRET, timestamp, BODY)

    assert verify(SECRET, timestamp, BODY, signature)
    assert not verify(SECRET, timestamp, BODY + b" ", signature)
    assert not verify("another-secret-entirely", timestamp, BODY, signature)
    assert not verify(SECRET, signature_timestamp(NOW + timedelta(seconds=1)), BODY, signature)
    assert not verify(SECRET, timestamp, BODY, "not base64 at all!")
    assert not verify(SECRET, timestamp, BODY, "")


def test_verify_with_a_clock_refuses_stale_and_future_timestamps() -> None:
    timestamp = signature_timestamp(NOW)
    signature = sign(SECRET, timestamp, BODY)

    assert verify(SECRET, timestamp, BODY, signature, now=NOW + timedelta(minutes=4))
    assert not verify(SECRET, timestamp, BODY, signature, now=NOW + timedelta(minutes=6))
    assert not verify(SECRET, timestamp, BODY, signature, now=NOW - timedelta(minutes=6))
    naive = "2026-12-15T10:04:01"
    assert not verify(SECRET, naive, BODY, sign(SECRET, naive, BODY), now=NOW)


def _docs_receiver() -> Callable[[str, dict[str, str], bytes], bool]:
    section = DOCS.read_text().split("## Verifying a signature", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the docs show a Python snippet for receivers"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(DOCS), "exec"), namespace)
    receiver: Callable[[str, dict[str, str], bytes], bool] = namespace["is_from_ticketflow"]
    return receiver


@pytest.mark.parametrize(
    ("body", "age", "accepted"),
    [
        (BODY, timedelta(0), True),
        (BODY + b"\n", timedelta(0), False),
        (BODY, timedelta(minutes=10), False),
    ],
)
def test_the_receiver_snippet_in_the_docs_verifies_our_signatures(
    body: bytes, age: timedelta, accepted: bool
) -> None:
    timestamp = signature_timestamp(datetime.now(UTC) - age)
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(SECRET, timestamp, BODY)}

    assert _docs_receiver()(SECRET, headers, body) is accepted
