"""What a ticket says never reaches Temporal in clear: its history, its Web UI card.

A ticket goes through the API and the real worker on the dev server; then its history is read
raw (as the server stores it, nothing decoded) and searched, byte for byte, for every text a
person wrote: the title, the description, a reply, a private note, the solution.
"""

from __future__ import annotations

from uuid import uuid4

import httpx
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import QueryWorkflowRequest
from temporalio.testing import WorkflowEnvironment

from tests.api.conftest import Desk
from tests.api.test_tickets import V1, eventually, open_ticket

pytestmark = pytest.mark.usefixtures("worker")


async def test_ticket_texts_are_not_in_clear_in_temporal(
    api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment
) -> None:
    marker = uuid4().hex
    texts = {
        "title": f"Laptop of Ana Pérez {marker}",
        "description": f"Her disk died; she lives at 12 Elm St {marker}",
        "reply": f"Bring it to room 4 {marker}",
        "note": f"Ana is on medical leave next week {marker}",
        "solution": f"Disk replaced under warranty {marker}",
    }
    ticket = await open_ticket(api, desk, title=texts["title"], description=texts["description"])
    number = ticket["number"]
    for body, private in ((texts["reply"], False), (texts["note"], True)):
        said = await api.post(
            f"{V1}/tickets/{number}/comment",
            json={"body": body, "private": private},
            headers=desk.agent.auth,
        )
        assert said.status_code == 201, said.text
    resolved = await api.post(
        f"{V1}/tickets/{number}/resolve",
        json={"solution": texts["solution"]},
        headers=desk.agent.auth,
    )
    assert resolved.status_code == 200, resolved.text

    async def caught_up() -> bool:
        seen = await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)
        return bool(seen.json()["status"] == "resolved")

    await eventually(caught_up)

    # The API still answers in clear: it decrypts what it reads back.
    seen = (await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)).json()
    assert (seen["title"], seen["description"]) == (texts["title"], texts["description"])
    assert seen["solution"] == texts["solution"]
    comments = await api.get(f"{V1}/tickets/{number}/comments", headers=desk.agent.auth)
    assert {c["body"] for c in comments.json()["items"]} == {texts["reply"], texts["note"]}

    workflow_id = f"ticket-{number}"
    history = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
    stored = b"".join(event.SerializeToString() for event in history.events)
    card = await _raw_metadata_query(dev_env, workflow_id)
    assert marker.encode() not in card  # the Web UI's details card (current details)
    for name, text in texts.items():
        for needle in (text, marker):
            assert needle.encode() not in stored, f"the {name} is in clear in the history"


async def _raw_metadata_query(dev_env: WorkflowEnvironment, workflow_id: str) -> bytes:
    """The answer to the Web UI's metadata query (summary and details card), undecoded."""
    client = dev_env.client
    answer = await client.workflow_service.query_workflow(
        QueryWorkflowRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id),
            query=WorkflowQuery(query_type="__temporal_workflow_metadata"),
        )
    )
    assert answer.query_result.payloads, "the metadata query answered nothing"
    return answer.query_result.SerializeToString()
