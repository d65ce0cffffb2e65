"""What an activity knows of its own retries."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.common import RetryPolicy


def is_last_attempt(retry_after: timedelta | None = None) -> bool:
    """Whether Temporal will not try this activity again if this attempt fails.

    That is so on the retry policy's last attempt, and also when the next attempt would start
    past the schedule-to-close deadline: a long outage runs out of time well before it runs
    out of attempts, and the row must still end `failed`, not `pending` for good.
    `retry_after` is the delay this attempt asks for (a provider's `Retry-After`), if any.
    """
    info = activity.info()
    policy = info.retry_policy
    if policy is None:
        return False
    if 0 < policy.maximum_attempts <= info.attempt:
        return True
    if info.schedule_to_close_timeout is None:
        return False
    deadline = info.scheduled_time + info.schedule_to_close_timeout
    delay = retry_after if retry_after is not None else backoff(policy, info.attempt)
    return datetime.now(UTC) + delay > deadline


def backoff(policy: RetryPolicy, attempt: int) -> timedelta:
    """The wait Temporal puts between attempt `attempt` and the next, under `policy`."""
    # Unset, the server caps the wait at 100 times the first one.
    ceiling = policy.maximum_interval or policy.initial_interval * 100
    first = policy.initial_interval.total_seconds()
    # Capped in seconds first: the uncapped wait of a late attempt overflows a timedelta.
    try:
        uncapped = first * policy.backoff_coefficient ** (attempt - 1)
    except OverflowError:
        uncapped = math.inf
    return timedelta(seconds=min(uncapped, ceiling.total_seconds()))
