"""The password policy: long enough (8..128, checked by the schemas) and hard to guess.

Guessability is zxcvbn's estimate (offline: its dictionaries of common passwords, words,
names, keyboard patterns, dates, and the user's own e-mail and name). A password must
score at least `MIN_SCORE` of 0..4; 3 means "safely unguessable" against an online attack
and a slowed offline one, which an argon2 hash is.

Every place that sets a password must call `check_password_strength` with the account's
e-mail and name (`user_words`): registration, changing it, an admin creating a user and
`ticketflow admin create/reset-password` do; resetting it with an e-mailed link
(`api.services.auth.reset_password`) must as well.

zxcvbn's cost grows with length and, above all, with the kinds of l33t characters a
password holds: it tries every reading of them (`4` as `a`, `1` as `i` or `l`, …) against
every dictionary, and 32 characters of assorted symbols take it a second or more. So a long
password is scored in windows of `WINDOW` characters, stopping at the first window strong
enough (a password holding a strong part is at least that strong), and a window holding
more readings than `MAX_L33T_READINGS` is read with the common substitutions only. One
scoring runs at a time per process, in a thread: a burst of registrations takes one core.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zxcvbn import feedback as zxcvbn_feedback
from zxcvbn import matching, scoring, time_estimates

from domain.errors import InvalidInput

if TYPE_CHECKING:  # a type of the stubs only
    from zxcvbn.matching import _Match

MIN_SCORE = 3
WINDOW = 48
_STEP = WINDOW - 8  # windows overlap, so a strong stretch across a boundary still counts
MAX_L33T_READINGS = 32
# The substitutions people actually make, for windows with too many kinds of l33t characters.
_COMMON_L33T = {"a": ["4", "@"], "e": ["3"], "i": ["1", "!"], "o": ["0"], "s": ["$", "5"]}
_MATCHERS = (
    matching.dictionary_match,
    matching.reverse_dictionary_match,
    matching.spatial_match,
    matching.repeat_match,
    matching.sequence_match,
    matching.regex_match,
    matching.date_match,
)
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


def _matches(window: str, dictionaries: dict[str, dict[str, int]]) -> list[_Match]:
    """zxcvbn's `omnimatch`, with the l33t readings bounded."""
    table = matching.L33T_TABLE
    readings = matching.enumerate_l33t_subs(matching.relevant_l33t_subtable(window, table))
    if len(readings) > MAX_L33T_READINGS:
        table = _COMMON_L33T
    found = matching.l33t_match(window, dictionaries, _l33t_table=table)
    for matcher in _MATCHERS:
        found.extend(matcher(window, _ranked_dictionaries=dictionaries))
    return sorted(found, key=lambda match: (match["i"], match["j"]))


def _window_verdict(window: str, dictionaries: dict[str, dict[str, int]]) -> _Verdict:
    """What `zxcvbn.zxcvbn` says of `window`, with these dictionaries (its user inputs)."""
    result = scoring.most_guessable_match_sequence(window, _matches(window, dictionaries))
    score = time_estimates.estimate_attack_times(result["guesses"])["score"]
    feedback = zxcvbn_feedback.get_feedback(score, result["sequence"])
    return _Verdict(score, [feedback["warning"], *feedback["suggestions"]])


def _score(password: str, user_inputs: list[str]) -> _Verdict:
    # Our own copy of the dictionaries with the user's words (zxcvbn's own function would
    # write them into its module-level dictionaries).
    dictionaries = {
        **matching.RANKED_DICTIONARIES,
        "user_inputs": matching.build_ranked_dict(word.lower() for word in user_inputs),
    }
    with _scoring:
        best: _Verdict | None = None
        for window in _windows(password):
            verdict = _window_verdict(window, dictionaries)
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
