"""A second factor: TOTP (RFC 6238, what authenticator apps do) with single-use recovery codes.

Enrolling stores a new secret, encrypted with TICKETFLOW_SECRETS_KEY (persistence.secrets);
it counts once a code from it is confirmed. A code is accepted for the time step before,
at and after now (clocks drift), and never twice: the step of the last accepted code is
kept, and only later steps pass. Recovery codes are shown once, stored as SHA-256 hashes
(they are random, 80 bits, so a fast hash is enough), and each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, InvalidInput
from persistence.models import User
from persistence.repositories import mfa_codes
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo
from persistence.secrets import SecretBox
from ticketflow.settings import Settings

ISSUER = "ticketflow"
RECOVERY_CODES = 10
_RECOVERY_BYTES = 10  # 80 bits: 16 base32 characters
_TOTP = re.compile(r"^\d{6}$")
_RECOVERY = re.compile(r"^[a-z2-7]{16}$")


class InvalidCodeError(InvalidInput):
    """The code is wrong, expired, or already used."""

    code = "invalid_mfa_code"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


def _box(settings: Settings) -> SecretBox:
    # Without a key this raises SecretsUnavailable: a 503 naming TICKETFLOW_SECRETS_KEY.
    return SecretBox(settings.secrets_key)


def _recovery_hash(normalized: str) -> str:
    return hashlib.sha256(normalized.encode()).hexdigest()


def _normalized(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def new_recovery_codes() -> list[str]:
    """Fresh codes, as shown to the user (`abcd-efgh-ijkl-mnop`)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = b32encode(secrets.token_bytes(_RECOVERY_BYTES)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step (previous, current or next) whose code `code` is, if any."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or datetime.now(UTC))
    found = None
    for step in (current - 1, current, current + 1):
        # Every step compared, in constant time, so timing says nothing of which matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


async def start_enrolment(session: AsyncSession, settings: Settings, user: User) -> Enrolment:
    """A new secret for `user` to add to an authenticator app; confirmed by `enable`."""
    if user.mfa_enabled_at is not None:
        raise Conflict("two-factor authentication is already on; disable it first")
    box = _box(settings)
    secret = pyotp.random_base32()
    await users_repo.set_mfa_secret(session, user.id, box.encrypt(secret))
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(secret, uri)


async def enable(session: AsyncSession, settings: Settings, user: User, code: str) -> list[str]:
    """Confirm the enrolment with a code from the app; the recovery codes, shown once."""
    if user.mfa_enabled_at is not None:
        raise Conflict("two-factor authentication is already on")
    if user.mfa_secret is None:
        raise Conflict("set up two-factor authentication first (POST /api/v1/auth/mfa/setup)")
    if not await _totp_accepted(session, settings, user, code):
        raise InvalidCodeError("this code is wrong or expired; try the app's current one")
    await users_repo.enable_mfa(session, user.id)
    return await _new_recovery_codes(session, user)


async def regenerate_recovery_codes(
    session: AsyncSession, settings: Settings, user: User, code: str
) -> list[str]:
    """New recovery codes (the old ones stop working), for a current code."""
    _require_enabled(user)
    await verify(session, settings, user, code)
    return await _new_recovery_codes(session, user)


async def disable(session: AsyncSession, settings: Settings, user: User, code: str) -> None:
    """Turn the second factor off, proven with a current code (or a recovery code)."""
    _require_enabled(user)
    await verify(session, settings, user, code)
    await _clear(session, user)


async def reset_by_admin(session: AsyncSession, user: User) -> None:
    """An admin turns someone's second factor off (a lost phone): every session of theirs
    ends, since whoever held the factor may have held a session too."""
    await _clear(session, user)
    await tokens_repo.revoke_all(session, user.id)


async def verify(session: AsyncSession, settings: Settings, user: User, code: str) -> None:
    """Accept a current TOTP code or an unused recovery code of `user`, once; else raise."""
    normalized = _normalized(code)
    if _TOTP.match(normalized):
        accepted = await _totp_accepted(session, settings, user, normalized)
    elif _RECOVERY.match(normalized):
        accepted = await mfa_codes.use(session, user.id, _recovery_hash(normalized))
    else:
        accepted = False
    if not accepted:
        raise InvalidCodeError("this code is wrong, expired or already used")


async def _totp_accepted(session: AsyncSession, settings: Settings, user: User, code: str) -> bool:
    if user.mfa_secret is None:
        return False
    secret = _box(settings).decrypt(user.mfa_secret)
    step = matching_step(secret, _normalized(code))
    return step is not None and await users_repo.use_mfa_step(session, user.id, step)


async def _new_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    codes = new_recovery_codes()
    await mfa_codes.replace(session, user.id, [_recovery_hash(_normalized(c)) for c in codes])
    return codes


async def _clear(session: AsyncSession, user: User) -> None:
    await users_repo.clear_mfa(session, user.id)
    await mfa_codes.delete_all(session, user.id)


def _require_enabled(user: User) -> None:
    if user.mfa_enabled_at is None:
        raise Conflict("two-factor authentication is not on for this account")
