"""The password policy's scoring: long passwords in windows, at a bounded cost."""

from __future__ import annotations

import contextlib
import time

import pytest

from api.services.passwords import WeakPasswordError, check_password_strength, user_words


async def test_a_long_password_is_judged_by_its_strong_part() -> None:
    weak_start = "password" * 8  # 64 characters anyone would guess
    await check_password_strength(weak_start + " quince umbrella northward kettle")
    with pytest.raises(WeakPasswordError):
        await check_password_strength(weak_start + "12345678")


async def test_the_worst_inputs_are_scored_in_bounded_time() -> None:
    # Runs of assorted l33t characters are zxcvbn's slowest case: on its own, 5 s or more for
    # 128 of them; in windows, with the readings bounded, well under a second each.
    started = time.perf_counter()
    for filler in ("@4310$!|7+58(<{[2" * 8, "1|7+" * 32, "aB3$" * 32):
        with contextlib.suppress(WeakPasswordError):
            await check_password_strength(filler[:128])
    assert time.perf_counter() - started < 3


async def test_the_accounts_own_words_count_against_it() -> None:
    words = user_words("maria.lopez@acme-corp.example", "María López")
    assert {"maria.lopez", "acme-corp.example", "maria", "lopez", "acme", "corp"} <= set(words)
    with pytest.raises(WeakPasswordError):
        await check_password_strength("maria.lopez1", words)
    await check_password_strength("maria.lopez1")  # strong enough for anyone else
