"""Survey tokens: what a signed survey link carries, and every way a bad one is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from persistence.outbox import Links
from security.signing import KeyRing
from security.survey_links import (
    SURVEY_AUDIENCE,
    SURVEY_PATH,
    SURVEY_TTL,
    ExpiredSurveyToken,
    InvalidSurveyToken,
    issue_survey_token,
    read_survey_token,
)

SECRET = "survey-tests-secret-0123456789abcdef0123456789"
KEYS = KeyRing.of(SECRET)
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_a_token_reads_back_as_the_ticket_and_requester_it_was_made_for() -> None:
    requester = uuid4()
    token = issue_survey_token(KEYS, 42, requester, now=NOW)

    claims = read_survey_token(KEYS, token, now=NOW + timedelta(days=29))

    assert (claims.number, claims.requester_id) == (42, requester)
    assert claims.expires_at == NOW + SURVEY_TTL


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = issue_survey_token(
        KeyRing.of("not-the-apps-secret-0123456789abcdef0123"), 42, uuid4(), now=NOW
    )
    with pytest.raises(InvalidSurveyToken) as refused:
        read_survey_token(KEYS, token, now=NOW)
    assert not isinstance(refused.value, ExpiredSurveyToken)


def test_a_token_whose_ticket_was_changed_is_refused() -> None:
    header, _, signature = issue_survey_token(KEYS, 42, uuid4(), now=NOW).split(".")
    other = jwt.encode(
        {"aud": SURVEY_AUDIENCE, "sub": str(uuid4()), "ticket": 43, "iat": 0, "exp": 2**40},
        "a-guessed-secret-0123456789abcdef0123456789",
        algorithm="HS256",
    ).split(".")[1]
    with pytest.raises(InvalidSurveyToken):
        read_survey_token(KEYS, f"{header}.{other}.{signature}", now=NOW)


def test_an_expired_token_is_refused_as_expired() -> None:
    token = issue_survey_token(KEYS, 42, uuid4(), now=NOW)
    with pytest.raises(ExpiredSurveyToken):
        read_survey_token(KEYS, token, now=NOW + SURVEY_TTL)


@pytest.mark.parametrize(
    "claims",
    [
        {"type": "access", "role": "user", "jti": str(uuid4())},  # a login token: no audience
        {"aud": "ticketflow:password-reset", "ticket": 42},
        {"aud": SURVEY_AUDIENCE},  # no ticket
        {"aud": SURVEY_AUDIENCE, "ticket": "42"},
        {"aud": SURVEY_AUDIENCE, "ticket": 0},
        {"aud": SURVEY_AUDIENCE, "ticket": 42, "sub": "not-a-uuid"},
    ],
    ids=["access token", "other purpose", "no ticket", "ticket as text", "ticket 0", "bad sub"],
)
def test_a_token_made_for_something_else_is_refused(claims: dict[str, object]) -> None:
    payload = {"sub": str(uuid4()), "iat": int(NOW.timestamp()), "exp": 2**40, **claims}
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    with pytest.raises(InvalidSurveyToken):
        read_survey_token(KEYS, token, now=NOW)


def test_an_unsigned_token_is_refused() -> None:
    payload = {"aud": SURVEY_AUDIENCE, "sub": str(uuid4()), "ticket": 42, "iat": 0, "exp": 2**40}
    token = jwt.encode(payload, None, algorithm="none")
    with pytest.raises(InvalidSurveyToken):
        read_survey_token(KEYS, token, now=NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é" * 20])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidSurveyToken):
        read_survey_token(KEYS, garbage, now=NOW)


def test_links_make_a_survey_url_under_the_public_url_that_reads_back() -> None:
    requester = uuid4()
    url = Links("https://help.example.com/", KEYS).survey(7, requester)

    assert url.startswith(f"https://help.example.com{SURVEY_PATH}")
    claims = read_survey_token(KEYS, url.removeprefix(f"https://help.example.com{SURVEY_PATH}"))
    assert (claims.number, claims.requester_id) == (7, requester)


def test_the_secret_stays_out_of_the_links_repr() -> None:
    assert SECRET not in repr(Links("https://help.example.com", KEYS))


def test_a_link_signed_before_a_rotation_still_opens_until_its_key_is_retired() -> None:
    old = issue_survey_token(KEYS, 42, uuid4(), now=NOW)
    rotated = KeyRing.of("the-next-link-secret-0123456789abcdef012345", [SECRET])
    assert read_survey_token(rotated, old, now=NOW).number == 42
    retired = KeyRing.of("the-next-link-secret-0123456789abcdef012345")
    with pytest.raises(InvalidSurveyToken):
        read_survey_token(retired, old, now=NOW)
