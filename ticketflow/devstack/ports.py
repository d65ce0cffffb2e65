"""Fail early, and say which flag to change, when a port the dev stack needs is taken."""

from __future__ import annotations

import socket

from ticketflow.devstack.errors import DevStackError


def ensure_port_free(host: str, port: int, what: str) -> None:
    """Raise DevStackError naming `what` if something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option the servers set, so sockets lingering in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise DevStackError(
                f"port {port} on {host} for the {what} is in use ({err.strerror}); "
                "is another `ticketflow dev` running? Stop it or pick another port."
            ) from err


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for tests and throw-away stacks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
