"""Routing: each agent's capacity, and when they were last picked (round-robin on ties).

`max_load` caps the open tickets automatic routing gives an agent (at least one);
`last_assigned_at` is stamped by every pick, so agents equally loaded take turns. Spelled
out rather than built from the models, so this revision stays what it was when it shipped.

Revision ID: 0003_routing
Revises: 0002_calendars
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_routing"
down_revision: str | None = "0002_calendars"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("max_load", sa.Integer(), server_default=sa.text("10"), nullable=False),
    )
    op.add_column("users", sa.Column("last_assigned_at", sa.DateTime(timezone=True)))
    op.create_check_constraint(op.f("ck_users_max_load_positive"), "users", "max_load >= 1")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_users_max_load_positive"), "users", type_="check")
    op.drop_column("users", "last_assigned_at")
    op.drop_column("users", "max_load")
