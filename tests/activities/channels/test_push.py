from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from activities.channels import Channels, ProviderRejected, Receipt
from tests.activities.channels.conftest import (
    FCM_PATH,
    FIREBASE_CLIENT_EMAIL,
    GOOGLE_ACCESS_TOKEN,
    KEY,
    TOKEN_PATH,
    make_message,
)
from tests.support.standin import Answer, StandIn

SENT = {"name": "projects/ticketflow-test/messages/0:1700000000000000%abc"}


async def test_push_goes_to_the_device_with_key_and_ticket_as_data(
    standin: StandIn, channels: Channels
) -> None:
    standin.enqueue(FCM_PATH, Answer(payload=SENT))

    receipt = await channels.send(make_message("push", "device-registration-token"))

    assert receipt == Receipt(provider_message_id=SENT["name"])
    [request] = standin.requests_to(FCM_PATH)
    assert request.method == "POST"
    assert request.header("Authorization") == f"Bearer {GOOGLE_ACCESS_TOKEN}"
    assert request.json() == {
        "message": {
            "token": "device-registration-token",
            "notification": {
                "title": "Ticket assigned to you",
                "body": "Printer on floor 3 is jammed.",
            },
            "data": {
                "idempotency_key": f"{KEY}/push",
                "ticket_number": "42",
                "ticket_url": "https://help.example.com/tickets/42",
            },
        }
    }


async def test_access_token_is_obtained_with_the_service_account_key(
    standin: StandIn, channels: Channels, private_key_pem: str
) -> None:
    standin.enqueue(FCM_PATH, Answer(payload=SENT))

    await channels.send(make_message("push", "device-registration-token"))

    [token_request] = standin.requests_to(TOKEN_PATH)
    form = token_request.form()
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    private_key = serialization.load_pem_private_key(private_key_pem.encode(), None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    claims = jwt.decode(
        form["assertion"][0],
        private_key.public_key(),
        algorithms=["RS256"],
        options={"verify_aud": False},
    )
    assert claims["iss"] == FIREBASE_CLIENT_EMAIL


async def test_urgent_push_is_high_priority_on_android_and_ios(
    standin: StandIn, channels: Channels
) -> None:
    standin.enqueue(FCM_PATH, Answer(payload=SENT))

    await channels.send(make_message("push", "device-registration-token", urgent=True))

    sent = standin.requests_to(FCM_PATH)[0].json()["message"]
    assert sent["android"] == {"priority": "high"}
    assert sent["apns"] == {"headers": {"apns-priority": "10"}}


async def test_unregistered_device_is_rejected(standin: StandIn, channels: Channels) -> None:
    standin.enqueue(
        FCM_PATH,
        Answer(
            404,
            payload={
                "error": {
                    "code": 404,
                    "message": "Requested entity was not found.",
                    "status": "NOT_FOUND",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                            "errorCode": "UNREGISTERED",
                        }
                    ],
                }
            },
        ),
    )

    with pytest.raises(ProviderRejected) as raised:
        await channels.send(make_message("push", "stale-token"))

    assert (raised.value.status, raised.value.detail) == (404, "Requested entity was not found.")
