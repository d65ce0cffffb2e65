"""Business-hours calendars that SLA policies count their targets in.

`hours` is a JSON object of weekday → list of ["HH:MM", "HH:MM"] wall-clock intervals in
`timezone`; `holidays` holds explicit dates, and a country code (plus subdivision) adds that
country's public holidays, resolved when a ticket opens. Spelled out rather than built from
the models, so this revision stays what it was when it shipped.

Revision ID: 0002_calendars
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision: str = "0002_calendars"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendars",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("hours", JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("holidays", ARRAY(sa.Date()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("country_code", sa.Text()),
        sa.Column("subdivision", sa.Text()),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_calendars_name")),
        # A subdivision only means something inside a country.
        sa.CheckConstraint(
            "subdivision IS NULL OR country_code IS NOT NULL",
            name=op.f("ck_calendars_subdivision_needs_country"),
        ),
    )
    # Policies could name a calendar before calendars were stored: forget dangling ids.
    op.execute("UPDATE sla_policies SET calendar_id = NULL WHERE calendar_id IS NOT NULL")
    op.create_foreign_key(
        op.f("fk_sla_policies_calendar_id_calendars"),
        "sla_policies",
        "calendars",
        ["calendar_id"],
        ["id"],
        ondelete="RESTRICT",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_sla_policies_calendar_id_calendars"), "sla_policies", type_="foreignkey"
    )
    op.drop_table("calendars")
