"""Signatures of outbound webhooks, after Zendesk's scheme.

The signature is `base64(HMAC-SHA256(secret, timestamp + body))` over the exact bytes sent,
where `timestamp` is the `X-Ticketflow-Webhook-Signature-Timestamp` header. Signing the
timestamp with the body lets a receiver refuse a replayed request by its age.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

ID_HEADER = "X-Ticketflow-Webhook-Id"
SIGNATURE_HEADER = "X-Ticketflow-Webhook-Signature"
TIMESTAMP_HEADER = "X-Ticketflow-Webhook-Signature-Timestamp"

# How far a receiver lets a timestamp stray from its own clock, either way.
DEFAULT_TOLERANCE = timedelta(minutes=5)


def signature_timestamp(at: datetime) -> str:
    """`at` as the timestamp header spells it: ISO 8601 in UTC, to the second (`…Z`)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent with `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: datetime | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """Whether `signature` is ours for `timestamp` + `body`; with `now`, also that it is fresh.

    The comparison takes constant time. A timestamp more than `tolerance` away from `now`
    fails, so a captured request cannot be replayed later.
    """
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = base64.b64decode(sign(secret, timestamp, body))
    if not hmac.compare_digest(given, expected):
        return False
    if now is None:
        return True
    try:
        sent_at = datetime.fromisoformat(timestamp)
    except ValueError:
        return False
    if sent_at.tzinfo is None:
        return False
    return abs(now - sent_at) <= tolerance


__all__ = [
    "DEFAULT_TOLERANCE",
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "sign",
    "signature_timestamp",
    "verify",
]
