"""Notifications to a shared destination (the configured Slack channel) have no user.

Revision ID: 0008_channel_notifications
Revises: 0007_ticket_search
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_channel_notifications"
down_revision: str | None = "0007_ticket_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IN_APP_HAS_READER = "ck_notifications_in_app_has_reader"


def upgrade() -> None:
    op.alter_column("notifications", "user_id", nullable=True)
    op.create_check_constraint(
        op.f(_IN_APP_HAS_READER), "notifications", "user_id IS NOT NULL OR channel <> 'in_app'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f(_IN_APP_HAS_READER), "notifications", type_="check")
    # The old schema has no place for a message that belongs to no user.
    op.execute("DELETE FROM notifications WHERE user_id IS NULL")
    op.alter_column("notifications", "user_id", nullable=False)
