from __future__ import annotations

from datetime import timedelta

import pytest

from activities.channels import Channels, ProviderRejected, ProviderUnavailable, Receipt
from activities.channels.slack import ticket_blocks
from tests.activities.channels.conftest import KEY, SLACK_PATH, SLACK_TOKEN, make_message
from tests.support.standin import Answer, StandIn

POSTED = {"ok": True, "channel": "D024BE91L", "ts": "1700000000.000100"}


async def test_message_has_ticket_buttons_and_key_in_metadata(
    standin: StandIn, channels: Channels
) -> None:
    standin.enqueue(SLACK_PATH, Answer(payload=POSTED))

    receipt = await channels.send(make_message("slack", "U024BE7LH"))

    assert receipt == Receipt(provider_message_id="D024BE91L:1700000000.000100")
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", SLACK_PATH)
    assert request.header("Authorization") == f"Bearer {SLACK_TOKEN}"
    sent = request.json()
    assert sent["channel"] == "U024BE7LH"
    assert sent["text"] == "Ticket assigned to you"
    assert sent["metadata"] == {
        "event_type": "ticketflow_notification",
        "event_payload": {"idempotency_key": f"{KEY}/slack", "ticket_number": 42},
    }
    section, context, actions = sent["blocks"]
    assert section["text"] == {
        "type": "mrkdwn",
        "text": "*Ticket assigned to you*\nPrinter on floor 3 is jammed.",
    }
    assert context["elements"][0]["text"] == "<https://help.example.com/tickets/42|Ticket #42>"
    assert actions["type"] == "actions"
    assert [(button["action_id"], button["value"]) for button in actions["elements"]] == [
        ("assign_to_me", "42"),
        ("acknowledge", "42"),
        ("resolve", "42"),
    ]


async def test_error_reported_with_ok_false_is_final(standin: StandIn, channels: Channels) -> None:
    standin.enqueue(SLACK_PATH, Answer(payload={"ok": False, "error": "channel_not_found"}))

    with pytest.raises(ProviderRejected) as raised:
        await channels.send(make_message("slack", "C0NOSUCH"))

    assert raised.value.detail == "channel_not_found"


async def test_ratelimited_with_ok_false_is_retried_after_the_wait(
    standin: StandIn, channels: Channels
) -> None:
    standin.enqueue(
        SLACK_PATH,
        Answer(payload={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "3"}),
    )

    with pytest.raises(ProviderUnavailable) as raised:
        await channels.send(make_message("slack", "U024BE7LH"))

    assert raised.value.retry_after == timedelta(seconds=3)


def test_rewritten_message_can_drop_buttons_and_add_a_note() -> None:
    blocks = ticket_blocks(
        subject="a <b> & c",
        body="body",
        ticket_number=42,
        note="Acknowledged by Ana",
        buttons=False,
    )

    assert [block["type"] for block in blocks] == ["section", "context"]
    assert blocks[0]["text"]["text"] == "*a &lt;b&gt; &amp; c*\nbody"
    assert blocks[1]["elements"][0]["text"] == "Acknowledged by Ana"


def test_long_text_is_cut_to_the_section_limit_without_breaking_an_entity() -> None:
    [section] = ticket_blocks(subject="s", body="a" + "&" * 5000)

    text = section["text"]["text"]
    assert len(text) <= 3000
    assert text.endswith("&amp;…")
