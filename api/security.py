"""Password hashing (argon2, off the event loop) and JWT access/refresh tokens (HS256).

Tokens are signed with the access key ring (`JWT_SECRET`, and the previous secrets still
honoured); each names its key in its `kid` header.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

import jwt
from pwdlib import PasswordHash

from domain.enums import Role
from security.signing import KeyRing

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)

_hasher = PasswordHash.recommended()
# A hash of nothing in particular: verifying against it when the e-mail is unknown keeps a
# failed login as slow as a wrong password, so timing does not reveal who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    return await asyncio.to_thread(_hasher.verify, password, password_hash or _DUMMY_HASH)


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    subject: UUID
    role: Role
    type: TokenType
    jti: UUID
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: TokenClaims


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


def issue_token(
    keys: KeyRing, user_id: UUID, role: Role, kind: TokenType, now: datetime | None = None
) -> IssuedToken:
    issued = now or datetime.now(UTC)
    expires = issued + (ACCESS_TTL if kind is TokenType.ACCESS else REFRESH_TTL)
    claims = TokenClaims(user_id, role, kind, uuid4(), issued, expires)
    payload = {
        "sub": str(user_id),
        "role": role.value,
        "type": kind.value,
        "jti": str(claims.jti),
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return IssuedToken(keys.encode(payload), claims)


def decode_token(keys: KeyRing, token: str, expected: TokenType) -> TokenClaims:
    try:
        payload = keys.decode(
            token,
            options={"require": ["sub", "exp", "iat", "jti", "type", "role"]},
        )
        if payload["type"] != expected.value:
            raise InvalidTokenError(f"expected a {expected.value} token")
        return TokenClaims(
            subject=UUID(payload["sub"]),
            role=Role(payload["role"]),
            type=TokenType(payload["type"]),
            jti=UUID(payload["jti"]),
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise InvalidTokenError(str(exc)) from exc


def opaque_token() -> str:
    """A single-use secret for e-mail links (password reset, e-mail verification)."""
    return secrets.token_urlsafe(32)
