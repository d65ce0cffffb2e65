"""The benchmark's arithmetic and its output: what a reader of the table relies on."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest

from ticketflow.benchkit.report import (
    BREACH_P99_SLACK_MS,
    Figures,
    Targets,
    bench_json,
    bench_line,
    describe_cpu,
    render_table,
)
from ticketflow.benchkit.stats import (
    CpuUse,
    Lateness,
    breach_target_s,
    mb_per_thousand,
    percentile,
    rate,
)

CONTRACT_KEYS = {
    "create_per_s",
    "bare_start_per_s",
    "update_per_s",
    "bare_signal_per_s",
    "breach_lateness_ms_p50",
    "breach_lateness_ms_p99",
    "bare_timer_lateness_ms_p50",
    "bare_timer_lateness_ms_p99",
    "worker_mb_per_1000_open",
}
CONTRACT_ROWS = (
    "ticket creations/s through the API vs workflow starts/s",
    "ticket updates/s through the API vs signals/s",
    "SLA breach → escalation recorded, lateness p50/p99 vs timer lateness",
    "open tickets parked on one worker, worker memory per 1,000",
)
MB = 1024 * 1024


BASE = Figures(
    quick=True,
    concurrency=16,
    creations=300,
    create_per_s=80.0,
    bare_start_per_s=200.0,
    updates=300,
    update_per_s=50.0,
    bare_signal_per_s=500.0,
    breach=Lateness(p50_ms=300.0, p99_ms=900.0, count=50),
    bare_timer=Lateness(p50_ms=80.0, p99_ms=200.0, count=50),
    open_tickets=385,
    worker_mb_per_1000_open=200.0,
    parked_bare=332,
    bare_worker_mb_per_1000_open=80.0,
)


def figures(**changes: Any) -> Figures:
    return replace(BASE, **changes)


# -- stats ---------------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert math.isclose(percentile([float(n) for n in range(1, 101)], 99), 99.01)


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert percentile([7.5], 99) == 7.5


@pytest.mark.parametrize(("samples", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_what_has_no_answer(samples: list[float], q: float) -> None:
    with pytest.raises(ValueError, match=r"samples|percentile"):
        percentile(samples, q)


def test_lateness_summarises_samples() -> None:
    late = Lateness.of([10.0, 20.0, 30.0, 1000.0])
    assert late.count == 4
    assert late.p50_ms == 25.0
    assert 900 < late.p99_ms < 1000


def test_rate_is_operations_over_wall_time() -> None:
    assert rate(300, 2.0) == 150.0
    with pytest.raises(ValueError, match="positive"):
        rate(300, 0.0)


def test_memory_per_thousand_counts_only_the_workflows_parked_between_readings() -> None:
    # 100 MB more for 500 more parked workflows: 200 MB per 1,000.
    assert mb_per_thousand(50 * MB, 150 * MB, 35, 535) == pytest.approx(200.0)
    with pytest.raises(ValueError, match="parked"):
        mb_per_thousand(50 * MB, 60 * MB, 35, 35)


def test_breach_target_puts_every_last_warning_before_the_first_breach() -> None:
    # 50 tickets at 62.5/s open over 0.8 s (+0.5 s margin): 1.3 s must fit in the last 10 %.
    target = breach_target_s(50, 62.5, last_warning=0.9)
    assert target == 13
    window = 50 / 62.5
    assert target * (1 - 0.9) >= window


def test_breach_target_stays_within_its_bounds() -> None:
    assert breach_target_s(1, 1000.0, last_warning=0.0) == 5
    assert breach_target_s(10_000, 10.0, last_warning=0.9) == 60
    assert breach_target_s(200, 0.0, last_warning=0.9) == 60
    with pytest.raises(ValueError, match="before the deadline"):
        breach_target_s(200, 50.0, last_warning=1.0)


def test_cpu_use_between_two_readings_per_operation() -> None:
    before = CpuUse({"api": 1.0, "worker": 2.0, "gone": 5.0})
    after = CpuUse({"api": 3.0, "worker": 2.5, "new": 9.0})
    spent = after.since(before)
    assert spent.seconds == {"api": 2.0, "worker": 0.5}
    assert spent.ms_per_op(100) == {"api": 20.0, "worker": 5.0, "total": 25.0}
    with pytest.raises(ValueError, match="no operations"):
        spent.ms_per_op(0)


# -- report --------------------------------------------------------------------------------------


def test_targets_are_met_exactly_at_their_thresholds() -> None:
    at_threshold = figures(
        create_per_s=80.0,
        bare_start_per_s=200.0,
        update_per_s=200.0,
        bare_signal_per_s=500.0,
        breach=Lateness(p50_ms=1.0, p99_ms=200.0 + BREACH_P99_SLACK_MS, count=50),
    )
    assert Targets.of(at_threshold) == Targets(creations=True, updates=True, breach=True)
    assert Targets.of(at_threshold).all_met


def test_targets_missed_are_reported_missed() -> None:
    slow = figures(
        create_per_s=79.0,
        update_per_s=50.0,
        breach=Lateness(p50_ms=1.0, p99_ms=1200.1, count=50),
    )
    assert Targets.of(slow) == Targets(creations=False, updates=False, breach=False)
    assert not Targets.of(slow).all_met


def test_table_has_the_contract_rows_with_both_figures_and_marks() -> None:
    lines = render_table(figures()).splitlines()
    assert lines[0] == "| figure | ticketflow | bare Temporal | ratio |"
    rows = lines[2:]
    assert len(rows) == 4
    for row, label in zip(rows, CONTRACT_ROWS, strict=True):
        assert row.startswith(f"| {label}")
    creations, updates, breach, memory = rows
    assert "80.0/s" in creations and "200.0/s" in creations and "0.40× ✓" in creations
    assert "0.10× ✗" in updates
    assert "p99 900 ms" in breach and "p99 200 ms" in breach and "✓" in breach
    assert "200.0 MB (385 open)" in memory and "80.0 MB (332 parked)" in memory
    assert "2.50×" in memory


def test_table_survives_a_zero_bare_figure() -> None:
    assert "n/a" in render_table(figures(bare_signal_per_s=0.0))


def test_bench_line_is_json_with_the_contract_keys() -> None:
    line = bench_line(figures(quick=False, concurrency=8))
    assert line.startswith("BENCH {")
    data = json.loads(line.removeprefix("BENCH "))
    assert data.keys() >= CONTRACT_KEYS
    assert data["create_per_s"] == 80.0
    assert data["breach_lateness_ms_p99"] == 900.0
    assert data["bare_worker_mb_per_1000_open"] == 80.0
    assert data["quick"] is False
    assert data["concurrency"] == 8
    assert data["targets"] == {"creations": True, "updates": False, "breach": True}
    assert bench_json(figures())["open_tickets"] == 385


def test_cpu_is_described_busiest_process_first() -> None:
    text = describe_cpu({"api": 6.0, "worker": 20.0, "temporal": 14.0, "total": 40.0})
    assert text == "worker 20.0 · temporal 14.0 · api 6.0 = 40.0 ms CPU/op"
