"""Signing keys: each token names its key, old keys verify until retired, keys never mix."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import jwt
import pytest

from api.security import InvalidTokenError, TokenType, decode_token, issue_token
from domain.enums import Role
from security.signing import KeyRing, SigningKey, UnknownKeyError, split_secrets, weakness
from security.survey_links import InvalidSurveyToken, issue_survey_token, read_survey_token

ACCESS = "access-secret-0123456789abcdef0123456789abcdef"
LINKS = "links-secret-0123456789abcdef0123456789abcdef"
NOW = datetime.now(UTC)


def test_a_token_names_the_key_that_signed_it() -> None:
    keys = KeyRing.of(ACCESS)
    token = keys.encode({"sub": "x"})
    assert jwt.get_unverified_header(token)["kid"] == SigningKey.of(ACCESS).kid
    assert keys.decode(token) == {"sub": "x"}
    assert ACCESS not in repr(keys)  # ids only, never secrets, in logs and reprs


def test_a_rotation_keeps_old_tokens_valid_until_the_old_key_is_retired() -> None:
    before = KeyRing.of(ACCESS).encode({"sub": "x"})
    rotated = KeyRing.of("next-secret-0123456789abcdef0123456789abcdef", [ACCESS])
    assert rotated.decode(before) == {"sub": "x"}
    assert jwt.get_unverified_header(rotated.encode({}))["kid"] == rotated.current.kid
    with pytest.raises(UnknownKeyError):
        KeyRing.of("next-secret-0123456789abcdef0123456789abcdef").decode(before)


def test_a_token_without_a_key_id_is_tried_with_the_current_key_only() -> None:
    legacy = jwt.encode({"sub": "x"}, ACCESS, algorithm="HS256")
    assert KeyRing.of(ACCESS).decode(legacy) == {"sub": "x"}
    with pytest.raises(jwt.InvalidSignatureError):
        KeyRing.of("next-secret-0123456789abcdef0123456789abcdef", [ACCESS]).decode(legacy)


def test_a_survey_link_is_never_a_login_and_a_login_never_a_survey_link() -> None:
    access, links = KeyRing.of(ACCESS), KeyRing.of(LINKS)
    survey = issue_survey_token(links, 42, uuid4())
    with pytest.raises(InvalidTokenError):
        decode_token(access, survey, TokenType.ACCESS)
    login = issue_token(access, uuid4(), Role.ADMIN, TokenType.ACCESS).token
    with pytest.raises(InvalidSurveyToken):
        read_survey_token(links, login)


def test_weak_secrets_are_named() -> None:
    assert weakness("JWT_SECRET", "") == "JWT_SECRET is not set"
    assert weakness("JWT_SECRET", "x" * 31) == "JWT_SECRET is shorter than 32 bytes"
    assert weakness("JWT_SECRET", "é" * 16) is None  # bytes, not characters
    assert weakness("JWT_SECRET", "x" * 32) is None


def test_previous_secrets_are_a_comma_separated_list() -> None:
    assert split_secrets(None) == []
    assert split_secrets(" a , ,b ") == ["a", "b"]
