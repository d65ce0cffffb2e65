"""The words of account messages: every purpose in both languages on the channels it uses,
the link or code in each, and a row text that holds neither."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.account_notices import REDACTED, compose_account, has_text, valid_for
from domain.accounts import AccountMessage, AccountPurpose, account_workflow_id
from domain.enums import Locale

VALUES = {
    "name": "Ana",
    "address": "ana@example.com",
    "login": "ana@example.com",
    "link": "https://help.example.com/reset-password?token=SECRET-TOKEN",
    "code": "123456",
    "valid_for": "1 hour",
}
SENT = [
    (purpose, channel)
    for purpose in AccountPurpose
    for channel in ("email", "sms")
    if has_text(purpose, channel)
]


def test_links_go_by_email_and_codes_by_text() -> None:
    link_purposes = {p for p in AccountPurpose if p is not AccountPurpose.PHONE_VERIFICATION}
    assert {p for p, c in SENT if c == "email"} == link_purposes
    assert {p for p, c in SENT if c == "sms"} == {
        AccountPurpose.PASSWORD_RESET,
        AccountPurpose.INVITATION,
        AccountPurpose.PHONE_VERIFICATION,
    }


@pytest.mark.parametrize(("purpose", "channel"), SENT)
def test_each_message_carries_its_secret_in_both_languages(
    purpose: AccountPurpose, channel: str
) -> None:
    secret = "123456" if purpose is AccountPurpose.PHONE_VERIFICATION else "SECRET-TOKEN"
    english = compose_account(purpose, channel, Locale.EN, VALUES)  # type: ignore[arg-type]
    spanish = compose_account(purpose, channel, Locale.ES, VALUES)  # type: ignore[arg-type]
    for notice in (english, spanish):
        assert secret in notice.body and secret not in notice.subject
        assert not re.search(r"\{\w+\}", notice.subject + notice.body)
    assert english.body != spanish.body


@pytest.mark.parametrize("purpose", list(AccountPurpose))
def test_the_row_keeps_a_text_without_placeholders(purpose: AccountPurpose) -> None:
    assert "{" not in REDACTED[purpose] and "not kept" in REDACTED[purpose]


@pytest.mark.parametrize(
    ("ttl", "locale", "said"),
    [
        (timedelta(hours=1), Locale.EN, "1 hour"),
        (timedelta(days=3), Locale.EN, "3 days"),
        (timedelta(days=5), Locale.ES, "5 días"),
        (timedelta(minutes=10), Locale.ES, "10 minutos"),
        (timedelta(minutes=90), Locale.EN, "90 minutes"),
        (timedelta(seconds=5), Locale.EN, "1 minute"),
    ],
)
def test_how_long_a_link_lasts_is_said_in_whole_units(
    ttl: timedelta, locale: Locale, said: str
) -> None:
    assert valid_for(ttl, locale) == said


def test_the_message_never_shows_its_body_in_repr() -> None:
    message = AccountMessage(
        notification_id=uuid4(),
        purpose=AccountPurpose.INVITATION,
        subject="Set a password",
        sealed_body="kid.SEALED-BODY",
        valid_until=datetime.now(UTC),
    )
    assert "SEALED-BODY" not in repr(message) and "SEALED-BODY" not in str(message)
    assert account_workflow_id(message.purpose, message.notification_id).startswith(
        "account-invitation-"
    )
