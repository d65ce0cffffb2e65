"""What an activity knows of its own retries."""

from __future__ import annotations

from temporalio import activity


def is_last_attempt() -> bool:
    """Whether Temporal will not try this activity again if this attempt fails."""
    info = activity.info()
    policy = info.retry_policy
    return policy is not None and 0 < policy.maximum_attempts <= info.attempt
