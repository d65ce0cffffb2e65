"""Delivery: users' channel preferences and push tokens, send details on notifications,
and integrations (outbound webhooks) with their planned deliveries.

`webhook_deliveries.id` is derived from the ticket, the history entry, the integration and
the event, so planning the same change twice inserts nothing new. Spelled out rather than
built from the models, so this revision stays what it was when it shipped.

Revision ID: 0004_delivery
Revises: 0003_routing
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision: str = "0004_delivery"
down_revision: str | None = "0003_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
EMPTY = sa.text("'{}'")


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("notification_preferences", JSONB(), server_default=EMPTY, nullable=False),
    )
    op.add_column(
        "users", sa.Column("push_tokens", ARRAY(sa.Text()), server_default=EMPTY, nullable=False)
    )
    op.add_column("notifications", sa.Column("recipient", sa.Text()))
    op.add_column("notifications", sa.Column("provider_message_id", sa.Text()))
    op.add_column("notifications", sa.Column("last_attempt_at", TZ))
    _create_integrations()
    _create_webhook_deliveries()


def _create_integrations() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", ARRAY(sa.Text()), nullable=False),
        sa.Column("secret_encrypted", sa.Text()),
        sa.Column("settings", JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("provider", name=op.f("uq_integrations_provider")),
        sa.CheckConstraint(
            "provider ~ '^[a-z0-9_-]{1,40}$'", name=op.f("ck_integrations_provider_slug")
        ),
    )


def _create_webhook_deliveries() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid()),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("payload", JSONB(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("response_status", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("delivered_at", TZ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_webhook_deliveries_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_webhook_deliveries_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_webhook_deliveries_status")
        ),
    )
    for column in ("integration_id", "ticket_id"):
        op.create_index(op.f(f"ix_webhook_deliveries_{column}"), "webhook_deliveries", [column])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("integrations")
    op.drop_column("notifications", "last_attempt_at")
    op.drop_column("notifications", "provider_message_id")
    op.drop_column("notifications", "recipient")
    op.drop_column("users", "push_tokens")
    op.drop_column("users", "notification_preferences")
