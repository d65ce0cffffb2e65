"""Broadcasts: telling every open ticket that something each carries a copy of has changed.

A ticket opens with a copy of the SLA policies and automation rules in force. When an admin
changes them, every running ticket gets the new set in one Temporal batch signal. Which
signal is which kind of broadcast, and how the broadcast workflow and its activity talk.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

BROADCAST_ACTIVITY = "broadcast_to_open_tickets"


class Broadcast(StrEnum):
    """What changed; the value is the ticket workflow's signal that carries the new set."""

    RULES = "rules_changed"
    POLICIES = "policy_changed"

    @property
    def summary(self) -> str:
        """What the broadcast workflow does, as the Web UI's workflow list shows it."""
        sent = "automation rules" if self is Broadcast.RULES else "SLA policies"
        return f"Sends the {sent} in force to every open ticket"

    def workflow_id(self, task_queue: str) -> str:
        """One broadcast workflow per kind, so broadcasts of a kind go out one after another.

        Named after the task queue as well: the workflow runs where the worker of the tickets
        it serves polls, and one left waiting on another queue would never run.
        """
        return f"broadcast-{self.value}-{task_queue}"


class BroadcastRun(BaseModel):
    kind: Broadcast
    sent: int = 0  # broadcasts done by earlier runs of this workflow (continue-as-new)
    pending: bool = True  # a change is waiting to go out


class BroadcastSent(BaseModel):
    """One batch signal, done: how many open tickets it reached."""

    job_id: str
    signalled: int
    failed: int
