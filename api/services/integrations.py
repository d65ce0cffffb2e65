"""Creating, replacing and deleting integrations; their secrets are encrypted here."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.integrations import IntegrationWrite
from domain.errors import NotFound
from persistence import webhooks as webhooks_repo
from persistence.models import Integration
from persistence.secrets import SecretBox
from persistence.webhooks import IntegrationFields


async def save_integration(
    session: AsyncSession, provider: str, body: IntegrationWrite, secrets_key: SecretStr | None
) -> tuple[Integration, bool]:
    """Create or replace the provider's integration; whether it was created.

    A secret is refused (`SecretsUnavailable`, 503) when no key is configured: it is never
    stored in plain text.
    """
    encrypted = None if body.secret is None else SecretBox(secrets_key).encrypt(body.secret)
    fields = IntegrationFields(
        provider=provider,
        url=body.url,
        events=[event.value for event in body.events],
        settings=body.settings,
        enabled=body.enabled,
    )
    return await webhooks_repo.save_integration(
        session,
        fields,
        secret_encrypted=encrypted,
        replace_secret="secret" in body.model_fields_set,
    )


async def delete_integration(session: AsyncSession, provider: str) -> None:
    if not await webhooks_repo.delete_integration(session, provider):
        raise NotFound(f"no integration for provider {provider!r}")
