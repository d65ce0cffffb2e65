"""SendGrid and Twilio played by one local stand-in, and what a person finds in their mailbox
or on their phone: the tests of account messages read links and codes from there, never from
the database or the logs.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from pydantic import SecretStr

from tests.support.standin import Answer, RecordedRequest, StandIn
from ticketflow.settings import Settings

SENDGRID_PATH = "/v3/mail/send"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_FROM = "+15005550006"
TWILIO_PATH = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
_CREATED = {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}
_TOKEN = re.compile(r"token=([A-Za-z0-9_-]{16,})")
_CODE = re.compile(r"\b(\d{6})\b")


def start_providers() -> StandIn:
    """A started stand-in answering SendGrid's and Twilio's send calls as they do."""
    standin = StandIn()
    standin.start()
    standin.route(SENDGRID_PATH, Answer(202, headers={"X-Message-Id": "sg-message"}))
    standin.route(TWILIO_PATH, Answer(201, payload=_CREATED))
    return standin


def sending_to(settings: Settings, standin: StandIn, twilio_token: str) -> Settings:
    """`settings` with e-mail and SMS sent to the stand-in (the Twilio token also signs
    inbound webhooks, so the caller chooses it)."""
    return settings.model_copy(
        update={
            "sendgrid_api_key": SecretStr("SG.account-tests"),
            "sendgrid_base_url": standin.url,
            "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": SecretStr(twilio_token),
            "twilio_from": TWILIO_FROM,
            "twilio_base_url": standin.url,
        }
    )


def _mail_text(request: RecordedRequest) -> tuple[str, str]:
    mail: dict[str, Any] = request.json()
    to = mail["personalizations"][0]["to"][0]["email"]
    text = "\n".join(part["value"] for part in mail["content"])
    return to, f"{mail['subject']}\n{text}"


def mails_to(standin: StandIn, address: str) -> list[str]:
    """Subject and text of every e-mail sent to `address`, oldest first."""
    found = (_mail_text(r) for r in standin.requests_to(SENDGRID_PATH))
    return [text for to, text in found if to.lower() == address.lower()]


def texts_to(standin: StandIn, number: str) -> list[str]:
    """Every SMS sent to `number`, oldest first."""
    forms = (r.form() for r in standin.requests_to(TWILIO_PATH))
    return [form["Body"][0] for form in forms if form["To"][0] == number]


async def _arrived(find: Any, within: float) -> str:
    for _ in range(int(within / 0.05)):
        if found := find():
            last: str = found[-1]
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing arrived within {within} s")


async def mail_to(
    standin: StandIn, address: str, containing: str = "token=", within: float = 20.0
) -> str:
    """The latest e-mail to `address` that holds `containing` (a link), once one has arrived."""
    return await _arrived(
        lambda: [m for m in mails_to(standin, address) if containing in m], within
    )


async def text_to(standin: StandIn, number: str, within: float = 20.0) -> str:
    """The latest SMS to `number`, once one has arrived."""
    return await _arrived(lambda: texts_to(standin, number), within)


def link_token(text: str) -> str:
    """The token of the link in a message (`…?token=<token>`)."""
    found = _TOKEN.search(text)
    assert found, f"no link in {text!r}"
    return found[1]


def six_digit_code(text: str) -> str:
    found = _CODE.search(text)
    assert found, f"no code in {text!r}"
    return found[1]
