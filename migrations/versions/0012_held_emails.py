"""Inbound e-mail held back because nothing vouched for its sender: `held_emails`.

An e-mail whose `From:` domain does not vouch for it (no aligned DKIM signature, no aligned
SPF pass) changes nothing; it is kept here for an admin to release or discard.

Revision ID: 0012_held_emails
Revises: 0011_seeded_items
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision: str = "0012_held_emails"
down_revision: str | None = "0011_seeded_items"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "held_emails",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_key", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text()),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("sender_name", sa.Text(), nullable=False),
        sa.Column("recipients", ARRAY(sa.Text()), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("references", ARRAY(sa.Text()), nullable=False),
        sa.Column("spf", sa.Text()),
        sa.Column("dkim", sa.Text()),
        sa.Column("envelope_from", sa.Text()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attachments", JSONB(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("status", sa.Text(), server_default="held", nullable=False),
        sa.Column("ticket_number", sa.BigInteger()),
        sa.Column("comment_id", sa.Uuid()),
        sa.Column("decided_by", sa.Uuid()),
        sa.Column("decided_at", TZ),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_emails")),
        sa.UniqueConstraint("message_key", name=op.f("uq_held_emails_message_key")),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_held_emails_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('held', 'released', 'discarded')", name=op.f("ck_held_emails_status")
        ),
    )
    op.create_index(
        op.f("ix_held_emails_status_created_at_id"),
        "held_emails",
        ["status", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_held_emails_status_created_at_id"), table_name="held_emails")
    op.drop_table("held_emails")
