"""Outbound notification channels, each through its provider's own SDK.

`Channels` is built once per worker from the settings. A channel whose credentials are unset
records instead of sending (`Receipt(recorded_only=True)`); every provider failure surfaces
as `ProviderRejected` (final) or `ProviderUnavailable` (retry, maybe after `retry_after`).
"""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from activities.channels.base import (
    Channel,
    ChannelName,
    OutboundMessage,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
    RecordOnlyChannel,
)
from activities.channels.email import EmailChannel
from activities.channels.push import PushChannel
from activities.channels.slack import SlackChannel
from activities.channels.sms import SmsChannel
from activities.channels.teams import TeamsChannel
from security.outbound import OutboundGuard
from ticketflow.settings import Settings

__all__ = [
    "CREDENTIALS",
    "Channel",
    "ChannelName",
    "Channels",
    "OutboundMessage",
    "ProviderError",
    "ProviderRejected",
    "ProviderUnavailable",
    "Receipt",
    "email_channel",
]

# What each channel needs set before it sends (Teams' webhook URL is its own credential).
CREDENTIALS: dict[str, str] = {
    "email": "SENDGRID_API_KEY",
    "sms": "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM",
    "push": "FIREBASE_CREDENTIALS",
    "slack": "SLACK_BOT_TOKEN",
}


class Channels:
    """Every channel, configured from the settings; `send` picks one by `message.channel`."""

    def __init__(self, settings: Settings) -> None:
        self._email = email_channel(settings)
        self._sms = _sms(settings)
        self._push = _push(settings)
        self._by_name: dict[str, Channel] = {
            "email": self._email or RecordOnlyChannel(),
            "sms": self._sms or RecordOnlyChannel(),
            "push": self._push or RecordOnlyChannel(),
            "slack": _slack(settings) or RecordOnlyChannel(),
            "teams": TeamsChannel(OutboundGuard.allowing(settings.outbound_allow)),
        }

    async def send(self, message: OutboundMessage) -> Receipt:
        """Send through the message's channel, or only record it when that channel is off."""
        return await self._by_name[message.channel].send(message)

    def configured(self, channel: str) -> bool:
        """Whether `channel` really sends (has credentials); unknown names are not configured."""
        found = self._by_name.get(channel)
        return found is not None and not isinstance(found, RecordOnlyChannel)

    def recording_only(self) -> list[str]:
        """The channels that only record their messages, for want of credentials."""
        return [name for name in CREDENTIALS if not self.configured(name)]

    async def aclose(self) -> None:
        """Release pooled connections and the Firebase app; the worker calls it on shutdown."""
        if self._sms is not None:
            await asyncio.to_thread(self._sms.close)
        if self._push is not None:
            await asyncio.to_thread(self._push.close)
            self._push = None


def _secret(value: SecretStr | None) -> str | None:
    # An empty variable in the environment means "not configured", like an absent one.
    if value is None:
        return None
    return value.get_secret_value() or None


def email_channel(settings: Settings) -> EmailChannel | None:
    """SendGrid e-mail, or None without an API key (messages are then recorded only)."""
    api_key = _secret(settings.sendgrid_api_key)
    if api_key is None:
        return None
    return EmailChannel(
        api_key, settings.mail_from, settings.mail_domain, settings.sendgrid_base_url
    )


def _sms(settings: Settings) -> SmsChannel | None:
    sid, token = settings.twilio_account_sid, _secret(settings.twilio_auth_token)
    if not (sid and token and settings.twilio_from):
        return None
    return SmsChannel(sid, token, settings.twilio_from, settings.twilio_base_url)


def _push(settings: Settings) -> PushChannel | None:
    if not settings.firebase_credentials:
        return None
    return PushChannel(settings.firebase_credentials, settings.fcm_base_url)


def _slack(settings: Settings) -> SlackChannel | None:
    token = _secret(settings.slack_bot_token)
    if token is None:
        return None
    return SlackChannel(token, settings.slack_api_url)
