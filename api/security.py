"""Password hashing (argon2, off the event loop) and JWT access/refresh tokens (HS256).

Tokens are signed with the access key ring (`JWT_SECRET`, and the previous secrets still
honoured); each names its key in its `kid` header. Access and refresh tokens name their
session (`sid`), which every request checks is still live; an MFA challenge token is good
only for the second step of a login.

Hashing goes through `api.hashing_gate`: at most a few argon2 runs at once per process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

import jwt
from pwdlib import PasswordHash

from api.hashing_gate import password_hashing
from domain.enums import Role
from security.signing import KeyRing

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
# Long enough to open an authenticator app and type a code; too short to be worth stealing.
MFA_CHALLENGE_TTL = timedelta(minutes=5)

_hasher = PasswordHash.recommended()
# A hash of nothing in particular: verifying against it when the e-mail is unknown keeps a
# failed login as slow as a wrong password, so timing does not reveal who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await password_hashing.run(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    return await password_hashing.run(_hasher.verify, password, password_hash or _DUMMY_HASH)


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    # Password proven, second factor not yet: good for `POST /auth/mfa/verify` only.
    MFA_CHALLENGE = "mfa_challenge"


_TTL = {
    TokenType.ACCESS: ACCESS_TTL,
    TokenType.REFRESH: REFRESH_TTL,
    TokenType.MFA_CHALLENGE: MFA_CHALLENGE_TTL,
}


@dataclass(frozen=True)
class TokenClaims:
    subject: UUID
    role: Role
    type: TokenType
    jti: UUID
    issued_at: datetime
    expires_at: datetime
    # The login this token belongs to; None only in tokens made before sessions existed.
    session_id: UUID | None = None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: TokenClaims


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


def issue_token(
    keys: KeyRing,
    user_id: UUID,
    role: Role,
    kind: TokenType,
    now: datetime | None = None,
    *,
    session_id: UUID | None = None,
) -> IssuedToken:
    """A signed token; access and refresh tokens name their session (`session_id`)."""
    issued = now or datetime.now(UTC)
    expires = issued + _TTL[kind]
    claims = TokenClaims(user_id, role, kind, uuid4(), issued, expires, session_id)
    payload = {
        "sub": str(user_id),
        "role": role.value,
        "type": kind.value,
        "jti": str(claims.jti),
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    if session_id is not None:
        payload["sid"] = str(session_id)
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
            session_id=UUID(payload["sid"]) if "sid" in payload else None,
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise InvalidTokenError(str(exc)) from exc


def opaque_token() -> str:
    """A single-use secret for e-mail links (password reset, e-mail verification)."""
    return secrets.token_urlsafe(32)
