"""Full-text search over tickets (title and description) and their comments.

Revision ID: 0007_ticket_search
Revises: 0006_comment_order
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_ticket_search"
down_revision: str | None = "0006_comment_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As persistence/models/tickets.py spells them (the way PostgreSQL prints them back).
_TICKETS = "to_tsvector('simple'::regconfig, (title || ' '::text) || description)"
_COMMENTS = "to_tsvector('simple'::regconfig, body)"


def upgrade() -> None:
    op.create_index(
        "ix_tickets_search",
        "tickets",
        [sa.literal_column(_TICKETS)],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_ticket_comments_search",
        "ticket_comments",
        [sa.literal_column(_COMMENTS)],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_comments_search", table_name="ticket_comments")
    op.drop_index("ix_tickets_search", table_name="tickets")
