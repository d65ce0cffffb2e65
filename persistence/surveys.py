"""Signed satisfaction-survey links: a requester rates a ticket from a browser, no login.

The token is a JWT signed with the app's JWT secret (HS256) but scoped to its one purpose by
its audience: it names a ticket and its requester, expires, and is never an access token
(login tokens carry no audience, and PyJWT refuses an audience nobody asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

SURVEY_AUDIENCE = "ticketflow:survey"
SURVEY_TTL = timedelta(days=30)
SURVEY_PATH = "/api/v1/surveys/"
_ALGORITHM = "HS256"
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
    secret: str,
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
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def read_survey_token(secret: str, token: str, *, now: datetime | None = None) -> SurveyClaims:
    """The claims of a genuine, unexpired survey token; `InvalidSurveyToken` otherwise."""
    at = now or datetime.now(UTC)
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
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
