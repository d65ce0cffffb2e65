"""Every provider played by one local stand-in; the real SDKs talk to it over HTTP."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from activities.channels import Channels, OutboundMessage
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings

SENDGRID_KEY = "SG.test-key"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-test-token"
TWILIO_FROM = "+15005550006"
SLACK_TOKEN = "xoxb-test-token"
FIREBASE_PROJECT = "ticketflow-test"
FIREBASE_CLIENT_EMAIL = f"fcm@{FIREBASE_PROJECT}.iam.gserviceaccount.com"
GOOGLE_ACCESS_TOKEN = "ya29.test-access-token"
MAIL_FROM = "support@ticketflow.test"
MAIL_DOMAIN = "mail.ticketflow.test"
KEY = "ticket-42/7/assigned/0b7f3c1e-5d55-4c5c-9a43-2f0d9c1b6e10"

SENDGRID_PATH = "/v3/mail/send"
TWILIO_PATH = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
FCM_PATH = f"/v1/projects/{FIREBASE_PROJECT}/messages:send"
TOKEN_PATH = "/oauth2/token"
SLACK_PATH = "/slack/api/chat.postMessage"
TEAMS_PATH = "/teams/workflows/webhook"

# Where each channel's request lands on the stand-in.
PATHS = {
    "email": SENDGRID_PATH,
    "sms": TWILIO_PATH,
    "push": FCM_PATH,
    "slack": SLACK_PATH,
    "teams": TEAMS_PATH,
}
RECIPIENTS = {
    "email": "ana@example.com",
    "sms": "+34600111222",
    "push": "device-registration-token",
    "slack": "U024BE7LH",
}

SettingsFor = Callable[..., Settings]


def failure(channel: str, status: int, headers: dict[str, str] | None = None) -> Answer:
    """An error answer shaped like the provider's own, saying "scripted failure"."""
    bodies: dict[str, Any] = {
        "email": {"errors": [{"message": "scripted failure", "field": None, "help": None}]},
        "sms": {"code": 21211, "message": "scripted failure", "status": status},
        "push": {"error": {"code": status, "message": "scripted failure", "status": "FAILED"}},
        "slack": {"ok": False, "error": "scripted failure"},
    }
    if channel == "teams":
        return Answer(status, body=b"scripted failure", headers=headers or {})
    return Answer(status, payload=bodies[channel], headers=headers or {})


def make_message(channel: str, to: str, **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "idempotency_key": f"{KEY}/{channel}",
        "channel": channel,
        "to": to,
        "subject": "Ticket assigned to you",
        "body": "Printer on floor 3 is jammed.",
        "ticket_number": 42,
        "ticket_url": "https://help.example.com/tickets/42",
    }
    return OutboundMessage.model_validate(values | fields)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        server.route(
            TOKEN_PATH,
            Answer(
                payload={
                    "access_token": GOOGLE_ACCESS_TOKEN,
                    "expires_in": 3600,
                    "token_type": "Bearer",
                }
            ),
        )
        yield server


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def service_account(tmp_path: Path, standin: StandIn, private_key_pem: str) -> Path:
    """A service-account file whose token endpoint is the stand-in."""
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": FIREBASE_PROJECT,
                "private_key_id": "test-key-1",
                "private_key": private_key_pem,
                "client_email": FIREBASE_CLIENT_EMAIL,
                "client_id": "100000000000000000001",
                "token_uri": f"{standin.url}{TOKEN_PATH}",
            }
        )
    )
    return path


@pytest.fixture
def settings_for(standin: StandIn, service_account: Path) -> SettingsFor:
    """Settings with every provider at the stand-in; keyword arguments override fields."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "mail_from": MAIL_FROM,
            "mail_domain": MAIL_DOMAIN,
            "sendgrid_api_key": SENDGRID_KEY,
            "sendgrid_base_url": standin.url,
            "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_from": TWILIO_FROM,
            "twilio_base_url": standin.url,
            "firebase_credentials": str(service_account),
            "fcm_base_url": standin.url,
            "slack_bot_token": SLACK_TOKEN,
            "slack_api_url": f"{standin.url}/slack/api/",
            # The Teams webhook is the stand-in on 127.0.0.1, allowed as an operator would.
            "outbound_allow": "127.0.0.1/32",
        }
        # model_validate skips the environment and .env: only these values and the defaults.
        return Settings.model_validate(values | overrides)

    return build


@pytest_asyncio.fixture
async def channels(settings_for: SettingsFor) -> AsyncIterator[Channels]:
    built = Channels(settings_for())
    yield built
    await built.aclose()


@pytest.fixture
def closed_port_url() -> str:
    """A URL nothing listens on: the port was bound and released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
