"""Sessions access tokens are checked against, TOTP second factor, login throttles.

Every refresh token names its session (each existing one becomes a session of its own);
users get an encrypted TOTP secret; recovery codes are stored hashed; failed sign-ins are
counted per account and address for every API process.

Revision ID: 0014_auth_sessions_mfa
Revises: 0013_account_lifecycle
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_auth_sessions_mfa"
down_revision: str | None = "0013_account_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("session_id", sa.Uuid(), nullable=True))
    op.execute("UPDATE refresh_tokens SET session_id = id")
    op.alter_column("refresh_tokens", "session_id", nullable=False)
    op.create_index(
        "ix_refresh_tokens_session_id_revoked_at", "refresh_tokens", ["session_id", "revoked_at"]
    )

    op.add_column("users", sa.Column("mfa_secret", sa.Text()))
    op.add_column("users", sa.Column("mfa_enabled_at", TZ))
    op.add_column("users", sa.Column("mfa_last_step", sa.Integer()))

    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("used_at", TZ),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mfa_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("code_hash", name=op.f("uq_mfa_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_mfa_recovery_codes_user_id"), "mfa_recovery_codes", ["user_id"])

    op.create_table(
        "login_throttles",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_ends", TZ, nullable=False),
        sa.Column("retry_at", TZ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_index(op.f("ix_login_throttles_window_ends"), "login_throttles", ["window_ends"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttles_window_ends"), table_name="login_throttles")
    op.drop_table("login_throttles")
    op.drop_index(op.f("ix_mfa_recovery_codes_user_id"), table_name="mfa_recovery_codes")
    op.drop_table("mfa_recovery_codes")
    op.drop_column("users", "mfa_last_step")
    op.drop_column("users", "mfa_enabled_at")
    op.drop_column("users", "mfa_secret")
    op.drop_index("ix_refresh_tokens_session_id_revoked_at", table_name="refresh_tokens")
    op.drop_column("refresh_tokens", "session_id")
