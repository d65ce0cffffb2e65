"""Ticket data encrypted on its way into Temporal: an AES-256-GCM payload codec and its keys.

Every payload a client or worker sends (workflow inputs, updates, signals, query answers,
activity arguments and results, Web UI summaries and details) is serialised and then sealed
here, so Temporal's history holds no ticket text in clear. Keys come from
`TICKETFLOW_PAYLOAD_KEYS` as `kid:base64-of-32-bytes[,kid2:...]`: the first one encrypts, all of
them decrypt, so a key can be rotated in by putting a new one first and dropped once no
history still needs it.

A payload that is not encrypted is passed through on decode: histories written before
encryption was switched on still replay.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

SETTING = "TICKETFLOW_PAYLOAD_KEYS"
ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PayloadKeyError(ValueError):
    """The keys are malformed; the message names the problem, never a key."""


class PayloadDecryptionError(ValueError):
    """A payload cannot be decrypted with the keys at hand."""


@dataclass(frozen=True)
class PayloadKeys:
    """Key id → 32-byte key, in the order given; the first encrypts. Empty means no encryption."""

    ids: tuple[str, ...] = ()
    secrets: Mapping[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def encrypting(self) -> str | None:
        """The id of the key new payloads are sealed with, or None (no keys)."""
        return self.ids[0] if self.ids else None

    def __bool__(self) -> bool:
        return bool(self.ids)

    @classmethod
    def parse(cls, text: str | None, *, source: str = SETTING) -> PayloadKeys:
        """Keys from `kid:base64[,kid:base64...]` (commas or new lines; `#` starts a comment).

        Raises PayloadKeyError naming `source` and the entry at fault, never its key.
        """
        entries = [entry.strip() for entry in _entries(text or "")]
        ids: list[str] = []
        secrets: dict[str, bytes] = {}
        for position, entry in enumerate((e for e in entries if e), start=1):
            kid, key = _parse_entry(entry, position, source)
            if kid in secrets:
                raise PayloadKeyError(f"{source}: key id {kid!r} is given twice")
            ids.append(kid)
            secrets[kid] = key
        return cls(tuple(ids), secrets)

    @classmethod
    def read(cls, path: Path) -> PayloadKeys:
        """Keys from a file in the same format (e.g. `.ticketflow/payload-keys`)."""
        return cls.parse(path.read_text(), source=str(path))

    def merged(self, other: PayloadKeys) -> PayloadKeys:
        """These keys, then those of `other` not already here (by id)."""
        ids = self.ids + tuple(kid for kid in other.ids if kid not in self.secrets)
        return PayloadKeys(ids, {**other.secrets, **self.secrets})


def _entries(text: str) -> Iterable[str]:
    for line in text.splitlines():
        if not line.lstrip().startswith("#"):
            yield from line.split(",")


def _parse_entry(entry: str, position: int, source: str) -> tuple[str, bytes]:
    kid, colon, encoded = entry.partition(":")
    kid = kid.strip()
    if not colon:
        # No id: the entry may be a bare key, so it is not repeated in the message.
        raise PayloadKeyError(f"{source}: entry {position} is not `key-id:base64-key`")
    if not _KEY_ID.match(kid):
        raise PayloadKeyError(
            f"{source}: entry {position} has an invalid key id "
            "(1-64 letters, digits, '.', '_' or '-')"
        )
    try:
        # Standard or URL-safe alphabet; padding required either way.
        key = base64.b64decode(encoded.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise PayloadKeyError(f"{source}: the key of {kid!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise PayloadKeyError(
            f"{source}: the key of {kid!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
        )
    return kid, key


def new_key_line(kid: str = "k1") -> str:
    """A fresh random key as one `kid:base64` entry (what `ticketflow payload-key` prints)."""
    if not _KEY_ID.match(kid):
        raise PayloadKeyError("a key id is 1-64 letters, digits, '.', '_' or '-'")
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


class AesGcmCodec(PayloadCodec):
    """Seals each payload whole (its metadata too) with AES-256-GCM under the first key.

    The sealed payload says only `encoding: binary/encrypted` and the key id; the nonce is
    random per payload and the key id is bound in as associated data, so a payload cannot be
    passed off as sealed under another key. With no keys, encode passes payloads through.
    """

    def __init__(self, keys: PayloadKeys) -> None:
        self.keys = keys

    @cached_property
    def _ciphers(self) -> dict[str, AESGCM]:
        return {kid: AESGCM(key) for kid, key in self.keys.secrets.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt every payload under the first key (unchanged when there is none)."""
        kid = self.keys.encrypting
        if kid is None:
            return list(payloads)
        cipher = self._ciphers[kid]
        return [self._seal(cipher, kid, payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt the encrypted payloads; pass the others through."""
        return [self._open(payload) for payload in payloads]

    @staticmethod
    def _seal(cipher: AESGCM, kid: str, payload: Payload) -> Payload:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = cipher.encrypt(nonce, payload.SerializeToString(), kid.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: kid.encode()}, data=nonce + sealed
        )

    def _open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise PayloadDecryptionError(
                f"a payload is encrypted with key id {kid!r}, which is not among the "
                f"configured keys ({SETTING}: {', '.join(self.keys.ids) or 'none'})"
            )
        nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, kid.encode())
        except InvalidTag:
            raise PayloadDecryptionError(
                f"a payload does not decrypt with key {kid!r}: the key differs from the one "
                "it was sealed with, or the payload was altered"
            ) from None
        return Payload.FromString(plain)
