"""A test's workflow history: it must replay on the current code, and can join the corpus.

Set TICKETFLOW_RECORD_HISTORY=<name> to save it as `tests/workflows/histories/<name>.json`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from tests.support.payload_keys import TEST_CONVERTER
from workflows.replay import replay_histories_from_json

HISTORIES = Path(__file__).parents[1] / "workflows" / "histories"


async def replays_and_is_kept(handle: WorkflowHandle[Any, Any]) -> None:
    history = await handle.fetch_history()
    outcomes = await replay_histories_from_json(
        [(history.workflow_id, history.to_json())], TEST_CONVERTER
    )
    assert all(o.ok for o in outcomes), outcomes
    if name := os.environ.get("TICKETFLOW_RECORD_HISTORY"):
        (HISTORIES / f"{name}.json").write_text(history.to_json())
