"""Pure arithmetic of the benchmark: rates, percentiles, memory per thousand."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

_MB = 1024 * 1024


def rate(count: int, seconds: float) -> float:
    """Operations per second of a batch of `count` operations that took `seconds` wall time."""
    if count < 0:
        raise ValueError("a batch cannot hold a negative number of operations")
    if seconds <= 0:
        raise ValueError("a batch takes a positive amount of time")
    return count / seconds


def percentile(samples: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError("a percentile lies between 0 and 100")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Lateness:
    """How late (ms) a set of deadlines were honoured: median and 99th percentile."""

    p50_ms: float
    p99_ms: float
    count: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Lateness:
        return cls(percentile(samples_ms, 50), percentile(samples_ms, 99), len(samples_ms))


def lateness_ms(due: datetime, done: datetime) -> float:
    """How late (ms) `done` came after `due`; negative if early."""
    return (done - due).total_seconds() * 1000


def spread_s(offsets: Sequence[float]) -> float:
    """Seconds between the first and the last of a batch's instants."""
    if not offsets:
        raise ValueError("no instants")
    return max(offsets) - min(offsets)


def mb_per_thousand(
    rss_before: int, rss_after: int, parked_before: int, parked_after: int
) -> float:
    """Resident memory (MB) that 1,000 more parked workflows cost, from two RSS readings."""
    parked = parked_after - parked_before
    if parked <= 0:
        raise ValueError("no workflow was parked between the two readings")
    return (rss_after - rss_before) / _MB * 1000 / parked


def ratio(ours: float, bare: float) -> float | None:
    """ticketflow / bare, or None when the bare figure is zero."""
    return ours / bare if bare else None


def breach_target_s(
    tickets: int,
    create_per_s: float,
    *,
    last_warning: float,
    margin_s: float = 0.5,
    floor: int = 5,
    ceiling: int = 60,
) -> int:
    """An SLA target (whole seconds) for a batch of `tickets` opened at `create_per_s`.

    Opening the batch takes a window of `tickets / create_per_s` seconds, and the deadlines
    are spread over the same window. The target is long enough that the batch's last SLA
    warnings (at `last_warning` of the target) have all fired before its first breach:
    squeezed tighter, warnings and breaches of the same batch would collide, which real
    targets (minutes to days) never do, and the bench would time that artefact.
    """
    if not 0 <= last_warning < 1:
        raise ValueError("the last warning comes before the deadline")
    if create_per_s <= 0:
        return ceiling
    window = tickets / create_per_s + margin_s
    # Rounded first: 1.3 / 0.1 is 13.000000000000002 in floating point, not 14 s.
    wanted = math.ceil(round(window / (1 - last_warning), 6))
    return max(floor, min(ceiling, wanted))


def due_after_batch_s(
    tickets: int,
    create_per_s: float,
    *,
    slack: float = 1.5,
    margin_s: float = 5.0,
    floor: int = 20,
    ceiling: int = 120,
) -> int:
    """A delay (whole seconds) from each ticket's opening to its due instant, long enough for
    a batch of `tickets` to be fully open before its first ticket is due.

    The due instants then fall within the batch's opening window, and they are timed on a
    stack that has stopped opening tickets. `create_per_s` is the rate an earlier phase
    measured; `slack` and `margin_s` cover a batch that opens more slowly (tickets that run
    more rules on creation, a machine busier than it was).
    """
    if create_per_s <= 0:
        return ceiling
    # Rounded first, as in breach_target_s: no whole second added by a floating-point tail.
    wanted = math.ceil(round(tickets / create_per_s * slack + margin_s, 6))
    return max(floor, min(ceiling, wanted))


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds per process name (cumulative counters, or a difference of two readings)."""

    seconds: dict[str, float]

    def since(self, earlier: CpuUse) -> CpuUse:
        """What was spent between `earlier` and this reading (processes in both)."""
        return CpuUse(
            {
                name: value - earlier.seconds[name]
                for name, value in self.seconds.items()
                if name in earlier.seconds
            }
        )

    def ms_per_op(self, operations: int) -> dict[str, float]:
        """Milliseconds of CPU per operation, per process, plus their `total`."""
        if operations <= 0:
            raise ValueError("no operations to share the CPU time among")
        per_op = {name: value * 1000 / operations for name, value in self.seconds.items()}
        per_op["total"] = sum(per_op.values())
        return per_op
