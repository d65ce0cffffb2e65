"""Connecting to a Temporal cluster as the environment describes it: TLS, mTLS, API keys.

The dev server is plaintext only, so a TLS-terminating proxy stands in front of it
(tests/support/tls_proxy.py), with a CA and certificates made for the test.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from domain.broadcasts import Broadcast, BroadcastRun
from tests.support.cli import RunningCli, clean_env, run_cli, until_pollers
from tests.support.payload_keys import TEST_KEYS, TEST_KEYS_SETTING
from tests.support.tls_proxy import Certificates, TlsProxy
from ticketflow.settings import Settings
from ticketflow.temporal import TemporalConfigError, TemporalTarget, connect_temporal
from workflows.broadcast import BroadcastWorkflow

CONNECT_TIMEOUT_S = 30
CLI_TIMEOUT_S = 90
REPO = Path(__file__).parents[2]


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with neither address nor namespace set (as a deployment relying on TEMPORAL_*)."""
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("pki"))


@pytest_asyncio.fixture(loop_scope="session")
async def tls_frontend(
    dev_env: WorkflowEnvironment, certificates: Certificates
) -> AsyncIterator[TlsProxy]:
    """The dev server behind TLS (no client certificate asked for)."""
    upstream = dev_env.client.service_client.config.target_host
    async with TlsProxy(certificates, upstream) as proxy:
        yield proxy


@pytest_asyncio.fixture(loop_scope="session")
async def mtls_frontend(
    dev_env: WorkflowEnvironment, certificates: Certificates
) -> AsyncIterator[TlsProxy]:
    """The dev server behind mutual TLS: a client certificate of the test CA is required."""
    upstream = dev_env.client.service_client.config.target_host
    async with TlsProxy(certificates, upstream, require_client_cert=True) as proxy:
        yield proxy


def _mtls_env(proxy: TlsProxy, certificates: Certificates) -> dict[str, str]:
    return {
        "TEMPORAL_ADDRESS": proxy.address,
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates.ca_path),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(certificates.client_cert_path),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(certificates.client_key_path),
    }


async def _connect(settings: Settings, env: dict[str, str]) -> Client:
    target = TemporalTarget.from_environment(settings, env)
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        client = await connect_temporal(target, TEST_KEYS)
        await client.count_workflows()  # a real call through the connection
        return client


async def test_a_client_connects_over_tls_trusting_the_given_ca(
    settings: Settings, tls_frontend: TlsProxy, certificates: Certificates
) -> None:
    env = {
        "TEMPORAL_ADDRESS": tls_frontend.address,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates.ca_path),
    }
    await _connect(settings, env)
    assert tls_frontend.connections >= 1

    untrusted = {"TEMPORAL_ADDRESS": tls_frontend.address, "TEMPORAL_TLS": "true"}
    with pytest.raises(RuntimeError):  # the system CAs do not know the test CA
        await _connect(settings, untrusted)


async def test_mtls_refuses_a_client_without_a_certificate_and_takes_one_with_it(
    settings: Settings, mtls_frontend: TlsProxy, certificates: Certificates
) -> None:
    no_certificate = {
        "TEMPORAL_ADDRESS": mtls_frontend.address,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates.ca_path),
    }
    with pytest.raises(RuntimeError):
        await _connect(settings, no_certificate)
    await _connect(settings, _mtls_env(mtls_frontend, certificates))


async def test_certificates_can_be_given_inline_too(
    settings: Settings, mtls_frontend: TlsProxy, certificates: Certificates
) -> None:
    env = {
        "TEMPORAL_ADDRESS": mtls_frontend.address,
        "TEMPORAL_TLS_SERVER_CA_CERT_DATA": certificates.ca_path.read_text(),
        "TEMPORAL_TLS_CLIENT_CERT_DATA": certificates.client_cert_path.read_text(),
        "TEMPORAL_TLS_CLIENT_KEY_DATA": certificates.client_key_path.read_text(),
    }
    await _connect(settings, env)


async def test_an_api_key_reaches_the_server_as_bearer_authorization(
    settings: Settings, tls_frontend: TlsProxy, certificates: Certificates
) -> None:
    api_key = f"tf-test-{uuid4().hex}"
    env = {
        "TEMPORAL_ADDRESS": tls_frontend.address,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates.ca_path),
        "TEMPORAL_API_KEY": api_key,
    }
    await _connect(settings, env)
    assert ("authorization", f"Bearer {api_key}") in tls_frontend.request_headers()


def test_an_api_key_alone_means_tls_and_never_shows_in_a_repr(settings: Settings) -> None:
    target = TemporalTarget.from_environment(
        settings,
        {"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_API_KEY": "secret-key"},
    )
    assert (target.address, target.api_key, target.tls) == (
        "ns.acct.tmprl.cloud:7233",
        "secret-key",
        True,
    )
    assert "secret-key" not in repr(target)
    assert "secret-key" not in target.describe()
    assert target.describe() == "ns.acct.tmprl.cloud:7233 (TLS, API key), namespace 'default'"


def test_a_profile_file_is_read_and_the_settings_win_where_set(
    tmp_path: Path, certificates: Certificates
) -> None:
    profiles = tmp_path / "temporal.toml"
    profiles.write_text(
        f"""
[profile.default]
address = "localhost:7233"

[profile.prod]
address = "temporal.example.com:7233"
namespace = "helpdesk"
[profile.prod.tls]
server_name = "temporal.example.com"
server_ca_cert_path = "{certificates.ca_path}"
client_cert_path = "{certificates.client_cert_path}"
client_key_path = "{certificates.client_key_path}"
"""
    )
    env = {"TEMPORAL_CONFIG_FILE": str(profiles), "TEMPORAL_PROFILE": "prod"}
    target = TemporalTarget.from_environment(Settings(_env_file=None), env)  # type: ignore[call-arg]
    assert (target.address, target.namespace) == ("temporal.example.com:7233", "helpdesk")
    assert isinstance(target.tls, TLSConfig)
    assert target.tls.domain == "temporal.example.com"
    assert target.tls.client_cert == certificates.client_cert_path.read_bytes()
    assert target.describe().startswith("temporal.example.com:7233 (mTLS)")

    chosen = Settings(  # e.g. from `.env`, which the SDK does not read
        _env_file=None,  # type: ignore[call-arg]
        temporal_address="other.example.com:7233",
        temporal_namespace="tickets",
    )
    target = TemporalTarget.from_environment(chosen, env)
    assert (target.address, target.namespace) == ("other.example.com:7233", "tickets")
    assert isinstance(target.tls, TLSConfig)  # TLS still comes from the profile


def test_nothing_configured_is_the_local_plaintext_default(settings: Settings) -> None:
    target = TemporalTarget.from_environment(settings, {"TEMPORAL_CONFIG_FILE": os.devnull})
    assert (target.address, target.namespace, target.tls) == ("localhost:7233", "default", False)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "true"}, "not supported by the Python SDK"),
        ({"TEMPORAL_PROFILE": "nowhere"}, "nowhere"),
        ({"TEMPORAL_TLS_CLIENT_CERT_PATH": "/no/such/cert.pem"}, "cannot read a TLS file"),
    ],
)
def test_unusable_settings_are_refused_clearly(
    settings: Settings, env: dict[str, str], problem: str
) -> None:
    env = {"TEMPORAL_CONFIG_FILE": os.devnull, "TEMPORAL_TLS": "true", **env}
    with pytest.raises(TemporalConfigError, match=problem):
        TemporalTarget.from_environment(settings, env)


async def test_worker_and_replay_run_over_mtls_configured_by_temporal_variables_only(
    tmp_path: Path,
    database_url: str,
    dev_env: WorkflowEnvironment,
    mtls_frontend: TlsProxy,
    certificates: Certificates,
) -> None:
    queue = f"tls-{uuid4().hex[:8]}"
    env = clean_env(
        DATABASE_URL=database_url,
        TICKETFLOW_TASK_QUEUE=queue,
        TICKETFLOW_PAYLOAD_KEYS=TEST_KEYS_SETTING,
        TICKETFLOW_LINK_SECRET="tls-tests-link-secret-0123456789abcdef0123",
        **_mtls_env(mtls_frontend, certificates),
    )
    worker = await RunningCli.start("worker", cwd=tmp_path, env=env)
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            await until_pollers(dev_env.client, queue, pid=worker.process.pid)
            # A broadcast runs its workflow and its activity on that worker.
            kind = Broadcast.RULES
            await dev_env.client.start_workflow(
                BroadcastWorkflow.run,
                BroadcastRun(kind=kind),
                id=kind.workflow_id(queue),
                task_queue=queue,
                start_signal="changed",
            )
            handle = dev_env.client.get_workflow_handle(kind.workflow_id(queue))
            while True:  # bounded by the timeout around it
                if await handle.query(BroadcastWorkflow.idle):
                    break
                await asyncio.sleep(0.2)
            query = f"WorkflowId = '{kind.workflow_id(queue)}'"
            replayed = await run_cli("replay", "--query", query, cwd=tmp_path, env=env)
    finally:
        await worker.kill()
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "1 histories replayed, 0 non-deterministic" in replayed.stdout


async def test_the_temporal_cli_registers_search_attributes_over_mtls(
    tmp_path: Path, mtls_frontend: TlsProxy, certificates: Certificates
) -> None:
    env = clean_env(PYTHON=sys.executable, **_mtls_env(mtls_frontend, certificates))
    script = REPO / "temporal-config" / "register-search-attributes.sh"
    process = await asyncio.create_subprocess_exec(
        "bash",
        str(script),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stdout.decode() + stderr.decode()
    assert "namespace default has every ticketflow search attribute" in stdout.decode()


def test_temporal_variables_in_dot_env_count_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("TEMPORAL_")]:
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        "TEMPORAL_ADDRESS=from-dotenv.example.com:7233\n"
        "TEMPORAL_API_KEY=dotenv-key\n"
        "TEMPORAL_NAMESPACE=from-dotenv\n"
    )
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "from-environment")
    target = TemporalTarget.from_environment(Settings())
    assert (target.address, target.namespace) == (
        "from-dotenv.example.com:7233",
        "from-environment",
    )
    assert (target.api_key, target.tls) == ("dotenv-key", True)
