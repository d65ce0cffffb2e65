"""What every channel shares: dispatch, failure mapping, and recording without credentials."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.channels import (
    Channels,
    OutboundMessage,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
)
from tests.activities.channels.conftest import (
    PATHS,
    RECIPIENTS,
    TEAMS_PATH,
    SettingsFor,
    failure,
    make_message,
)
from tests.support.standin import StandIn

CHANNELS = ["email", "sms", "push", "slack", "teams"]


def message_for(channel: str, base_url: str) -> OutboundMessage:
    return make_message(channel, RECIPIENTS.get(channel, f"{base_url}{TEAMS_PATH}"))


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("status", [400, 404, 422])
async def test_client_error_is_final(
    standin: StandIn, channels: Channels, channel: str, status: int
) -> None:
    standin.enqueue(PATHS[channel], failure(channel, status))

    with pytest.raises(ProviderRejected) as raised:
        await channels.send(message_for(channel, standin.url))

    assert (raised.value.status, raised.value.detail) == (status, "scripted failure")
    assert len(standin.requests_to(PATHS[channel])) == 1


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("status", [500, 503])
async def test_server_error_is_retryable_and_not_retried_inside_the_sdk(
    standin: StandIn, channels: Channels, channel: str, status: int
) -> None:
    standin.enqueue(PATHS[channel], failure(channel, status))

    with pytest.raises(ProviderUnavailable) as raised:
        await channels.send(message_for(channel, standin.url))

    assert (raised.value.status, raised.value.retry_after) == (status, None)
    assert raised.value.detail == "scripted failure"
    assert len(standin.requests_to(PATHS[channel])) == 1


@pytest.mark.parametrize("channel", CHANNELS)
async def test_rate_limit_is_retryable_after_the_asked_wait(
    standin: StandIn, channels: Channels, channel: str
) -> None:
    standin.enqueue(PATHS[channel], failure(channel, 429, headers={"Retry-After": "7"}))

    with pytest.raises(ProviderUnavailable) as raised:
        await channels.send(message_for(channel, standin.url))

    assert raised.value.status == 429
    assert raised.value.retry_after == timedelta(seconds=7)
    assert len(standin.requests_to(PATHS[channel])) == 1


@pytest.mark.parametrize("channel", CHANNELS)
async def test_unreachable_provider_is_retryable(
    standin: StandIn, settings_for: SettingsFor, closed_port_url: str, channel: str
) -> None:
    channels = Channels(
        settings_for(
            sendgrid_base_url=closed_port_url,
            twilio_base_url=closed_port_url,
            fcm_base_url=closed_port_url,
            slack_api_url=f"{closed_port_url}/api/",
        )
    )
    try:
        with pytest.raises(ProviderUnavailable) as raised:
            await channels.send(message_for(channel, closed_port_url))
    finally:
        await channels.aclose()

    assert raised.value.status is None


@pytest.mark.parametrize("channel", ["email", "sms", "push", "slack"])
async def test_channel_without_credentials_records_and_sends_nothing(
    standin: StandIn, settings_for: SettingsFor, channel: str
) -> None:
    channels = Channels(
        settings_for(
            sendgrid_api_key=None,
            twilio_auth_token=None,
            firebase_credentials=None,
            slack_bot_token=None,
        )
    )

    receipt = await channels.send(message_for(channel, standin.url))

    assert receipt == Receipt(recorded_only=True)
    assert not channels.configured(channel)
    assert standin.requests == []
    await channels.aclose()


async def test_empty_credentials_count_as_unset(settings_for: SettingsFor) -> None:
    channels = Channels(settings_for(sendgrid_api_key="", slack_bot_token="", twilio_from=""))

    assert [name for name in CHANNELS if channels.configured(name)] == ["push", "teams"]
    await channels.aclose()


def test_every_channel_with_credentials_is_configured(channels: Channels) -> None:
    assert all(channels.configured(name) for name in CHANNELS)
    assert not channels.configured("in_app")
