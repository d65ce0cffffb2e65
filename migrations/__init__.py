"""Alembic migrations of the ticketflow schema; run them with `persistence.migrate`."""
