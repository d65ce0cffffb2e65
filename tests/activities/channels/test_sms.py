from __future__ import annotations

import base64

from activities.channels import Channels, Receipt
from activities.channels.sms import SMS_MAX_CHARS
from tests.activities.channels.conftest import (
    TWILIO_FROM,
    TWILIO_PATH,
    TWILIO_SID,
    TWILIO_TOKEN,
    make_message,
)
from tests.support.standin import Answer, StandIn

CREATED = {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}


async def test_sms_is_created_from_the_configured_number(
    standin: StandIn, channels: Channels
) -> None:
    standin.enqueue(TWILIO_PATH, Answer(201, payload=CREATED))

    receipt = await channels.send(make_message("sms", "+34600111222"))

    assert receipt == Receipt(provider_message_id=CREATED["sid"])
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", TWILIO_PATH)
    credentials = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert request.header("Authorization") == f"Basic {credentials}"
    assert request.form() == {
        "To": ["+34600111222"],
        "From": [TWILIO_FROM],
        "Body": [
            "Ticket assigned to you\nPrinter on floor 3 is jammed.\n"
            "https://help.example.com/tickets/42"
        ],
    }


async def test_long_body_is_trimmed_and_the_link_kept(standin: StandIn, channels: Channels) -> None:
    standin.enqueue(TWILIO_PATH, Answer(201, payload=CREATED))

    await channels.send(make_message("sms", "+34600111222", body="x" * 5000))

    [body] = standin.requests[0].form()["Body"]
    assert len(body) == SMS_MAX_CHARS
    assert body.endswith("x…\nhttps://help.example.com/tickets/42")
