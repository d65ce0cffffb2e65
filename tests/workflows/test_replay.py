"""Every recorded history (tickets, broadcasts, reports, account messages) must replay on the
current workflow code."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.worker import Replayer

from domain.messages import TicketWorkflowInput
from security.payload_codec import ENCODING, PayloadKeys, new_key_line
from tests.support.payload_keys import TEST_CONVERTER
from ticketflow.temporal import data_converter
from workflows.replay import load_history, replay_files

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
TICKET_HISTORIES = [p for p in HISTORIES if p.stem.startswith("lifecycle-")]
# Recorded with the tests' payload key (tests/workflows/histories/test-payload-keys).
ENCRYPTED = [p for p in HISTORIES if p.stem.startswith("lifecycle-encrypted-")]
ACCOUNT_MESSAGES = [p for p in HISTORIES if p.stem.startswith("account-")]


def test_the_corpus_is_not_empty() -> None:
    assert TICKET_HISTORIES, "record one with TICKETFLOW_RECORD_HISTORY=<name> pytest tests/workers"
    assert len(TICKET_HISTORIES) < len(HISTORIES), (
        "record a broadcast with TICKETFLOW_RECORD_HISTORY=<name> "
        "pytest tests/workflows/test_broadcast_workflow.py -k fold"
    )


def test_the_corpus_holds_an_encrypted_history() -> None:
    assert ENCRYPTED, (
        "record one with TICKETFLOW_RECORD_HISTORY=lifecycle-encrypted-v<n> "
        "pytest tests/workers/test_ticket_worker.py -k lifecycle"
    )


@pytest.mark.parametrize("path", ENCRYPTED, ids=[p.stem for p in ENCRYPTED])
def test_an_encrypted_history_holds_no_ticket_text(path: Path) -> None:
    stored = b"".join(e.SerializeToString() for e in load_history(path).events)
    assert ENCODING in stored
    assert b"VPN drops" not in stored  # the recorded ticket's title


def test_the_corpus_holds_an_account_message() -> None:
    assert ACCOUNT_MESSAGES, (
        "record one with TICKETFLOW_RECORD_HISTORY=account-v<n> "
        "pytest tests/workflows/test_account_workflow.py -k reaches"
    )


@pytest.mark.parametrize("path", ACCOUNT_MESSAGES, ids=[p.stem for p in ACCOUNT_MESSAGES])
def test_an_account_message_history_holds_no_link(path: Path) -> None:
    """The link is in the workflow's input: sealed by the payload codec, never in clear."""
    stored = b"".join(e.SerializeToString() for e in load_history(path).events)
    assert ENCODING in stored
    assert b"token=" not in stored
    assert b"Reset your password" not in stored  # the recorded message's subject


@pytest.mark.parametrize("path", ENCRYPTED[:1], ids=[p.stem for p in ENCRYPTED[:1]])
async def test_an_encrypted_history_needs_its_key_to_replay(path: Path) -> None:
    other_keys = data_converter(PayloadKeys.parse(new_key_line("other")), for_replay=True)
    [outcome] = await replay_files([path], other_keys)
    assert not outcome.ok
    assert "ticketflow-test" in (outcome.error or "")
    assert "not among the configured keys" in (outcome.error or "")


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_on_current_code(path: Path) -> None:
    [outcome] = await replay_files([path], TEST_CONVERTER)
    assert outcome.ok, outcome.error


@workflow.defn(name="TicketWorkflow", sandboxed=False)
class DriftedTicketWorkflow:
    """A rewrite that forgot to write the read model first: it must not pass replay."""

    @workflow.run
    async def run(self, input: TicketWorkflowInput) -> None:
        await workflow.sleep(timedelta(hours=1))


@pytest.mark.parametrize("path", TICKET_HISTORIES[:1], ids=[p.stem for p in TICKET_HISTORIES[:1]])
async def test_replay_catches_a_changed_command_sequence(path: Path) -> None:
    replayer = Replayer(workflows=[DriftedTicketWorkflow], data_converter=TEST_CONVERTER)
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(load_history(path))
