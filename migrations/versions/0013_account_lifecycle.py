"""Accounts proven by their owners: password-less accounts, invitations, verified phones.

- `users.password_hash` may be NULL: an account made from an inbound e-mail or SMS has no
  password until its invitation link sets one.
- `users.phone_verified_at`, and a partial unique index on the digits of verified phones:
  a number proven by an SMS code belongs to one account.
- `user_tokens.purpose` takes `invitation`; `user_tokens.channel` says where the link went
  (`email` or `sms`), which is what using it proves.
- `phone_codes`: the SMS codes, by keyed hash, with their attempts.

Revision ID: 0013_account_lifecycle
Revises: 0012_held_emails
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_account_lifecycle"
down_revision: str | None = "0012_held_emails"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PURPOSES_BEFORE = "purpose IN ('password_reset', 'email_verification')"
# The argon2 hash of a random password that was thrown away as soon as it was hashed.
_NOBODYS_PASSWORD = (
    "$argon2id$v=19$m=65536,t=3,p=4$CuxCbSECIIcCnYIyUMn3sA$"
    "UOiXyvUh7x5LodrDSOp8t/TwGnjG7ILH3Z8LQTqkSp8"
)
_PURPOSES = "purpose IN ('password_reset', 'email_verification', 'invitation')"


def upgrade() -> None:
    op.alter_column("users", "password_hash", existing_type=sa.Text(), nullable=True)
    op.add_column("users", sa.Column("phone_verified_at", sa.DateTime(timezone=True)))
    op.create_index(
        "uq_users_verified_phone",
        "users",
        [sa.text("regexp_replace(phone, '\\D', '', 'g')")],
        unique=True,
        postgresql_where=sa.text("phone_verified_at IS NOT NULL"),
    )

    op.drop_constraint(op.f("ck_user_tokens_purpose"), "user_tokens", type_="check")
    op.create_check_constraint(op.f("ck_user_tokens_purpose"), "user_tokens", _PURPOSES)
    op.add_column(
        "user_tokens",
        sa.Column("channel", sa.Text(), server_default="email", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_user_tokens_channel"), "user_tokens", "channel IN ('email', 'sms')"
    )

    op.create_table(
        "phone_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_phone_codes_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_phone_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_codes")),
    )
    op.create_index(op.f("ix_phone_codes_user_id"), "phone_codes", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_phone_codes_user_id"), table_name="phone_codes")
    op.drop_table("phone_codes")

    op.drop_constraint(op.f("ck_user_tokens_channel"), "user_tokens", type_="check")
    op.drop_column("user_tokens", "channel")
    # Invitations cannot be kept under the old rule: they go, unused or not.
    op.execute("DELETE FROM user_tokens WHERE purpose = 'invitation'")
    op.drop_constraint(op.f("ck_user_tokens_purpose"), "user_tokens", type_="check")
    op.create_check_constraint(op.f("ck_user_tokens_purpose"), "user_tokens", _PURPOSES_BEFORE)

    op.drop_index("uq_users_verified_phone", table_name="users")
    op.drop_column("users", "phone_verified_at")
    # An account without a password gets one nobody knows: it still cannot be logged in to.
    op.execute(
        sa.text("UPDATE users SET password_hash = :hash WHERE password_hash IS NULL").bindparams(
            hash=_NOBODYS_PASSWORD
        )
    )
    op.alter_column("users", "password_hash", existing_type=sa.Text(), nullable=False)
