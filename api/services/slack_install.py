"""Installing the Slack app into a workspace (OAuth v2): the `slack` integration, made for you.

An admin asks for the authorize URL, approves the app in Slack, and Slack sends the browser
back to `/webhooks/slack/callback` with a code. The code is exchanged with `oauth.v2.access`
(through slack-sdk) for an incoming webhook on the channel the admin chose, which becomes the
`slack` integration: ticket events arrive there as Block Kit messages with the ticket buttons.
The `state` is a short-lived token signed with the API's secret, bound to the admin who asked,
so a callback nobody started is refused. The webhook URL is a credential: it is stored only
encrypted, so both steps need `TICKETFLOW_SECRETS_KEY` and refuse early without it, before
Slack spends a one-time code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID, uuid4

import jwt
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.paths import API_PREFIX
from api.services.integrations import check_receiver
from domain.errors import InvalidInput
from domain.integration_events import TicketEvent
from persistence.models import Integration
from persistence.secrets import SecretBox
from persistence.webhooks import IntegrationFields, save_integration, store_url
from security.outbound import OutboundGuard
from ticketflow.settings import Settings

AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
SCOPES = "incoming-webhook"
PROVIDER = "slack"
STATE_TTL = timedelta(minutes=10)
_STATE_AUDIENCE = "ticketflow:slack-install"
# What a freshly installed Slack channel hears of, until an admin says otherwise.
DEFAULT_EVENTS = [
    TicketEvent.CREATED.value,
    TicketEvent.ASSIGNED.value,
    TicketEvent.SLA_BREACHED.value,
    TicketEvent.INCIDENT_CREATED.value,
]


def _configured(settings: Settings) -> tuple[str, str]:
    if not settings.slack_client_id or settings.slack_client_secret is None:
        raise ApiError(
            503,
            "set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install the Slack app",
            code="not_configured",
        )
    SecretBox(settings.secrets_key)  # raises SecretsUnavailable (503) without a usable key
    return settings.slack_client_id, settings.slack_client_secret.get_secret_value()


def redirect_uri(settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}{API_PREFIX}/webhooks/{PROVIDER}/callback"


def authorize_url(settings: Settings, admin_id: UUID, now: datetime | None = None) -> str:
    """Where to send the admin's browser to approve the app in their workspace."""
    client_id, _ = _configured(settings)
    issued = now or datetime.now(UTC)
    state = settings.link_keys.encode(
        {
            "sub": str(admin_id),
            "aud": _STATE_AUDIENCE,
            "iat": issued,
            "exp": issued + STATE_TTL,
            "jti": str(uuid4()),
        }
    )
    query = {
        "client_id": client_id,
        "scope": SCOPES,
        "redirect_uri": redirect_uri(settings),
        "state": state,
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def _check_state(settings: Settings, state: str) -> None:
    try:
        settings.link_keys.decode(
            state,
            audience=_STATE_AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise ApiError(401, "the install request is unknown or expired; start again") from error


async def complete(session: AsyncSession, settings: Settings, code: str, state: str) -> Integration:
    """Exchange the callback's code for an incoming webhook; save it as the `slack` integration."""
    client_id, client_secret = _configured(settings)
    _check_state(settings, state)
    client = AsyncWebClient(base_url=settings.slack_api_url or AsyncWebClient.BASE_URL)
    try:
        # The app's credentials go in the form body, which Slack accepts as well as basic
        # auth (the SDK's `oauth_v2_access` sends basic auth the deprecated aiohttp way).
        answer = await client.api_call(
            "oauth.v2.access",
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "code": code,
                "redirect_uri": redirect_uri(settings),
            },
        )
    except SlackApiError as error:
        reason = error.response.get("error", "refused") if error.response else "refused"
        raise InvalidInput(f"Slack refused the install: {reason}") from error
    hook = answer.get("incoming_webhook") or {}
    if not hook.get("url"):
        raise InvalidInput("Slack granted no incoming webhook; approve a channel for the app")
    team = answer.get("team") or {}
    fields = IntegrationFields(
        provider=PROVIDER,
        events=DEFAULT_EVENTS,
        settings={"team": team.get("name"), "channel": hook.get("channel")},
    )
    # Slack's answer is trusted no further than an admin's: the same receiver check.
    await check_receiver(OutboundGuard.allowing(settings.outbound_allow), hook["url"])
    url = store_url(PROVIDER, hook["url"], settings.secrets_key)
    integration, _ = await save_integration(
        session, fields, url=url, secret_encrypted=None, replace_secret=False
    )
    return integration
