"""Replays recorded histories (tickets, broadcasts, reports, account messages) against the
current code.

Ops run this before shipping: a history that no longer replays means the new code would
break tickets already running. Histories come from files exported with
`temporal workflow show --output json` (or `WorkflowHistory.to_json`) or from a server.

The data converter is the caller's: histories hold payloads as the clients sealed them, so
replaying needs the keys they were sealed with (ticketflow.temporal.data_converter).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, WorkflowReplayResult

from workflows.account import AccountMessageWorkflow
from workflows.broadcast import BroadcastWorkflow
from workflows.report import ReportWorkflow
from workflows.ticket import TicketWorkflow


@dataclass(frozen=True)
class ReplayOutcome:
    workflow_id: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def replayer(data_converter: DataConverter) -> Replayer:
    return Replayer(
        workflows=[TicketWorkflow, BroadcastWorkflow, ReportWorkflow, AccountMessageWorkflow],
        data_converter=data_converter,
    )


def load_history(path: Path) -> WorkflowHistory:
    """A history file; the workflow id is the file's stem (e.g. `ticket-42.json`)."""
    return WorkflowHistory.from_json(path.stem, path.read_text())


def _outcome(result: WorkflowReplayResult) -> ReplayOutcome:
    error = None if result.replay_failure is None else repr(result.replay_failure)
    return ReplayOutcome(result.history.workflow_id, error)


async def _replay(
    histories: AsyncIterator[WorkflowHistory], data_converter: DataConverter
) -> list[ReplayOutcome]:
    async with replayer(data_converter).workflow_replay_iterator(histories) as results:
        return [_outcome(result) async for result in results]


async def _each(histories: Iterable[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


async def replay_files(paths: Iterable[Path], data_converter: DataConverter) -> list[ReplayOutcome]:
    return await _replay(_each(load_history(path) for path in paths), data_converter)


async def replay_histories_from_json(
    items: Iterable[tuple[str, str]], data_converter: DataConverter
) -> list[ReplayOutcome]:
    """Replay `(workflow_id, history JSON)` pairs."""
    histories = _each(WorkflowHistory.from_json(wid, text) for wid, text in items)
    return await _replay(histories, data_converter)


async def replay_from_server(
    client: Client, query: str, data_converter: DataConverter
) -> list[ReplayOutcome]:
    """Replay every workflow the visibility `query` finds (e.g. `WorkflowType='TicketWorkflow'`)."""
    return await _replay(client.list_workflows(query).map_histories(), data_converter)
