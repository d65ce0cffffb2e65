"""Slack and Teams webhook URLs are credentials: stored only encrypted, shown only masked.

`integrations.url` becomes nullable; a chat integration keeps its URL in `url_encrypted`
(Fernet, the `TICKETFLOW_SECRETS_KEY` the API and the workers use) and the mask the API shows
in `url_masked`. Existing chat rows are encrypted here, so the key must be set when this
revision runs if there are any; without it the upgrade stops, changing nothing, rather than
leave a credential in plain text or throw it away. The downgrade decrypts them back, and
likewise needs the key. The mask is spelled out rather than imported, so this revision
stays what it was when it shipped.

Revision ID: 0009_integration_url_secret
Revises: 0008_channel_notifications
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken

revision: str = "0009_integration_url_secret"
down_revision: str | None = "0008_channel_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHAT = "provider IN ('slack', 'teams')"
_ONE_URL = "one_url"
_CHAT_URL_ENCRYPTED = "chat_url_encrypted"


def upgrade() -> None:
    op.add_column("integrations", sa.Column("url_encrypted", sa.Text()))
    op.add_column("integrations", sa.Column("url_masked", sa.Text()))
    op.alter_column("integrations", "url", nullable=True)
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, url FROM integrations WHERE {_CHAT}")).all()
    if rows:
        fernet = _fernet("encrypt the Slack and Teams webhook URLs already stored")
        for row in rows:
            bind.execute(
                sa.text(
                    "UPDATE integrations SET url = NULL, url_encrypted = :token, "
                    "url_masked = :masked WHERE id = :id"
                ),
                {
                    "id": row.id,
                    "token": fernet.encrypt(row.url.encode()).decode("ascii"),
                    "masked": _mask(row.url),
                },
            )
    op.create_check_constraint(
        op.f(f"ck_integrations_{_ONE_URL}"),
        "integrations",
        "(url IS NULL) <> (url_encrypted IS NULL) "
        "AND (url_encrypted IS NULL) = (url_masked IS NULL)",
    )
    op.create_check_constraint(
        op.f(f"ck_integrations_{_CHAT_URL_ENCRYPTED}"),
        "integrations",
        f"url IS NULL OR NOT ({_CHAT})",
    )


def downgrade() -> None:
    op.drop_constraint(op.f(f"ck_integrations_{_CHAT_URL_ENCRYPTED}"), "integrations", "check")
    op.drop_constraint(op.f(f"ck_integrations_{_ONE_URL}"), "integrations", "check")
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, url_encrypted FROM integrations WHERE url_encrypted IS NOT NULL")
    ).all()
    if rows:
        fernet = _fernet("decrypt the Slack and Teams webhook URLs back into plain text")
        for row in rows:
            try:
                plain = fernet.decrypt(row.url_encrypted.encode()).decode()
            except InvalidToken as error:
                raise RuntimeError(
                    "a stored webhook URL cannot be decrypted with TICKETFLOW_SECRETS_KEY "
                    "(was the key changed?)"
                ) from error
            bind.execute(
                sa.text("UPDATE integrations SET url = :url WHERE id = :id"),
                {"id": row.id, "url": plain},
            )
    op.alter_column("integrations", "url", nullable=False)
    op.drop_column("integrations", "url_masked")
    op.drop_column("integrations", "url_encrypted")


def _fernet(purpose: str) -> Fernet:
    # The key as the API and the workers read it: the environment, then `.env`.
    from ticketflow.settings import Settings

    key = Settings().secrets_key
    value = key.get_secret_value() if key is not None else ""
    if not value:
        raise RuntimeError(
            f"set TICKETFLOW_SECRETS_KEY (the key the API and the workers use) to {purpose}; "
            "nothing was changed"
        )
    try:
        return Fernet(value.encode())
    except ValueError as error:
        raise RuntimeError(
            "TICKETFLOW_SECRETS_KEY is not a Fernet key (urlsafe base64 of 32 bytes); "
            "nothing was changed"
        ) from error


def _mask(url: str) -> str:
    """`https://hooks.slack.com/…AbCd`, as `domain.integration_urls.mask_url` made it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        host = f"{host}:{port}"
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{host}/…{tail[-4:] if len(tail) >= 12 else ''}"
