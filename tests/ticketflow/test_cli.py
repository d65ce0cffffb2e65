"""`ticketflow` as users run it: refusals with clear messages, and the whole dev stack."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import httpx
import psutil
import pytest
from temporalio.testing import WorkflowEnvironment

from security.payload_codec import PayloadKeys
from tests.support.cli import RunningCli, clean_env, run_cli, until_pollers
from tests.support.payload_keys import TEST_KEYS_FILE, TEST_KEYS_SETTING
from ticketflow.devstack import free_port

CLI_TIMEOUT_S = 60
DEV_STARTUP_TIMEOUT_S = 180
DEV_STOP_TIMEOUT_S = 60


async def test_api_refuses_the_default_jwt_secret(tmp_path: Path) -> None:
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", cwd=tmp_path)
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr
    assert "--dev" in result.stderr
    assert "Traceback" not in result.stderr


PRODUCTION_SECRETS = {
    "JWT_SECRET": "a-real-secret-" + "x" * 40,
    "TICKETFLOW_LINK_SECRET": "a-real-link-secret-" + "y" * 40,
}


@pytest.mark.parametrize(
    ("secrets", "said"),
    [
        ({"JWT_SECRET": "x" * 31}, "JWT_SECRET is shorter than 32 bytes"),
        ({"JWT_SECRET": ""}, "JWT_SECRET is not set"),
        ({"TICKETFLOW_LINK_SECRET": None}, "TICKETFLOW_LINK_SECRET is the built-in development"),
        ({"TICKETFLOW_LINK_SECRET": "a-real-secret-" + "x" * 40}, "must differ"),
    ],
    ids=["short", "empty", "link secret built in", "one secret for both"],
)
async def test_api_refuses_secrets_unfit_for_production(
    tmp_path: Path, secrets: dict[str, str | None], said: str
) -> None:
    chosen = {**PRODUCTION_SECRETS, **secrets}
    env = clean_env(**{name: value for name, value in chosen.items() if value is not None})
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


async def test_worker_refuses_the_built_in_link_secret_but_needs_no_jwt_secret(
    tmp_path: Path,
) -> None:
    async with asyncio.timeout(CLI_TIMEOUT_S):
        refused = await run_cli("worker", cwd=tmp_path)
        linked = clean_env(TICKETFLOW_LINK_SECRET=PRODUCTION_SECRETS["TICKETFLOW_LINK_SECRET"])
        further = await run_cli("worker", cwd=tmp_path, env=linked)
    assert refused.returncode == 2
    assert "TICKETFLOW_LINK_SECRET is the built-in development secret" in refused.stderr
    assert "JWT_SECRET" not in refused.stderr
    assert further.returncode == 2
    assert "DATABASE_URL" in further.stderr  # past the keys, on to what it needs next


async def test_api_with_a_real_secret_still_needs_a_database(tmp_path: Path) -> None:
    env = clean_env(**PRODUCTION_SECRETS)
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


@pytest.mark.parametrize("command", ["api", "worker"])
async def test_production_processes_refuse_to_start_without_payload_keys(
    tmp_path: Path, command: str
) -> None:
    env = clean_env(
        JWT_SECRET="a-real-secret-" + "x" * 40,
        DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none",
    )
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli(command, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "TICKETFLOW_PAYLOAD_KEYS is not set" in result.stderr
    assert "ticketflow payload-key" in result.stderr  # how to make one
    assert "--dev" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["api", "worker"])
async def test_malformed_payload_keys_are_refused_even_with_dev(
    tmp_path: Path, command: str
) -> None:
    key = "c2hvcnQ="  # 5 bytes
    env = clean_env(TICKETFLOW_PAYLOAD_KEYS=f"k1:{key}")
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli(command, "--dev", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "TICKETFLOW_PAYLOAD_KEYS: the key of 'k1' is 5 bytes; AES-256 needs 32" in result.stderr
    assert key not in result.stderr
    assert "Traceback" not in result.stderr


async def test_payload_key_prints_a_fresh_key_entry(tmp_path: Path) -> None:
    async with asyncio.timeout(CLI_TIMEOUT_S):
        first = await run_cli("payload-key", cwd=tmp_path)
        second = await run_cli("payload-key", "--id", "k2", cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    assert PayloadKeys.parse(first.stdout).ids == ("k1",)
    assert PayloadKeys.parse(second.stdout).ids == ("k2",)
    assert first.stdout.partition(":")[2] != second.stdout.partition(":")[2]


async def test_replay_decrypts_an_encrypted_history_with_the_keys_given(tmp_path: Path) -> None:
    history = str(next(TEST_KEYS_FILE.parent.glob("lifecycle-encrypted-*.json")))
    async with asyncio.timeout(CLI_TIMEOUT_S):
        without = await run_cli("replay", history, cwd=tmp_path)
        with_file = await run_cli(
            "replay", "--keys-file", str(TEST_KEYS_FILE), history, cwd=tmp_path
        )
        with_setting = await run_cli(
            "replay",
            history,
            cwd=tmp_path,
            env=clean_env(TICKETFLOW_PAYLOAD_KEYS=TEST_KEYS_SETTING),
        )
    assert without.returncode == 1
    assert "not among the configured keys" in without.stdout
    for result in (with_file, with_setting):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 histories replayed, 0 non-deterministic" in result.stdout


async def test_api_refuses_a_wildcard_codec_origin(tmp_path: Path) -> None:
    env = clean_env(TICKETFLOW_CODEC_CORS_ORIGINS="*", DATABASE_URL="postgresql://x@h/db")
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", "--dev", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "TICKETFLOW_CODEC_CORS_ORIGINS: '*' is not allowed" in result.stderr


async def test_api_refuses_a_wildcard_api_origin(tmp_path: Path) -> None:
    env = clean_env(
        TICKETFLOW_CORS_ORIGINS="https://app.example.com,*", DATABASE_URL="postgresql://x@h/db"
    )
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", "--dev", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "TICKETFLOW_CORS_ORIGINS: '*' is not allowed" in result.stderr


async def test_api_refuses_a_guessable_metrics_token(tmp_path: Path) -> None:
    env = clean_env(TICKETFLOW_METRICS_TOKEN="hunter2-metrics", DATABASE_URL="postgresql://x@h/db")
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "TICKETFLOW_METRICS_TOKEN is shorter than 32 bytes" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout  # never echoed


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ({"TICKETFLOW_MFA_REQUIRED_ROLES": "admin"}, "needs TICKETFLOW_SECRETS_KEY"),
        ({"TICKETFLOW_TRUSTED_PROXIES": "10.0.0.0/8,proxy"}, "'proxy' is not an IP address"),
    ],
    ids=["mfa without a key", "a proxy by name"],
)
async def test_api_refuses_sign_in_settings_that_cannot_work(
    tmp_path: Path, setting: dict[str, str], said: str
) -> None:
    env = clean_env(DATABASE_URL="postgresql://x@h/db", **setting)
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", "--dev", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


async def test_api_refuses_fewer_than_one_process(tmp_path: Path) -> None:
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("api", "--dev", "--processes", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "--processes" in result.stderr


@pytest.mark.slow
async def test_api_serves_from_several_processes_and_stops_them_all(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment
) -> None:
    port = free_port()
    env = clean_env(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
    )
    api = await RunningCli.start(
        "api", "--dev", "--port", str(port), "--processes", "2", cwd=tmp_path, env=env
    )
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S), httpx.AsyncClient() as http:
            await _until_healthy(http, f"http://127.0.0.1:{port}/health")
        servers = psutil.Process(api.process.pid).children()
        assert len(servers) == 2
        async with asyncio.timeout(DEV_STOP_TIMEOUT_S):
            code = await api.stop(signal.SIGTERM)
    finally:
        await api.kill()
    assert code == 0, api.stderr[-4000:]
    assert "Traceback" not in api.stderr
    assert not any(server.is_running() for server in servers)


@pytest.mark.slow
async def test_api_processes_stop_together_when_one_cannot_start(
    tmp_path: Path, database_url: str
) -> None:
    nobody_there = f"127.0.0.1:{free_port()}"
    env = clean_env(DATABASE_URL=database_url, TEMPORAL_ADDRESS=nobody_there)
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli(
            "api", "--dev", "--port", str(free_port()), "--processes", "2", cwd=tmp_path, env=env
        )
    assert result.returncode == 1
    assert nobody_there in result.stderr


@pytest.mark.slow
async def test_worker_runs_several_processes_on_one_queue_and_stops_them_all(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment
) -> None:
    async with _two_workers(tmp_path, database_url, dev_env) as worker:
        workers = psutil.Process(worker.process.pid).children()
        assert len(workers) == 2
        async with asyncio.timeout(DEV_STOP_TIMEOUT_S):
            code = await worker.stop(signal.SIGTERM)
    assert code == 0, worker.stderr[-4000:]
    assert "Traceback" not in worker.stderr
    assert not any(process.is_running() for process in workers)


@pytest.mark.slow
async def test_worker_processes_stop_together_when_one_dies(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment
) -> None:
    async with _two_workers(tmp_path, database_url, dev_env) as worker:
        dying, other = psutil.Process(worker.process.pid).children()
        dying.kill()
        async with asyncio.timeout(DEV_STOP_TIMEOUT_S):
            code = await worker.process.wait()
    assert code == 1
    assert not other.is_running()


@contextlib.asynccontextmanager
async def _two_workers(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment
) -> AsyncIterator[RunningCli]:
    """`ticketflow worker --processes 2` on a queue of its own, once both processes poll it."""
    queue = f"cli-workers-{uuid4().hex[:8]}"
    env = clean_env(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        TICKETFLOW_TASK_QUEUE=queue,
        TICKETFLOW_PAYLOAD_KEYS=TEST_KEYS_SETTING,
    )
    worker = await RunningCli.start("worker", "--dev", "--processes", "2", cwd=tmp_path, env=env)
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            await until_pollers(dev_env.client, queue, 2)
        yield worker
    finally:
        await worker.kill()


async def _until_healthy(http: httpx.AsyncClient, url: str) -> None:
    for _ in range(CLI_TIMEOUT_S * 5):
        with contextlib.suppress(httpx.TransportError):
            if (await http.get(url)).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never answered")


async def _the_web_ui_decodes_through_the_api(
    http: httpx.AsyncClient, api_port: int, ui_port: int
) -> None:
    """The dev server's Web UI is told of the API's codec, which lets the UI's origin in."""
    ui, codec = f"http://127.0.0.1:{ui_port}", f"http://127.0.0.1:{api_port}/codec"
    ui_settings = (await http.get(f"{ui}/api/v1/settings")).json()
    assert ui_settings["Codec"]["Endpoint"] == codec
    preflight = await http.options(
        f"{codec}/decode", headers={"Origin": ui, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["access-control-allow-origin"] == ui
    anonymous = await http.post(f"{codec}/decode", json={"payloads": []}, headers={"Origin": ui})
    assert anonymous.status_code == 401


async def test_migrate_needs_a_database_url(tmp_path: Path) -> None:
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("migrate", cwd=tmp_path)
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr


async def test_dev_fresh_refuses_to_wipe_a_directory_it_did_not_create(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("dev", "--fresh", "--data-dir", str(precious), cwd=tmp_path)
    assert result.returncode == 1
    assert "refusing to wipe" in result.stderr
    assert (precious / "thesis.tex").exists()


@pytest.mark.slow
async def test_dev_serves_the_api_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, outside_tmp_path: Path
) -> None:
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    dev = await RunningCli.start(
        "dev",
        "--fresh",
        "--data-dir",
        str(outside_tmp_path / "data"),
        "--api-port",
        str(api_port),
        "--temporal-port",
        str(temporal_port),
        "--ui-port",
        str(ui_port),
        cwd=tmp_path,
        # A user's cluster settings are not for the dev stack's own plaintext server.
        env=clean_env(
            TEMPORAL_ADDRESS="temporal.example.com:7233",
            TEMPORAL_TLS="true",
            TEMPORAL_API_KEY="not-for-the-dev-server",
        ),
    )
    try:
        async with asyncio.timeout(DEV_STARTUP_TIMEOUT_S):
            docs_line = await dev.wait_for_line("/docs")
            ui_line = await dev.wait_for_line(f":{ui_port}")
            admin_line = await dev.wait_for_line("Admin")
        assert f"http://127.0.0.1:{api_port}/docs" in docs_line
        assert f"http://127.0.0.1:{ui_port}" in ui_line
        assert re.search(r"\S+@\S+", admin_line), admin_line

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
            assert (await http.get("/health")).status_code == 200
            assert (await http.get("/docs")).status_code == 200
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{ui_port}/")).status_code == 200
            await _the_web_ui_decodes_through_the_api(http, api_port, ui_port)
        keys_file = outside_tmp_path / "data" / "payload-keys"
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600

        async with asyncio.timeout(DEV_STOP_TIMEOUT_S):
            code = await dev.stop()
    finally:
        await dev.kill()
    assert code == 0, dev.stderr[-4000:]
    assert "Traceback" not in dev.stderr
