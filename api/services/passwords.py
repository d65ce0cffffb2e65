"""The password policy: long enough (8..128, checked by the schemas) and hard to guess.

Guessability is zxcvbn's estimate (offline: its dictionaries of common passwords, words,
names, keyboard patterns, dates, and the user's own e-mail and name). A password must
score at least `MIN_SCORE` of 0..4; 3 means "safely unguessable" against an online attack
and a slowed offline one, which an argon2 hash is.

Every place that sets a password calls `check_password_strength`: registration, changing
it, an admin creating a user, `ticketflow admin create/reset-password`, and resetting it
with an e-mailed link (`api.services.auth.reset_password`).

zxcvbn's cost grows quickly with length (a long run of l33t characters takes seconds), so a
long password is scored in windows of `WINDOW` characters, stopping at the first window
strong enough: a password holding a strong part is at least that strong. And zxcvbn keeps
the user's words in a module-level dictionary while it scores, so one scoring runs at a
time, in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from zxcvbn import zxcvbn

from domain.errors import InvalidInput

MIN_SCORE = 3
WINDOW = 48
_STEP = WINDOW - 8  # windows overlap, so a strong stretch across a boundary still counts
_scoring = threading.Lock()


class WeakPasswordError(InvalidInput):
    """The password is too easy to guess; the detail says why and what would help."""

    code = "weak_password"


def user_words(*values: str | None) -> list[str]:
    """The words of an account a password must not be built from: its e-mail (whole, its
    local part and domain, their pieces) and its name's words."""
    words: list[str] = []
    for value in values:
        if not value:
            continue
        lowered = value.strip().lower()
        words.append(lowered)
        words.extend(lowered.split("@"))
        words.extend(piece for piece in re.split(r"[^\w]+", lowered) if len(piece) >= 3)
    return list(dict.fromkeys(words))


def _windows(password: str) -> Iterable[str]:
    if len(password) <= WINDOW:
        yield password
        return
    for start in range(0, len(password) - WINDOW + _STEP, _STEP):
        yield password[start : start + WINDOW]


@dataclass(frozen=True)
class _Verdict:
    score: int
    said: list[str]

    @property
    def reason(self) -> str:
        said = " ".join(part.strip() for part in self.said if part.strip())
        return said or "Add another word or two. Uncommon words are better."


def _score(password: str, user_inputs: list[str]) -> _Verdict:
    with _scoring:
        best: _Verdict | None = None
        for window in _windows(password):
            result = zxcvbn(window, user_inputs=user_inputs, max_length=WINDOW)
            feedback = result["feedback"]
            verdict = _Verdict(result["score"], [feedback["warning"], *feedback["suggestions"]])
            if best is None or verdict.score > best.score:
                best = verdict
            if best.score >= MIN_SCORE:
                break
        assert best is not None  # a password has at least one window
        return best


async def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Refuse (`WeakPasswordError`, a 422 problem) a password that is too easy to guess,
    with zxcvbn's reason; `user_inputs` are the account's e-mail and name (`user_words`)."""
    inputs = list(user_inputs)
    verdict = await asyncio.to_thread(_score, password, inputs)
    if verdict.score < MIN_SCORE:
        raise WeakPasswordError(f"this password is too easy to guess: {verdict.reason}")
