"""The SLA clock against a brute-force reference: walk the timeline second by second."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.enums import ClockState, Metric
from domain.sla import Clock, next_due, pending_warning

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@st.composite
def paused_clocks(draw: st.DrawFn) -> tuple[Clock, list[tuple[int, int]], int]:
    """A clock with a random pause history, the pauses as offsets, and a `now` offset."""
    target = draw(st.integers(min_value=1, max_value=600))
    clock = Clock(metric=Metric.RESOLUTION, started_at=T0, target=timedelta(seconds=target))
    cursor, pauses = 0, []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        start = cursor + draw(st.integers(min_value=0, max_value=200))
        end = start + draw(st.integers(min_value=1, max_value=200))
        pauses.append((start, end))
        clock.pause(T0 + timedelta(seconds=start))
        clock.resume(T0 + timedelta(seconds=end))
        cursor = end
    return clock, pauses, cursor + draw(st.integers(min_value=0, max_value=900))


def counted_seconds(pauses: list[tuple[int, int]], until: int) -> int:
    """Reference: seconds in [0, until) outside every pause."""
    return sum(1 for s in range(until) if not any(a <= s < b for a, b in pauses))


@given(paused_clocks())
def test_elapsed_matches_reference(case: tuple[Clock, list[tuple[int, int]], int]) -> None:
    clock, pauses, now = case
    expected = counted_seconds(pauses, now)
    assert clock.elapsed(T0 + timedelta(seconds=now)) == timedelta(seconds=expected)


@given(paused_clocks())
def test_deadline_is_when_target_is_used_up(case: tuple[Clock, list[tuple[int, int]], int]) -> None:
    clock, pauses, _ = case
    deadline = clock.deadline()
    assert deadline is not None
    offset = int((deadline - T0).total_seconds())
    target = int(clock.target.total_seconds())
    # the first second at which the counted time reaches the target, unless already past it
    if counted_seconds(pauses, pauses[-1][1] if pauses else 0) < target:
        assert counted_seconds(pauses, offset) == target
        assert counted_seconds(pauses, offset - 1) < target
    assert clock.state(deadline, ()) is ClockState.BREACHED


@given(paused_clocks(), st.integers(min_value=1, max_value=600))
def test_retarget_keeps_time_spent_and_pauses(
    case: tuple[Clock, list[tuple[int, int]], int], new_target: int
) -> None:
    clock, pauses, now = case
    at = T0 + timedelta(seconds=now)
    before = clock.elapsed(at)
    clock.retarget(timedelta(seconds=new_target), at)
    assert clock.elapsed(at) == before
    assert len(clock.pauses) == len(pauses)
    deadline = clock.deadline()
    assert deadline is not None
    assert clock.elapsed(deadline) == max(timedelta(seconds=new_target), clock.elapsed(deadline))


def test_paused_clock_has_no_deadline_and_stops_counting() -> None:
    clock = Clock(metric=Metric.FIRST_RESPONSE, started_at=T0, target=timedelta(minutes=10))
    clock.pause(T0 + timedelta(minutes=4))
    assert clock.deadline() is None
    assert clock.state(T0 + timedelta(hours=5), (0.5,)) is ClockState.PAUSED
    assert clock.elapsed(T0 + timedelta(hours=5)) == timedelta(minutes=4)
    clock.resume(T0 + timedelta(hours=5))
    assert clock.deadline() == T0 + timedelta(hours=5, minutes=6)


def test_states_through_a_lifetime() -> None:
    clock = Clock(metric=Metric.RESOLUTION, started_at=T0, target=timedelta(minutes=100))
    warn = (0.5, 0.75, 0.9)
    assert clock.state(T0 + timedelta(minutes=49), warn) is ClockState.OK
    assert clock.state(T0 + timedelta(minutes=50), warn) is ClockState.AT_RISK
    assert clock.state(T0 + timedelta(minutes=100), warn) is ClockState.BREACHED
    clock.stop(T0 + timedelta(minutes=99))
    assert clock.state(T0 + timedelta(days=1), warn) is ClockState.MET


def test_warnings_come_in_order_and_only_once() -> None:
    clock = Clock(metric=Metric.RESOLUTION, started_at=T0, target=timedelta(minutes=100))
    warn = (0.5, 0.75, 0.9)
    assert next_due(clock, warn) == T0 + timedelta(minutes=50)
    assert pending_warning(clock, T0 + timedelta(minutes=49), warn) is None
    assert pending_warning(clock, T0 + timedelta(minutes=80), warn) == 0.75
    clock.warned = [0.5, 0.75]
    assert next_due(clock, warn) == T0 + timedelta(minutes=90)
    clock.warned = [0.5, 0.75, 0.9]
    assert next_due(clock, warn) == T0 + timedelta(minutes=100)


def test_raising_the_target_rearms_warnings_not_yet_reached() -> None:
    clock = Clock(metric=Metric.RESOLUTION, started_at=T0, target=timedelta(minutes=100))
    clock.warned = [0.5]
    clock.retarget(timedelta(minutes=400), T0 + timedelta(minutes=60))
    assert clock.warned == []
    assert next_due(clock, (0.5,)) == T0 + timedelta(minutes=200)
