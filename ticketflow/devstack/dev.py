"""`ticketflow dev`: the whole stack in one process tree, state kept under one data dir."""

from __future__ import annotations

import shutil
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from pydantic import SecretStr

from security.payload_codec import PayloadKeys
from ticketflow.devstack.errors import DevStackError
from ticketflow.devstack.payload_keys import dev_payload_keys
from ticketflow.devstack.ports import ensure_port_free
from ticketflow.devstack.postgres import database_url_or_embedded
from ticketflow.devstack.serve import ApiServer, StopSignals, serve
from ticketflow.devstack.temporal_server import TemporalDevServer
from ticketflow.settings import Settings
from ticketflow.temporal import payload_keys

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
    from temporalio.client import Client
    from temporalio.worker import Worker

    from api.seed.demo import DemoSeed

# Written into every data dir we create: `--fresh` wipes only directories carrying it.
_MARKER = ".ticketflow-data-dir"


@dataclass(frozen=True)
class DevOptions:
    data_dir: Path = Path(".ticketflow")
    host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_port: int = 7233
    ui_port: int = 8233
    fresh: bool = False

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def codec_endpoint(self) -> str:
        """Where the Web UI sends payloads to be decoded: the API's codec server."""
        return f"{self.api_url}/codec"


def prepare_data_dir(data_dir: Path, *, fresh: bool) -> Path:
    """Create the data dir (wiping it first with `fresh`); return its absolute path."""
    data_dir = data_dir.resolve()
    if fresh and data_dir.exists():
        if any(data_dir.iterdir()) and not (data_dir / _MARKER).exists():
            raise DevStackError(
                f"refusing to wipe {data_dir}: it is not a ticketflow data dir (no {_MARKER} file)"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / _MARKER).touch()
    return data_dir


async def run_dev(options: DevOptions, settings: Settings) -> None:
    """Start everything, serve until Ctrl-C/SIGTERM, then stop everything in order."""
    data_dir = prepare_data_dir(options.data_dir, fresh=options.fresh)
    ensure_port_free(options.host, options.api_port, "API (--api-port)")
    keys, settings = _with_keys(settings, data_dir)
    with StopSignals().installed() as stop:
        async with AsyncExitStack() as stack:
            temporal = TemporalDevServer(
                data_dir,
                ip=options.host,
                port=options.temporal_port,
                ui_port=options.ui_port,
                namespace=settings.temporal_namespace,
                payload_keys=keys,
                ui_codec_endpoint=options.codec_endpoint,
            )
            client = await temporal.start()
            stack.push_async_callback(temporal.stop)
            database_url = await stack.enter_async_context(
                database_url_or_embedded(settings, data_dir)
            )
            settings = _dev_settings(settings, options, database_url, temporal)
            engine, sessions = await _open_database(database_url, stack)
            seed = await _seed(sessions, client, settings)
            worker = _build_worker(client, sessions, settings)
            api = _build_api(options, settings, engine, sessions, client)
            banner = _banner(options, temporal, data_dir, seed)
            await serve(stop, worker=worker, api=api, on_ready=lambda: print(banner, flush=True))
    print("ticketflow dev stopped.", flush=True)


def _with_keys(settings: Settings, data_dir: Path) -> tuple[PayloadKeys, Settings]:
    """`TICKETFLOW_PAYLOAD_KEYS` if set, else the data dir's own key (made on first start)."""
    keys = payload_keys(settings)
    if keys:
        return keys, settings
    keys, text = dev_payload_keys(data_dir)
    return keys, settings.model_copy(update={"payload_keys": SecretStr(text)})


def _dev_settings(
    settings: Settings, options: DevOptions, database_url: str, temporal: TemporalDevServer
) -> Settings:
    update: dict[str, object] = {
        "database_url": database_url,
        "temporal_address": temporal.address,
    }
    # Links in messages should point at this API unless the user chose another URL.
    if "public_url" not in settings.model_fields_set:
        update["public_url"] = options.api_url
    # The dev server's Web UI may call the codec endpoints with the agent's login cookie.
    if "codec_cors_origins" not in settings.model_fields_set and temporal.ui_url:
        update["codec_cors_origins"] = temporal.ui_url
    return settings.model_copy(update=update)


async def _open_database(
    database_url: str, stack: AsyncExitStack
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    from persistence.db import create_engine, session_factory
    from persistence.migrate import upgrade_async

    await upgrade_async(database_url)
    engine = create_engine(database_url)
    stack.push_async_callback(engine.dispose)
    return engine, session_factory(engine)


async def _seed(
    sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings
) -> DemoSeed:
    from api.seed.demo import seed_demo

    return await seed_demo(sessions, client, settings)


def _build_worker(
    client: Client, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Worker:
    from workers.main import build_worker

    return build_worker(client, sessions, settings)


def _build_api(
    options: DevOptions,
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
) -> ApiServer:
    from api.app import Resources, create_app

    resources = Resources(engine=engine, session_factory=sessions, temporal=client)
    app = create_app(settings, resources)
    return ApiServer(uvicorn.Config(app, host=options.host, port=options.api_port))


def _banner(
    options: DevOptions, temporal: TemporalDevServer, data_dir: Path, seed: DemoSeed
) -> str:
    lines = [
        "",
        "ticketflow dev is running",
        f"  API docs    {options.api_url}/docs",
        f"  Web UI      {temporal.ui_url} (decodes through {options.codec_endpoint})",
        f"  Temporal    {temporal.address}",
        f"  Admin       {describe_login(seed)}",
    ]
    if seed.demo_password:
        lines.append(f"  Demo users  password {seed.demo_password} (agents and requesters)")
    lines += [
        f"  Demo data   {seed.summary}",
        f"  Data dir    {data_dir}",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


def describe_login(seed: DemoSeed) -> str:
    """`email / password`; a password generated on an earlier start is not stored anywhere."""
    if seed.admin_password:
        return f"{seed.admin_email} / {seed.admin_password}"
    return (
        f"{seed.admin_email} (password as printed on the first start; "
        "set TICKETFLOW_ADMIN_PASSWORD to choose one)"
    )
