"""An activity's view of its own retries: when a failure is the last one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from temporalio.common import RetryPolicy
from temporalio.testing import ActivityEnvironment

from activities.attempts import backoff, is_last_attempt
from workflows.ticket import DELIVERY_RETRY, DELIVERY_WINDOW


def attempt(
    number: int,
    *,
    scheduled_ago: timedelta = timedelta(0),
    policy: RetryPolicy = DELIVERY_RETRY,
    window: timedelta | None = DELIVERY_WINDOW,
) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        attempt=number,
        retry_policy=policy,
        scheduled_time=datetime.now(UTC) - scheduled_ago,
        schedule_to_close_timeout=window,
    )
    return env


def test_the_policys_last_attempt_is_the_last() -> None:
    policy = RetryPolicy(maximum_attempts=5)

    assert not attempt(4, policy=policy, window=None).run(is_last_attempt)
    assert attempt(5, policy=policy, window=None).run(is_last_attempt)


def test_an_early_attempt_inside_the_window_is_not_the_last() -> None:
    assert not attempt(3, scheduled_ago=timedelta(seconds=10)).run(is_last_attempt)


def test_an_attempt_whose_next_would_start_past_the_window_is_the_last() -> None:
    late = DELIVERY_WINDOW - timedelta(minutes=5)  # the next wait is 10 minutes by now

    assert attempt(150, scheduled_ago=late).run(is_last_attempt)


def test_a_retry_after_longer_than_the_time_left_makes_it_the_last() -> None:
    left_an_hour = DELIVERY_WINDOW - timedelta(hours=1)
    env = attempt(2, scheduled_ago=left_an_hour)

    assert not env.run(is_last_attempt, timedelta(minutes=30))
    assert env.run(is_last_attempt, timedelta(hours=2))


def test_a_whole_day_of_outage_ends_in_a_last_attempt_before_the_window_closes() -> None:
    """Attempt after attempt, the way Temporal spaces them: one of them knows it is the last."""
    elapsed, number = timedelta(0), 1
    while not attempt(number, scheduled_ago=elapsed).run(is_last_attempt):
        elapsed += backoff(DELIVERY_RETRY, number)
        number += 1
        assert elapsed <= DELIVERY_WINDOW, "Temporal would give up first: the row stays pending"
    assert number < DELIVERY_RETRY.maximum_attempts  # the window, not the count, ended it


def test_backoff_doubles_up_to_the_policys_ceiling() -> None:
    waits = [backoff(DELIVERY_RETRY, n) for n in (1, 2, 3, 200)]

    assert waits == [
        timedelta(seconds=2),
        timedelta(seconds=4),
        timedelta(seconds=8),
        timedelta(minutes=10),
    ]
    assert backoff(RetryPolicy(initial_interval=timedelta(seconds=1)), 50) == timedelta(seconds=100)
