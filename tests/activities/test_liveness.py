"""Heartbeats while an activity waits on someone else."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from activities.liveness import heartbeating

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def slow_send() -> str:
    async with heartbeating():
        await asyncio.sleep(0.5)
    return "sent"


def environment(heartbeat_timeout: timedelta | None) -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=heartbeat_timeout)
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


async def test_a_slow_wait_heartbeats_several_times_per_timeout() -> None:
    env, beats = environment(timedelta(milliseconds=100))

    assert await env.run(slow_send) == "sent"
    # Every 25 ms for 500 ms: 20, or fewer on a loaded machine, never more.
    assert 3 <= len(beats) <= 21


async def test_without_a_heartbeat_timeout_nothing_beats() -> None:
    env, beats = environment(None)

    assert await env.run(slow_send) == "sent"
    assert beats == []


async def test_the_beating_stops_with_the_body() -> None:
    env, beats = environment(timedelta(milliseconds=100))
    await env.run(slow_send)
    after = len(beats)

    await asyncio.sleep(0.1)
    assert len(beats) == after
