"""Reading from a history how late a timer was set to fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent, TimerStartedEventAttributes

from ticketflow.benchkit.timer_starts import armed_late_ms

OPENED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
DUE = OPENED + timedelta(seconds=20)


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def timer_started(moment: datetime, duration: timedelta) -> HistoryEvent:
    length = Duration()
    length.FromTimedelta(duration)
    return HistoryEvent(
        event_time=at(moment),
        event_type=EventType.EVENT_TYPE_TIMER_STARTED,
        timer_started_event_attributes=TimerStartedEventAttributes(start_to_fire_timeout=length),
    )


def other(moment: datetime) -> HistoryEvent:
    return HistoryEvent(event_time=at(moment), event_type=EventType.EVENT_TYPE_MARKER_RECORDED)


def test_a_timer_started_when_its_task_completed_is_set_that_much_late() -> None:
    # The task started 100 ms after opening and computed 19.9 s to the due instant; it
    # completed 450 ms later, when the server started the timer.
    task_started = OPENED + timedelta(milliseconds=100)
    events = [
        other(task_started),
        timer_started(task_started + timedelta(milliseconds=450), DUE - task_started),
    ]
    assert armed_late_ms(events, DUE) == pytest.approx(450.0)


def test_the_timer_meant_for_the_due_instant_is_the_one_set_nearest_to_it() -> None:
    events = [
        timer_started(OPENED, timedelta(seconds=10)),  # a warning at half-time
        timer_started(OPENED + timedelta(seconds=10, milliseconds=5), timedelta(seconds=10)),
        timer_started(DUE, timedelta(hours=4)),  # the next wake-up, after the breach
    ]
    assert armed_late_ms(events, DUE) == pytest.approx(5.0)


def test_no_timer_no_answer() -> None:
    assert armed_late_ms([other(OPENED)], DUE) is None
