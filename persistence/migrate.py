"""Run the Alembic migrations programmatically: no alembic.ini, no working-directory rules."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the `migrations` package and at `database_url`."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision`; safe to call from inside an event loop."""
    _run(lambda: command.upgrade(alembic_config(database_url), revision))


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to `revision` (`"base"` drops everything)."""
    _run(lambda: command.downgrade(alembic_config(database_url), revision))


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """`upgrade` without blocking the running event loop."""
    await asyncio.to_thread(upgrade, database_url, revision)


def _run(step: Callable[[], None]) -> None:
    # env.py drives its async engine with asyncio.run(), which refuses to start inside a
    # running loop: in that case the migration runs on a thread with a loop of its own.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        step()
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alembic") as executor:
        executor.submit(step).result()
