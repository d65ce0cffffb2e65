"""The benchmark's output: one Markdown table, the targets it checks, and the `BENCH` line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ticketflow.benchkit.stats import Lateness, ratio

CREATE_RATIO_TARGET = 0.4
UPDATE_RATIO_TARGET = 0.4
BREACH_P99_SLACK_MS = 1000.0

_HEADER = (
    "| figure | ticketflow | bare Temporal | ratio |",
    "|---|---|---|---|",
)


@dataclass(frozen=True)
class DueBatch:
    """Tickets due at known instants, beside as many bare timers due at the same offsets."""

    ours: Lateness
    bare: Lateness
    delay_s: int  # from each ticket's opening to its due instant
    spread_s: float  # from the batch's first due instant to its last


@dataclass(frozen=True)
class Figures:
    """Everything one run measured; ticketflow's figure beside the bare one."""

    quick: bool
    concurrency: int
    creations: int
    create_per_s: float
    bare_start_per_s: float
    updates: int
    update_per_s: float
    bare_signal_per_s: float
    breach: Lateness
    bare_timer: Lateness
    open_tickets: int
    worker_mb_per_1000_open: float
    parked_bare: int
    bare_worker_mb_per_1000_open: float
    time_rule: DueBatch
    burst: DueBatch
    elapsed_s: float = 0.0
    # phase -> process -> CPU milliseconds per operation (diagnostics, not a target)
    cpu_ms_per_op: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Targets:
    creations: bool
    updates: bool
    breach: bool
    burst: bool

    @classmethod
    def of(cls, figures: Figures) -> Targets:
        return cls(
            creations=_at_least(
                figures.create_per_s, figures.bare_start_per_s, CREATE_RATIO_TARGET
            ),
            updates=_at_least(figures.update_per_s, figures.bare_signal_per_s, UPDATE_RATIO_TARGET),
            breach=_within_slack(figures.breach, figures.bare_timer),
            burst=_within_slack(figures.burst.ours, figures.burst.bare),
        )

    @property
    def all_met(self) -> bool:
        return self.creations and self.updates and self.breach and self.burst


def _within_slack(ours: Lateness, bare: Lateness) -> bool:
    return ours.p99_ms <= bare.p99_ms + BREACH_P99_SLACK_MS


def _at_least(ours: float, bare: float, wanted: float) -> bool:
    value = ratio(ours, bare)
    return value is not None and value >= wanted


def _mark(met: bool) -> str:
    return "✓" if met else "✗"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _rate_row(label: str, ours: float, bare: float, met: bool, wanted: float) -> str:
    shown = f"{_times(ratio(ours, bare))} {_mark(met)} (target ≥ {wanted}×)"
    return f"| {label} | {ours:,.1f}/s | {bare:,.1f}/s | {shown} |"


def _lateness(value: Lateness) -> str:
    return f"p50 {value.p50_ms:,.0f} ms / p99 {value.p99_ms:,.0f} ms (n={value.count})"


def _p99_ratio(ours: Lateness, bare: Lateness) -> str:
    return f"p99 {_times(ratio(ours.p99_ms, bare.p99_ms))}"


def _slack_target(met: bool) -> str:
    return f"{_mark(met)} (target p99 ≤ bare p99 + {BREACH_P99_SLACK_MS:.0f} ms)"


def _time_rule_row(batch: DueBatch) -> str:
    return (
        f"| time rule fires → effect recorded, lateness p50/p99 vs timer lateness "
        f"(rule true {batch.delay_s} s after opening) "
        f"| {_lateness(batch.ours)} | {_lateness(batch.bare)} "
        f"| {_p99_ratio(batch.ours, batch.bare)} |"
    )


def _burst_row(batch: DueBatch, met: bool) -> str:
    return (
        f"| {batch.ours.count:,} tickets breaching in the same minute → escalation recorded, "
        f"lateness p50/p99 vs as many timers (deadlines within {batch.spread_s:.0f} s) "
        f"| {_lateness(batch.ours)} | {_lateness(batch.bare)} "
        f"| {_p99_ratio(batch.ours, batch.bare)} {_slack_target(met)} |"
    )


def render_table(figures: Figures) -> str:
    """The four rows of CONTRACT §9, then the time-rule and burst rows, with ✓/✗ beside each
    target."""
    targets = Targets.of(figures)
    memory_ratio = _times(
        ratio(figures.worker_mb_per_1000_open, figures.bare_worker_mb_per_1000_open)
    )
    rows = [
        *_HEADER,
        _rate_row(
            f"ticket creations/s through the API vs workflow starts/s (n={figures.creations})",
            figures.create_per_s,
            figures.bare_start_per_s,
            targets.creations,
            CREATE_RATIO_TARGET,
        ),
        _rate_row(
            f"ticket updates/s through the API vs signals/s (n={figures.updates})",
            figures.update_per_s,
            figures.bare_signal_per_s,
            targets.updates,
            UPDATE_RATIO_TARGET,
        ),
        f"| SLA breach → escalation recorded, lateness p50/p99 vs timer lateness "
        f"| {_lateness(figures.breach)} | {_lateness(figures.bare_timer)} "
        f"| {_p99_ratio(figures.breach, figures.bare_timer)} {_slack_target(targets.breach)} |",
        f"| open tickets parked on one worker, worker memory per 1,000 "
        f"| {figures.worker_mb_per_1000_open:,.1f} MB ({figures.open_tickets:,} open) "
        f"| {figures.bare_worker_mb_per_1000_open:,.1f} MB ({figures.parked_bare:,} parked) "
        f"| {memory_ratio} |",
        _time_rule_row(figures.time_rule),
        _burst_row(figures.burst, targets.burst),
    ]
    return "\n".join(rows)


def bench_json(figures: Figures) -> dict[str, Any]:
    """The machine-readable result; CONTRACT §9 keys first, none ever removed."""
    targets = Targets.of(figures)
    return {
        "create_per_s": round(figures.create_per_s, 2),
        "bare_start_per_s": round(figures.bare_start_per_s, 2),
        "update_per_s": round(figures.update_per_s, 2),
        "bare_signal_per_s": round(figures.bare_signal_per_s, 2),
        "breach_lateness_ms_p50": round(figures.breach.p50_ms, 1),
        "breach_lateness_ms_p99": round(figures.breach.p99_ms, 1),
        "bare_timer_lateness_ms_p50": round(figures.bare_timer.p50_ms, 1),
        "bare_timer_lateness_ms_p99": round(figures.bare_timer.p99_ms, 1),
        "worker_mb_per_1000_open": round(figures.worker_mb_per_1000_open, 2),
        "bare_worker_mb_per_1000_open": round(figures.bare_worker_mb_per_1000_open, 2),
        **_lateness_keys("time_rule_lateness_ms", figures.time_rule.ours),
        **_lateness_keys("bare_time_rule_timer_lateness_ms", figures.time_rule.bare),
        **_lateness_keys("burst_breach_lateness_ms", figures.burst.ours),
        **_lateness_keys("bare_burst_timer_lateness_ms", figures.burst.bare),
        "creations": figures.creations,
        "updates": figures.updates,
        "breaches": figures.breach.count,
        "bare_timers": figures.bare_timer.count,
        "open_tickets": figures.open_tickets,
        "parked_bare": figures.parked_bare,
        "time_rules": figures.time_rule.ours.count,
        "time_rule_delay_s": figures.time_rule.delay_s,
        "burst_breaches": figures.burst.ours.count,
        "burst_target_s": figures.burst.delay_s,
        "burst_deadline_spread_s": round(figures.burst.spread_s, 1),
        "concurrency": figures.concurrency,
        "quick": figures.quick,
        "targets": {
            "creations": targets.creations,
            "updates": targets.updates,
            "breach": targets.breach,
            "burst_breach": targets.burst,
        },
        "elapsed_s": round(figures.elapsed_s, 1),
        "cpu_ms_per_op": {
            phase: {name: round(ms, 2) for name, ms in per_process.items()}
            for phase, per_process in figures.cpu_ms_per_op.items()
        },
    }


def _lateness_keys(prefix: str, value: Lateness) -> dict[str, float]:
    return {f"{prefix}_p50": round(value.p50_ms, 1), f"{prefix}_p99": round(value.p99_ms, 1)}


def bench_line(figures: Figures) -> str:
    """`BENCH {json}`: the last line of the output."""
    return "BENCH " + json.dumps(bench_json(figures), ensure_ascii=False, sort_keys=False)


def describe_cpu(per_op: Mapping[str, float]) -> str:
    """`api 12.1 · worker 8.0 · … = 29.4 ms CPU/op`, busiest process first."""
    parts = sorted(
        ((name, ms) for name, ms in per_op.items() if name != "total"), key=lambda item: -item[1]
    )
    shown = " · ".join(f"{name} {ms:.1f}" for name, ms in parts)
    total = per_op.get("total", sum(ms for _, ms in parts))
    return f"{shown} = {total:.1f} ms CPU/op"
