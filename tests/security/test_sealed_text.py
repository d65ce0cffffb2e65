"""Account message bodies sealed for the worker: they open with the link secret (current or
still honoured) and for their own row only."""

from __future__ import annotations

import pytest

from security.sealed_text import UnsealError, seal, unseal
from security.signing import KeyRing

OLD = "old-link-secret-0123456789abcdef0123456789"
NEW = "new-link-secret-0123456789abcdef0123456789"
TEXT = "Reset your password: https://help.example.com/reset-password?token=abc"


def test_a_sealed_text_opens_for_its_row_with_a_key_the_ring_honours() -> None:
    sealed = seal(KeyRing.of(OLD), TEXT, "row-1")
    assert "token" not in sealed and TEXT not in sealed
    assert unseal(KeyRing.of(OLD), sealed, "row-1") == TEXT
    assert unseal(KeyRing.of(NEW, [OLD]), sealed, "row-1") == TEXT  # after a rotation
    assert seal(KeyRing.of(OLD), TEXT, "row-1") != sealed  # a fresh nonce each time


@pytest.mark.parametrize(
    ("keys", "row", "damage"),
    [
        (KeyRing.of(NEW), "row-1", False),
        (KeyRing.of(OLD), "row-2", False),
        (KeyRing.of(OLD), "row-1", True),
    ],
    ids=["another secret", "another row", "damaged"],
)
def test_anything_else_does_not_open(keys: KeyRing, row: str, damage: bool) -> None:
    sealed = seal(KeyRing.of(OLD), TEXT, "row-1")
    if damage:
        sealed = sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(UnsealError):
        unseal(keys, sealed, row)


@pytest.mark.parametrize("junk", ["", "no-dot", "kid.", "kid.!!!", "kid.AAAA"])
def test_junk_is_refused_not_crashed_on(junk: str) -> None:
    with pytest.raises(UnsealError):
        unseal(KeyRing.of(OLD), junk, "row-1")
