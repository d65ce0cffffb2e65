"""Comments keep the order they were written in, also when they share an instant.

Two replies a ticket takes in one workflow task carry the same `created_at`; the thread
used to break that tie by the random comment id.

Revision ID: 0006_comment_order
Revises: 0005_pick_agent
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_comment_order"
down_revision: str | None = "0005_pick_agent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_INDEX = "ix_ticket_comments_ticket_id_created_at"
_NEW_INDEX = "ix_ticket_comments_ticket_id_created_at_seq"


def upgrade() -> None:
    op.add_column(
        "ticket_comments",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
    )
    op.drop_index(_OLD_INDEX, table_name="ticket_comments")
    op.create_index(_NEW_INDEX, "ticket_comments", ["ticket_id", "created_at", "seq"])


def downgrade() -> None:
    op.drop_index(_NEW_INDEX, table_name="ticket_comments")
    op.create_index(_OLD_INDEX, "ticket_comments", ["ticket_id", "created_at"])
    op.drop_column("ticket_comments", "seq")
