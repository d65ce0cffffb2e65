"""Initial schema: people, tickets (the workflows' read model), SLA, notifications, auth.

Enumerations are text columns guarded by CHECK constraints (no PG ENUM types). Values and
constraint names are spelled out rather than imported, so this revision stays what it was
when it shipped whatever the application code becomes.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("admin", "agent", "user", "vip_user")
LOCALES = ("es", "en")
CLOCK_STATES = ("ok", "at_risk", "breached", "met", "paused")
EMPTY_ARRAY = sa.text("'{}'")
EMPTY_OBJECT = sa.text("'{}'")
EMPTY_LIST = sa.text("'[]'")
ZERO = sa.text("0")
TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _created_at() -> sa.Column[Any]:
    return sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False)


def _timestamps() -> list[sa.Column[Any]]:
    updated_at = sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False)
    return [_created_at(), updated_at]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{target}")
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name, ondelete=ondelete)


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    _create_people()
    _create_tickets()
    _create_sla()
    _create_activity()
    _create_content()
    _create_auth()


def downgrade() -> None:
    op.drop_constraint(op.f("fk_departments_manager_id_users"), "departments", type_="foreignkey")
    for table in (
        "user_tokens",
        "refresh_tokens",
        "response_templates",
        "automation_rules",
        "knowledge_base_articles",
        "notifications",
        "audit_logs",
        "sla_history",
        "sla_policies",
        "attachments",
        "ticket_comments",
        "ticket_idempotency_keys",
        "tickets",
        "users",
        "departments",
    ):
        op.drop_table(table)
    op.execute(sa.schema.DropSequence(sa.Sequence("ticket_number_seq")))


def _create_people() -> None:
    op.create_table(
        "departments",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("notification_email", sa.Text()),
        sa.Column("manager_id", sa.Uuid()),
        sa.Column(
            "auto_close_after", sa.Interval(), server_default=sa.text("'3 days'"), nullable=False
        ),
        sa.Column(
            "reopen_window", sa.Interval(), server_default=sa.text("'30 days'"), nullable=False
        ),
        *_timestamps(),
        _pk("departments"),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), server_default="user", nullable=False),
        sa.Column("department_id", sa.Uuid()),
        sa.Column("skills", ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("availability", sa.Text(), server_default="offline", nullable=False),
        sa.Column("current_load", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("locale", sa.Text(), server_default="en", nullable=False),
        sa.Column("phone", sa.Text()),
        sa.Column("slack_user_id", sa.Text()),
        sa.Column("email_verified_at", TZ),
        sa.Column("last_login_at", TZ),
        sa.Column("deleted_at", TZ),
        *_timestamps(),
        _pk("users"),
        _fk("users", "department_id", "departments", ondelete="SET NULL"),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower_case")),
        sa.CheckConstraint("current_load >= 0", name=op.f("ck_users_current_load_not_negative")),
        _one_of("users", "role", ROLES),
        _one_of("users", "status", ("active", "inactive", "on_leave")),
        _one_of("users", "availability", ("online", "away", "offline")),
        _one_of("users", "locale", LOCALES),
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True
    )
    _index("users", "department_id")
    # departments <-> users is a cycle: this side can only exist once both tables do.
    op.create_foreign_key(
        op.f("fk_departments_manager_id_users"),
        "departments",
        "users",
        ["manager_id"],
        ["id"],
        ondelete="SET NULL",
    )


def _create_tickets() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("ticket_number_seq", start=1)))
    op.create_table(
        "tickets",
        _id(),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid()),
        sa.Column("department_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.Text(), server_default="general", nullable=False),
        sa.Column("subcategory", sa.Text()),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("urgency", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("tags", ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False),
        sa.Column("duplicate_of", sa.Uuid()),
        sa.Column("solution", sa.Text()),
        sa.Column("satisfaction_score", sa.Integer()),
        sa.Column("feedback", sa.Text()),
        sa.Column("closed_for_inactivity", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("metadata", JSONB(), server_default=EMPTY_OBJECT, nullable=False),
        sa.Column("sla", JSONB(), server_default=EMPTY_OBJECT, nullable=False),
        sa.Column("sla_state", sa.Text()),
        sa.Column("sla_breach_at", TZ),
        sa.Column("requester_role", sa.Text(), server_default="user", nullable=False),
        sa.Column("version", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("first_response_at", TZ),
        sa.Column("resolved_at", TZ),
        sa.Column("closed_at", TZ),
        sa.Column("deleted_at", TZ),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        _pk("tickets"),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
        _fk("tickets", "department_id", "departments"),
        _one_of("tickets", "priority", ("P1", "P2", "P3", "P4")),
        _one_of("tickets", "urgency", ("critical", "high", "normal", "low")),
        _one_of("tickets", "impact", ("critical", "high", "medium", "low")),
        _one_of(
            "tickets",
            "status",
            ("new", "in_progress", "on_hold", "resolved", "closed", "reopened"),
        ),
        _one_of("tickets", "source", ("web", "email", "api", "chat", "whatsapp", "sms", "slack")),
        _one_of("tickets", "sla_state", CLOCK_STATES),
        _one_of("tickets", "requester_role", ROLES),
        sa.CheckConstraint(
            "satisfaction_score BETWEEN 1 AND 10", name=op.f("ck_tickets_satisfaction_score_range")
        ),
    )
    for column in (
        "requester_id",
        "assignee_id",
        "department_id",
        "status",
        "priority",
        "created_at",
        "sla_state",
    ):
        _index("tickets", column)

    op.create_table(
        "ticket_idempotency_keys",
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("ticket_number", sa.BigInteger(), nullable=False),
        _created_at(),
        _pk("ticket_idempotency_keys", "requester_id", "key"),
        _fk("ticket_idempotency_keys", "requester_id", "users", ondelete="CASCADE"),
    )

    op.create_table(
        "ticket_comments",
        _id(),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("mentions", ARRAY(sa.Uuid()), server_default=EMPTY_ARRAY, nullable=False),
        sa.Column("attachments", ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False),
        sa.Column("sentiment_score", sa.Double()),
        *_timestamps(),
        _pk("ticket_comments"),
        _fk("ticket_comments", "ticket_id", "tickets", ondelete="CASCADE"),
    )
    _index("ticket_comments", "ticket_id", "created_at")

    op.create_table(
        "attachments",
        _id(),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("comment_id", sa.Uuid()),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text()),
        sa.Column("size_bytes", sa.BigInteger()),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        _created_at(),
        _pk("attachments"),
        _fk("attachments", "ticket_id", "tickets", ondelete="CASCADE"),
        _fk("attachments", "comment_id", "ticket_comments", ondelete="CASCADE"),
        _fk("attachments", "uploaded_by", "users"),
    )
    _index("attachments", "ticket_id")


def _create_sla() -> None:
    op.create_table(
        "sla_policies",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("conditions", JSONB(), server_default=EMPTY_OBJECT, nullable=False),
        sa.Column("targets", JSONB(), server_default=EMPTY_OBJECT, nullable=False),
        sa.Column("calendar_id", sa.Uuid()),  # no calendars table yet
        sa.Column(
            "pause_statuses",
            ARRAY(sa.Text()),
            server_default=sa.text("'{on_hold}'"),
            nullable=False,
        ),
        sa.Column(
            "warn_at",
            ARRAY(sa.Double()),
            server_default=sa.text("'{0.5,0.75,0.9}'"),
            nullable=False,
        ),
        sa.Column("escalation", JSONB(), server_default=EMPTY_LIST, nullable=False),
        *_timestamps(),
        _pk("sla_policies"),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    _index("sla_policies", "position")

    op.create_table(
        "sla_history",
        _id(),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("elapsed_seconds", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("due_at", TZ),
        sa.Column("fraction", sa.Double()),
        sa.Column("occurred_at", TZ, nullable=False),
        # clock_timestamp(): the wall time of the write itself, not of its transaction.
        sa.Column("recorded_at", TZ, server_default=sa.func.clock_timestamp(), nullable=False),
        _pk("sla_history"),
        _fk("sla_history", "ticket_id", "tickets", ondelete="CASCADE"),
        _one_of("sla_history", "metric", ("first_response", "next_response", "resolution")),
        _one_of(
            "sla_history",
            "event",
            ("applied", "paused", "resumed", "warned", "breached", "fulfilled", "retargeted"),
        ),
        _one_of("sla_history", "state", CLOCK_STATES),
    )
    _index("sla_history", "ticket_id", "occurred_at")
    _index("sla_history", "event", "occurred_at")


def _create_activity() -> None:
    op.create_table(
        "audit_logs",
        _id(),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("before", JSONB()),
        sa.Column("after", JSONB()),
        sa.Column("occurred_at", TZ, server_default=sa.func.now(), nullable=False),
        _pk("audit_logs"),
        _one_of("audit_logs", "action", ("CREATE", "UPDATE", "DELETE")),
    )
    _index("audit_logs", "entity", "entity_id", "occurred_at")

    op.create_table(
        "notifications",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid()),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("idempotency_key", sa.Text()),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("sent_at", TZ),
        sa.Column("read_at", TZ),
        _created_at(),
        _pk("notifications"),
        _fk("notifications", "user_id", "users", ondelete="CASCADE"),
        _fk("notifications", "ticket_id", "tickets", ondelete="CASCADE"),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notifications_idempotency_key")),
        _one_of("notifications", "channel", ("email", "sms", "push", "in_app", "slack", "teams")),
        _one_of("notifications", "status", ("pending", "sent", "failed")),
    )
    op.create_index(
        "ix_notifications_user_id_created_at",
        "notifications",
        ["user_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
    )
    _index("notifications", "ticket_id")


def _create_content() -> None:
    op.create_table(
        "knowledge_base_articles",
        _id(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("category", sa.Text()),
        sa.Column("tags", ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False),
        sa.Column("relevance", sa.Double(), server_default=ZERO, nullable=False),
        sa.Column("views", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("helpful_votes", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("unhelpful_votes", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), server_default="published", nullable=False),
        *_timestamps(),
        _pk("knowledge_base_articles"),
        _fk("knowledge_base_articles", "author_id", "users"),
        _one_of("knowledge_base_articles", "status", ("draft", "published", "archived")),
    )
    op.create_index(
        "ix_knowledge_base_articles_search",
        "knowledge_base_articles",
        [sa.literal_column("to_tsvector('simple'::regconfig, (title || ' '::text) || content)")],
        postgresql_using="gin",
    )

    op.create_table(
        "automation_rules",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("conditions", JSONB(), server_default=EMPTY_OBJECT, nullable=False),
        sa.Column("actions", JSONB(), server_default=EMPTY_LIST, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        *_timestamps(),
        _pk("automation_rules"),
        _fk("automation_rules", "created_by", "users"),
        _one_of("automation_rules", "trigger", ("created", "updated", "comment_added", "time")),
    )
    _index("automation_rules", "position")

    op.create_table(
        "response_templates",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("category", sa.Text()),
        sa.Column("locale", sa.Text(), server_default="en", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("variables", ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        *_timestamps(),
        _pk("response_templates"),
        _fk("response_templates", "created_by", "users"),
        _one_of("response_templates", "locale", LOCALES),
    )


def _create_auth() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),  # the token's jti
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
        sa.Column("replaced_by", sa.Uuid()),
        _created_at(),
        _pk("refresh_tokens"),
        _fk("refresh_tokens", "user_id", "users", ondelete="CASCADE"),
    )
    _index("refresh_tokens", "user_id")

    op.create_table(
        "user_tokens",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
        _created_at(),
        _pk("user_tokens"),
        _fk("user_tokens", "user_id", "users", ondelete="CASCADE"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_tokens_token_hash")),
        _one_of("user_tokens", "purpose", ("password_reset", "email_verification")),
    )
    _index("user_tokens", "user_id")
