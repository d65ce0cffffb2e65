"""Rate-limit counters in PostgreSQL, so every API process counts the same attempts.

Revision ID: 0010_rate_limit_counters
Revises: 0009_integration_url_secret
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_rate_limit_counters"
down_revision: str | None = "0009_integration_url_secret"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_ends", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index(
        op.f("ix_rate_limit_counters_window_ends"), "rate_limit_counters", ["window_ends"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_counters_window_ends"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
