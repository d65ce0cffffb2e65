from __future__ import annotations

from activities.channels import Channels, Receipt
from activities.channels.email import message_id
from tests.activities.channels.conftest import (
    KEY,
    MAIL_DOMAIN,
    MAIL_FROM,
    SENDGRID_KEY,
    SENDGRID_PATH,
    make_message,
)
from tests.support.standin import Answer, StandIn


async def test_mail_carries_key_thread_id_and_ticket_tag(
    standin: StandIn, channels: Channels
) -> None:
    standin.enqueue(SENDGRID_PATH, Answer(202, headers={"X-Message-Id": "sg-msg-1"}))

    receipt = await channels.send(make_message("email", "ana@example.com"))

    assert receipt == Receipt(provider_message_id="sg-msg-1")
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", SENDGRID_PATH)
    assert request.header("Authorization") == f"Bearer {SENDGRID_KEY}"
    assert request.json() == {
        "from": {"email": MAIL_FROM},
        "personalizations": [{"to": [{"email": "ana@example.com"}]}],
        "subject": "[#42] Ticket assigned to you",
        "content": [
            {
                "type": "text/plain",
                "value": "Printer on floor 3 is jammed.\n\nhttps://help.example.com/tickets/42",
            }
        ],
        "headers": {
            "Message-ID": (
                "<ticket-42.7.assigned.0b7f3c1e-5d55-4c5c-9a43-2f0d9c1b6e10.email"
                f".ticket-42@{MAIL_DOMAIN}>"
            )
        },
        "custom_args": {"idempotency_key": f"{KEY}/email"},
    }


async def test_subject_already_tagged_is_left_alone(standin: StandIn, channels: Channels) -> None:
    await channels.send(make_message("email", "ana@example.com", subject="Re: [#42] Jammed"))

    assert standin.requests[0].json()["subject"] == "Re: [#42] Jammed"


async def test_mail_without_ticket_has_no_thread_id_nor_tag(
    standin: StandIn, channels: Channels
) -> None:
    await channels.send(
        make_message("email", "ana@example.com", ticket_number=None, ticket_url=None)
    )

    sent = standin.requests[0].json()
    assert sent["subject"] == "Ticket assigned to you"
    assert "headers" not in sent
    assert sent["content"][0]["value"] == "Printer on floor 3 is jammed."


def test_message_id_is_a_valid_msg_id_whatever_the_key() -> None:
    assert message_id("a b/<c>@d", 7, "x.test") == "<a.b.c.d.ticket-7@x.test>"
    assert message_id("///", 7, "x.test") == "<notification.ticket-7@x.test>"
