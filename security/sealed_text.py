"""Text sealed for the worker alone: the words of an account message, link or code included.

Temporal payloads are already encrypted with the payload keys, but the API's codec server
opens those for every agent reading the Web UI: a reset link in clear there would let any
agent take over any account, an admin's included. So the message's body is sealed once more
(AES-256-GCM) under a key derived from the link secret (`TICKETFLOW_LINK_SECRET`), which the
codec server never uses; the sealed text is bound to its notification row (associated data),
so it cannot be replayed onto another one.

Format: `<key id>.<base64url(nonce + ciphertext)>`; the key id is the signing key's, so any
secret the ring still honours opens it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from security.signing import KeyRing, SigningKey, UnknownKeyError

_PURPOSE = b"ticketflow sealed account message v1"
_NONCE_BYTES = 12


class UnsealError(ValueError):
    """The text cannot be opened with these keys (another secret, another row, or damaged)."""


def _cipher(key: SigningKey) -> AESGCM:
    return AESGCM(hmac.new(key.secret.encode(), _PURPOSE, hashlib.sha256).digest())


def seal(keys: KeyRing, text: str, bound_to: str) -> str:
    """`text` sealed with the ring's current key, openable only together with `bound_to`."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(keys.current).encrypt(nonce, text.encode(), bound_to.encode())
    return f"{keys.current.kid}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(keys: KeyRing, sealed: str, bound_to: str) -> str:
    """The text `seal` sealed with one of the ring's keys for `bound_to`; `UnsealError` else."""
    kid, dot, data = sealed.partition(".")
    try:
        key = keys.key_for(kid)
        raw = base64.urlsafe_b64decode(data.encode())
    except (UnknownKeyError, binascii.Error, ValueError) as error:
        raise UnsealError(f"no key {kid!r} here, or not a sealed text") from error
    if not dot or len(raw) <= _NONCE_BYTES:
        raise UnsealError("not a sealed text")
    try:
        opened = _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to.encode())
    except InvalidTag as error:
        raise UnsealError(f"the sealed text does not open with key {kid!r} for this row") from error
    return opened.decode()


__all__ = ["UnsealError", "seal", "unseal"]
