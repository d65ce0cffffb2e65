"""The benchmark's arithmetic and its output: what a reader of the table relies on."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ticketflow.benchkit.report import (
    BREACH_P99_SLACK_MS,
    DueBatch,
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
    due_after_batch_s,
    lateness_ms,
    mb_per_thousand,
    percentile,
    rate,
    spread_s,
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
TIME_RULE_AND_BURST_KEYS = {
    "time_rule_lateness_ms_p50",
    "time_rule_lateness_ms_p99",
    "bare_time_rule_timer_lateness_ms_p50",
    "bare_time_rule_timer_lateness_ms_p99",
    "burst_breach_lateness_ms_p50",
    "burst_breach_lateness_ms_p99",
    "bare_burst_timer_lateness_ms_p50",
    "bare_burst_timer_lateness_ms_p99",
}
CONTRACT_ROWS = (
    "ticket creations/s through the API vs workflow starts/s",
    "ticket updates/s through the API vs signals/s",
    "SLA breach → escalation recorded, lateness p50/p99 vs timer lateness",
    "open tickets parked on one worker, worker memory per 1,000",
    "time rule fires → effect recorded, lateness p50/p99 vs timer lateness",
    "300 tickets breaching in the same minute → escalation recorded",
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
    time_rule=DueBatch(
        ours=Lateness(p50_ms=150.0, p99_ms=450.0, count=50),
        bare=Lateness(p50_ms=60.0, p99_ms=150.0, count=50),
        delay_s=20,
        spread_s=1.4,
    ),
    burst=DueBatch(
        ours=Lateness(p50_ms=400.0, p99_ms=1100.0, count=300),
        bare=Lateness(p50_ms=90.0, p99_ms=300.0, count=300),
        delay_s=20,
        spread_s=6.2,
    ),
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
    assert Targets.of(at_threshold) == Targets(
        creations=True, updates=True, breach=True, burst=True
    )
    assert Targets.of(at_threshold).all_met


def test_targets_missed_are_reported_missed() -> None:
    slow = figures(
        create_per_s=79.0,
        update_per_s=50.0,
        breach=Lateness(p50_ms=1.0, p99_ms=1200.1, count=50),
    )
    assert Targets.of(slow) == Targets(creations=False, updates=False, breach=False, burst=True)
    assert not Targets.of(slow).all_met


def test_table_has_the_contract_rows_with_both_figures_and_marks() -> None:
    lines = render_table(figures()).splitlines()
    assert lines[0] == "| figure | ticketflow | bare Temporal | ratio |"
    rows = lines[2:]
    assert len(rows) == 6
    for row, label in zip(rows, CONTRACT_ROWS, strict=True):
        assert row.startswith(f"| {label}")
        assert row.count(" | ") == 3  # four cells: no stray bar in a label or a figure
    creations, updates, breach, memory, _, _ = rows
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
    assert data["targets"] == {
        "creations": True,
        "updates": False,
        "breach": True,
        "burst_breach": True,
    }
    assert bench_json(figures())["open_tickets"] == 385


def test_cpu_is_described_busiest_process_first() -> None:
    text = describe_cpu({"api": 6.0, "worker": 20.0, "temporal": 14.0, "total": 40.0})
    assert text == "worker 20.0 · temporal 14.0 · api 6.0 = 40.0 ms CPU/op"


# -- time rule and burst -------------------------------------------------------------------------


def test_lateness_is_signed_milliseconds_after_the_due_instant() -> None:
    due = datetime(2025, 3, 1, 12, 0, 20, tzinfo=UTC)
    assert lateness_ms(due, due + timedelta(microseconds=123_456)) == pytest.approx(123.456)
    assert lateness_ms(due, due - timedelta(milliseconds=5)) == pytest.approx(-5.0)


def test_spread_is_first_to_last_instant() -> None:
    assert spread_s([21.5, 20.0, 38.25]) == 18.25
    with pytest.raises(ValueError, match="no instants"):
        spread_s([])


def test_due_delay_lets_the_whole_batch_open_before_the_first_is_due() -> None:
    # 1,000 tickets at 50/s open over 20 s; half as long again, and 5 s: due after 35 s.
    delay = due_after_batch_s(1000, 50.0)
    assert delay == 35
    # Even if this batch opens at 36/s instead (a busier machine, more rules per ticket).
    assert delay >= 1000 / 36.0 + 5.0


def test_due_delay_stays_within_its_bounds() -> None:
    assert due_after_batch_s(50, 60.0) == 20  # a small batch still waits the floor
    assert due_after_batch_s(1000, 5.0) == 120
    assert due_after_batch_s(1000, 0.0) == 120


def test_burst_target_is_bare_p99_plus_one_second() -> None:
    bare = Lateness(p50_ms=90.0, p99_ms=300.0, count=300)
    at_threshold = replace(BASE.burst, ours=Lateness(1.0, 300.0 + BREACH_P99_SLACK_MS, 300))
    assert Targets.of(figures(burst=at_threshold)).burst
    late = replace(BASE.burst, bare=bare, ours=Lateness(1.0, 1300.1, 300))
    missed = Targets.of(figures(burst=late))
    assert not missed.burst
    assert not missed.all_met


def test_time_rule_and_burst_rows_show_both_sides() -> None:
    *_, time_rule, burst = render_table(figures()).splitlines()
    assert "rule true 20 s after opening" in time_rule
    assert "p50 150 ms / p99 450 ms (n=50)" in time_rule
    assert "p50 60 ms / p99 150 ms (n=50)" in time_rule
    assert time_rule.endswith("| p99 3.00× |")  # no target on this row
    assert "deadlines within 6 s" in burst
    assert "p50 400 ms / p99 1,100 ms (n=300)" in burst
    assert "p50 90 ms / p99 300 ms (n=300)" in burst
    assert "p99 3.67× ✓ (target p99 ≤ bare p99 + 1000 ms)" in burst


def test_bench_line_carries_the_time_rule_and_burst_keys() -> None:
    data = json.loads(bench_line(figures()).removeprefix("BENCH "))
    assert data.keys() >= CONTRACT_KEYS | TIME_RULE_AND_BURST_KEYS
    assert data["time_rule_lateness_ms_p99"] == 450.0
    assert data["bare_time_rule_timer_lateness_ms_p50"] == 60.0
    assert data["burst_breach_lateness_ms_p99"] == 1100.0
    assert data["bare_burst_timer_lateness_ms_p99"] == 300.0
    assert data["time_rules"] == 50
    assert data["burst_breaches"] == 300
    assert data["burst_target_s"] == 20
    assert data["burst_deadline_spread_s"] == 6.2
