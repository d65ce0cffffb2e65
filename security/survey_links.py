"""Signed satisfaction-survey links: a requester rates a ticket from a browser, no login.

The token is a JWT signed with the link keys (`TICKETFLOW_LINK_SECRET`, never the keys of
access tokens) and scoped to its one purpose by its audience: it names a ticket and its
requester, and expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from security.signing import KeyRing

SURVEY_AUDIENCE = "ticketflow:survey"
SURVEY_TTL = timedelta(days=30)
SURVEY_PATH = "/api/v1/surveys/"
_MAX_TICKET_NUMBER = 2**63 - 1


class InvalidSurveyToken(Exception):
    """The survey token is malformed, forged, for another purpose, or expired."""


class ExpiredSurveyToken(InvalidSurveyToken):
    """A genuine survey token whose time is up."""


@dataclass(frozen=True, slots=True)
class SurveyClaims:
    """What a survey link stands for: this requester may rate this ticket until then."""

    number: int
    requester_id: UUID
    expires_at: datetime


def issue_survey_token(
    keys: KeyRing,
    number: int,
    requester_id: UUID,
    *,
    now: datetime | None = None,
    ttl: timedelta = SURVEY_TTL,
) -> str:
    """A token for the survey of ticket `number`, answerable by `requester_id` for `ttl`."""
    issued = now or datetime.now(UTC)
    payload = {
        "aud": SURVEY_AUDIENCE,
        "sub": str(requester_id),
        "ticket": number,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return keys.encode(payload)


def read_survey_token(keys: KeyRing, token: str, *, now: datetime | None = None) -> SurveyClaims:
    """The claims of a genuine, unexpired survey token; `InvalidSurveyToken` otherwise."""
    at = now or datetime.now(UTC)
    try:
        payload = keys.decode(
            token,
            audience=SURVEY_AUDIENCE,
            options={"require": ["aud", "sub", "ticket", "iat", "exp"], "verify_exp": False},
        )
        number = payload["ticket"]
        if type(number) is not int or not 0 < number <= _MAX_TICKET_NUMBER:
            raise InvalidSurveyToken("the token names no ticket")
        claims = SurveyClaims(
            number=number,
            requester_id=UUID(payload["sub"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError) as error:
        raise InvalidSurveyToken(str(error)) from error
    # Checked here rather than by PyJWT so the clock is the caller's (tests pass `now`).
    if claims.expires_at <= at:
        raise ExpiredSurveyToken("the survey link has expired")
    return claims


def survey_url(base: str, token: str) -> str:
    """The survey page of `token` under the public URL `base`."""
    return f"{base.rstrip('/')}{SURVEY_PATH}{token}"


__all__ = [
    "SURVEY_AUDIENCE",
    "SURVEY_PATH",
    "SURVEY_TTL",
    "ExpiredSurveyToken",
    "InvalidSurveyToken",
    "SurveyClaims",
    "issue_survey_token",
    "read_survey_token",
    "survey_url",
]
