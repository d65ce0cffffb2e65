"""Alembic environment: async, URL from `config.attributes` or `DATABASE_URL`."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from persistence.db import async_url
from persistence.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name:  # the alembic CLI; programmatic runs keep the app's logging
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    # An attribute, not a main option: ConfigParser would choke on a '%' in a password.
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL")
    return str(url)


def _configure(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(async_url(_database_url()), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=async_url(_database_url()).set(drivername="postgresql"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
