from __future__ import annotations

import pytest

from activities.channels import Channels, ProviderRejected, ProviderUnavailable, Receipt
from tests.activities.channels.conftest import TEAMS_PATH, make_message
from tests.support.standin import Answer, StandIn


async def test_card_posted_to_the_webhook_links_to_the_ticket(
    standin: StandIn, channels: Channels
) -> None:
    standin.enqueue(TEAMS_PATH, Answer(202, headers={"x-ms-workflow-run-id": "run-1"}))

    receipt = await channels.send(make_message("teams", f"{standin.url}{TEAMS_PATH}"))

    assert receipt == Receipt(provider_message_id="run-1")
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", TEAMS_PATH)
    assert request.header("Content-Type") == "application/json"
    sent = request.json()
    assert sent["type"] == "message"
    [attachment] = sent["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert [block["text"] for block in card["body"]] == [
        "Ticket assigned to you",
        "Printer on floor 3 is jammed.",
    ]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "#42", "url": "https://help.example.com/tickets/42"}
    ]


@pytest.mark.parametrize(
    ("wrapped_status", "error"), [(400, ProviderRejected), (429, ProviderUnavailable)]
)
async def test_failure_wrapped_in_a_200_by_legacy_connectors_is_seen(
    standin: StandIn,
    channels: Channels,
    wrapped_status: int,
    error: type[Exception],
) -> None:
    text = (
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned "
        f"HTTP error {wrapped_status} with ContextId tcid=0,server=msgapi-1,cv=x.0.."
    )
    standin.enqueue(TEAMS_PATH, Answer(200, body=text.encode()))

    with pytest.raises(error):
        await channels.send(make_message("teams", f"{standin.url}{TEAMS_PATH}"))


async def test_unusable_webhook_url_is_final(channels: Channels) -> None:
    with pytest.raises(ProviderRejected):
        await channels.send(make_message("teams", "ftp://example.com/hook"))
