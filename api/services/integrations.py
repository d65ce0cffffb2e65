"""Creating, replacing and deleting integrations; secrets and credential URLs encrypted here."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.schemas.integrations import IntegrationWrite
from domain.errors import NotFound
from persistence import webhooks as webhooks_repo
from persistence.models import Integration, WebhookDelivery
from persistence.pagination import Page
from persistence.secrets import SecretBox
from persistence.webhooks import IntegrationFields, store_url
from security.outbound import OutboundGuard, OutboundRefused


async def check_receiver(guard: OutboundGuard, url: str) -> None:
    """Refuse (422, naming why) a receiver URL aimed inward: loopback, private, metadata…"""
    try:
        await guard.check_url(url)
    except OutboundRefused as refused:
        raise ApiError(
            422,
            f"url: {refused.reason}",
            code="invalid_input",
            extra={"errors": [{"loc": ["body", "url"], "msg": refused.reason, "type": "inward"}]},
        ) from None


async def save_integration(
    session: AsyncSession,
    provider: str,
    body: IntegrationWrite,
    secrets_key: SecretStr | None,
    guard: OutboundGuard,
) -> tuple[Integration, bool]:
    """Create or replace the provider's integration; whether it was created.

    A URL aimed inward is refused (422). A secret, or a Slack or Teams URL, is refused
    (`SecretsUnavailable`, 503) when no key is configured: neither is ever stored in plain
    text. An omitted URL keeps the stored one.
    """
    if body.url is not None:
        await check_receiver(guard, body.url)
    encrypted = None if body.secret is None else SecretBox(secrets_key).encrypt(body.secret)
    url = None if body.url is None else store_url(provider, body.url, secrets_key)
    fields = IntegrationFields(
        provider=provider,
        events=[event.value for event in body.events],
        settings=body.settings,
        enabled=body.enabled,
    )
    return await webhooks_repo.save_integration(
        session,
        fields,
        url=url,
        secret_encrypted=encrypted,
        replace_secret="secret" in body.model_fields_set,
    )


async def delete_integration(session: AsyncSession, provider: str) -> None:
    if not await webhooks_repo.delete_integration(session, provider):
        raise NotFound(f"no integration for provider {provider!r}")


async def integration_deliveries(
    session: AsyncSession, provider: str, *, limit: int, cursor: str | None
) -> Page[WebhookDelivery]:
    page = await webhooks_repo.list_deliveries(session, provider, limit=limit, cursor=cursor)
    if page is None:
        raise NotFound(f"no integration for provider {provider!r}")
    return page
