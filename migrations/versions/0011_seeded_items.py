"""The seed ledger, and passwords that must be changed before an account can do anything.

`seeded_items` records each thing `ticketflow init` or the demo seed made, so that running
them again (on every deploy, on every `ticketflow dev`) never makes it twice, nor brings back
what an admin deleted. `users.password_change_required` marks a generated password printed
for an operator: it opens the account once, to choose a real one.

Revision ID: 0011_seeded_items
Revises: 0010_rate_limit_counters
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_seeded_items"
down_revision: str | None = "0010_rate_limit_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seeded_items",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seeded_items")),
    )
    op.add_column(
        "users",
        sa.Column(
            "password_change_required",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "password_change_required")
    op.drop_table("seeded_items")
