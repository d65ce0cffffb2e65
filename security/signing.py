"""HMAC signing keys with ids, so that a key can be rotated: the current one signs, all verify.

A key's id is the first hex digits of its secret's SHA-256: configuration names secrets only
(the current one and those still honoured), never ids, and a token names the key that signed
it in its `kid` header. A token without one (signed before keys had ids) is tried against the
current key alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
_KID_HEX_DIGITS = 8


class UnknownKeyError(jwt.InvalidTokenError):
    """The token names a key this ring does not hold (retired, or never ours)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    secret: str = field(repr=False)

    @classmethod
    def of(cls, secret: str) -> SigningKey:
        return cls(hashlib.sha256(secret.encode()).hexdigest()[:_KID_HEX_DIGITS], secret)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The key that signs, and the keys (it included) whose signatures are still accepted."""

    current: SigningKey
    previous: tuple[SigningKey, ...] = ()

    @classmethod
    def of(cls, current: str, previous: Iterable[str] = ()) -> KeyRing:
        return cls(SigningKey.of(current), tuple(SigningKey.of(s) for s in previous if s))

    def key_for(self, kid: str | None) -> SigningKey:
        """The key a token names; `UnknownKeyError` for one this ring does not hold."""
        if kid is None or kid == self.current.kid:
            return self.current
        for key in self.previous:
            if key.kid == kid:
                return key
        raise UnknownKeyError(f"signed with an unknown key ({kid})")

    def encode(self, claims: Mapping[str, Any]) -> str:
        """`claims` as a JWT signed with the current key, which it names."""
        headers = {"kid": self.current.kid}
        return jwt.encode(dict(claims), self.current.secret, algorithm=ALGORITHM, headers=headers)

    def decode(self, token: str, **options: Any) -> dict[str, Any]:
        """The claims of a token one of the ring's keys signed; PyJWT's errors otherwise.

        `options` go to `jwt.decode` (audience, required claims, …).
        """
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is not None and not isinstance(kid, str):
            raise jwt.InvalidTokenError("the token's key id is not text")
        key = self.key_for(kid)
        claims: dict[str, Any] = jwt.decode(token, key.secret, algorithms=[ALGORITHM], **options)
        return claims


def weakness(name: str, secret: str) -> str | None:
    """Why `secret` (the setting `name`) is too weak to sign with in production, if it is."""
    if not secret:
        return f"{name} is not set"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"{name} is shorter than {MIN_SECRET_BYTES} bytes"
    return None


def split_secrets(value: str | None) -> list[str]:
    """The comma-separated secrets of a `…_PREVIOUS_SECRETS` setting."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
