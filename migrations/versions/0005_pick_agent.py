"""pick_agent as one server-side call: the department's routing lock is held for microseconds.

Taking the lock and updating the chosen agent from the client costs two round trips while
the lock is held; under load (a busy event loop, a remote database) every pick in the
department queues behind them. Inside the function each statement still reads a fresh
snapshot (READ COMMITTED, VOLATILE), so the update sees the loads the previous pick left.
The conditions mirror `persistence.routing._can_take`, which still lists available agents;
tests hold the two to the same answers.

Revision ID: 0005_pick_agent
Revises: 0004_delivery
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_pick_agent"
down_revision: str | None = "0004_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION ticketflow_pick_agent(
            p_lock_namespace integer, p_department uuid, p_category text, p_exclude uuid[]
        ) RETURNS uuid
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            chosen uuid;
        BEGIN
            PERFORM pg_advisory_xact_lock(p_lock_namespace, hashtext(p_department::text));
            UPDATE users
               SET current_load = current_load + 1, last_assigned_at = clock_timestamp()
             WHERE id = (
                SELECT u.id FROM users u
                 WHERE u.role = 'agent' AND u.status = 'active' AND u.availability = 'online'
                   AND u.deleted_at IS NULL AND u.current_load < u.max_load
                   AND u.department_id = p_department
                   AND (p_category IS NULL OR cardinality(u.skills) = 0
                        OR EXISTS (SELECT 1 FROM unnest(u.skills) AS skill
                                    WHERE lower(skill) = lower(p_category)))
                   AND NOT (u.id = ANY (p_exclude))
                 ORDER BY u.current_load, u.last_assigned_at ASC NULLS FIRST, u.id
                 LIMIT 1
                 FOR NO KEY UPDATE SKIP LOCKED)
            RETURNING id INTO chosen;
            RETURN chosen;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION ticketflow_pick_agent(integer, uuid, text, uuid[])")
