"""docker-compose.yml (and its MinIO overlay), checked without a Docker engine.

What a first `docker compose up` depends on: the services and the order they start in, health
checks and restart policies, volumes, what is published where, pinned images, commands that
exist, and an .env.example that lists every variable and nothing unknown.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import compose
from tests.deploy.compose import BASE, MINIO, REPO, Service
from ticketflow.cli import build_parser
from ticketflow.settings import WORKER_HEALTH_PORT_VARIABLE, Settings

LONG_RUNNING = {"postgres", "temporal", "temporal-ui", "api", "worker"}
ONE_SHOTS = {"postgres-setup", "temporal-schema", "temporal-setup", "migrate", "init"}
MINIO_LONG_RUNNING = {"minio"}
MINIO_ONE_SHOTS = {"minio-setup"}
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
# The order a first start depends on: (service, what it waits for, how).
EDGES = {
    ("postgres-setup", "postgres", HEALTHY),
    ("temporal-schema", "postgres-setup", COMPLETED),
    ("temporal", "temporal-schema", COMPLETED),
    ("temporal-setup", "temporal", HEALTHY),
    ("temporal-ui", "temporal", HEALTHY),
    ("migrate", "postgres-setup", COMPLETED),
    ("init", "migrate", COMPLETED),
    ("api", "init", COMPLETED),
    ("api", "temporal-setup", COMPLETED),
    ("worker", "init", COMPLETED),
    ("worker", "temporal-setup", COMPLETED),
}
MINIO_EDGES = {
    ("minio-setup", "minio", HEALTHY),
    ("api", "minio-setup", COMPLETED),
    ("worker", "minio-setup", COMPLETED),
}
# Read by the `temporal` CLI (so by temporal-config/ scripts) and the SDK's env config.
TEMPORAL_CLIENT_VARIABLES = {
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_CLIENT_CERT_DATA",
    "TEMPORAL_TLS_CLIENT_KEY_DATA",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
    "TEMPORAL_PROFILE",
    "TEMPORAL_CONFIG_FILE",
}
AWS_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL_S3"}
# Read by temporal-config/ scripts, Compose itself, and the test suite.
SCRIPT_VARIABLES = {"TEMPORAL_RETENTION", "TEMPORAL_WAIT_SECONDS", "PYTHON"}
COMPOSE_VARIABLES = {"COMPOSE_FILE"}
TEST_VARIABLES = {"TEST_DATABASE_URL", "TICKETFLOW_RECORD_HISTORY"}
# An exact release: 1.30.1, 16.11 (PostgreSQL's own numbering), or MinIO's RELEASE stamps.
PINNED_TAG = re.compile(r"^(\d+\.\d+(\.\d+)?|RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)$")


def _base() -> dict[str, Any]:
    return compose.load(BASE)


def _with_minio() -> dict[str, Any]:
    return compose.merged(BASE, MINIO)


def _settings_variables() -> set[str]:
    return {(field.alias or name).upper() for name, field in Settings.model_fields.items()}


def _ticketflow_services(services: dict[str, Service]) -> dict[str, Service]:
    """The services that run the image built from this repository."""
    return {name: service for name, service in services.items() if "build" in service}


def _condition(service: Service, dependency: str) -> str | None:
    depends_on = service.get("depends_on") or {}
    assert isinstance(depends_on, dict), "depends_on must name a condition for each service"
    entry = depends_on.get(dependency)
    return None if entry is None else entry.get("condition")


# --- Services, order, health, restarts ---------------------------------------------------


@pytest.mark.parametrize(
    ("compose_file", "long_running", "one_shots"),
    [
        (_base, LONG_RUNNING, ONE_SHOTS),
        (_with_minio, LONG_RUNNING | MINIO_LONG_RUNNING, ONE_SHOTS | MINIO_ONE_SHOTS),
    ],
    ids=["base", "with-minio"],
)
def test_the_services_are_long_running_ones_and_one_shots(
    compose_file: Any, long_running: set[str], one_shots: set[str]
) -> None:
    services = compose.services(compose_file())
    assert set(services) == long_running | one_shots
    for name in long_running:
        assert services[name].get("restart") in ("unless-stopped", "always"), name
        check = services[name].get("healthcheck", {}).get("test")
        assert check and check != ["NONE"], f"{name} has no health check"
    for name in one_shots:
        assert services[name].get("restart") == "no", f"{name} is a one-shot: restart: 'no'"


@pytest.mark.parametrize(
    ("compose_file", "edges"),
    [(_base, EDGES), (_with_minio, EDGES | MINIO_EDGES)],
    ids=["base", "with-minio"],
)
def test_each_service_waits_for_what_it_needs(compose_file: Any, edges: set[Any]) -> None:
    services = compose.services(compose_file())
    for service, dependency, condition in sorted(edges):
        assert _condition(services[service], dependency) == condition, (
            f"{service} must wait for {dependency} with {condition}"
        )


@pytest.mark.parametrize("compose_file", [_base, _with_minio], ids=["base", "with-minio"])
def test_a_one_shot_is_waited_for_until_it_succeeds_and_a_server_until_it_is_healthy(
    compose_file: Any,
) -> None:
    services = compose.services(compose_file())
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            one_shot = services[dependency].get("restart") == "no"
            wanted = COMPLETED if one_shot else HEALTHY
            assert _condition(service, dependency) == wanted, f"{name} → {dependency}"


def test_the_health_checks_ask_the_ports_the_processes_serve() -> None:
    services = compose.services(_base())
    api, worker = services["api"], services["worker"]
    api_port = api["command"][api["command"].index("--port") + 1]
    assert f"127.0.0.1:{api_port}/health" in " ".join(api["healthcheck"]["test"])
    worker_port = compose.environment(worker)[WORKER_HEALTH_PORT_VARIABLE]
    assert worker_port is not None
    assert f"127.0.0.1:{worker_port}/health" in " ".join(worker["healthcheck"]["test"])


# --- Volumes and published ports -------------------------------------------------------


def _mounts(service: Service) -> dict[str, str]:
    """Container path → source (a named volume, or a path in the repository) of each mount."""
    found = {}
    for volume in service.get("volumes") or []:
        source, target = volume.split(":")[:2]
        found[target] = source
    return found


def test_postgres_data_and_attachments_live_in_named_volumes() -> None:
    base = _base()
    services = compose.services(base)
    assert {"postgres-data", "attachments"} <= set(base["volumes"])
    assert _mounts(services["postgres"])["/var/lib/postgresql/data"] == "postgres-data"
    attachments_dir = compose.environment(services["api"])["TICKETFLOW_ATTACHMENTS_DIR"]
    assert attachments_dir is not None
    assert _mounts(services["api"])[attachments_dir] == "attachments"
    # The image makes that directory, owned by its user: a fresh volume copies both.
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"TICKETFLOW_ATTACHMENTS_DIR={attachments_dir}" in dockerfile
    made = re.search(r"install --directory --owner=ticketflow[^\n]*\n([^\n]*)", dockerfile)
    assert made and attachments_dir in made[1].split(), "the Dockerfile must make it, owned"


def _host_ip(port: str | dict[str, Any]) -> str | None:
    """The address a published port listens on by default; None for every interface."""
    if isinstance(port, dict):
        host_ip = port.get("host_ip")
        return None if host_ip is None else compose.resolve(str(host_ip))
    parts = compose.resolve(port).split(":")
    return parts[0] if len(parts) == 3 else None


@pytest.mark.parametrize("compose_file", [_base, _with_minio], ids=["base", "with-minio"])
def test_published_ports_listen_on_127_0_0_1_unless_env_says_otherwise(compose_file: Any) -> None:
    published: dict[str, list[Any]] = {}
    for name, service in compose.services(compose_file()).items():
        for port in service.get("ports") or []:
            published.setdefault(name, []).append(port)
            assert _host_ip(port) == "127.0.0.1", f"{name} publishes {port} on every interface"
    assert any(str(p).endswith(":7233") for p in published["temporal"]), "Temporal's gRPC port"
    assert any(str(p).endswith(":8080") for p in published["temporal-ui"]), "the Web UI"


# --- Images ------------------------------------------------------------------------------


@pytest.mark.parametrize("compose_file", [_base, _with_minio], ids=["base", "with-minio"])
def test_every_image_is_pinned_and_none_is_auto_setup(compose_file: Any) -> None:
    for name, service in compose.services(compose_file()).items():
        image = compose.resolve(service["image"])
        assert "auto-setup" not in image, f"{name}: auto-setup is deprecated"
        if "build" in service:
            continue  # built from this repository
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert PINNED_TAG.match(tag), f"{name}: {image} is not pinned to an exact release"


def test_temporal_server_and_admin_tools_are_the_same_release() -> None:
    services = compose.services(_base())
    server = services["temporal"]["image"].rpartition(":")[2]
    admin_tools = services["temporal-schema"]["image"].rpartition(":")[2]
    assert server == admin_tools, "the schema must be the one the server expects"


# --- Commands and scripts ------------------------------------------------------------------


def _host_path(service: Service, container_path: str) -> Path | None:
    """The file in the repository that a bind mount puts at `container_path`."""
    for target, source in _mounts(service).items():
        if source.startswith("./") and (
            container_path == target or container_path.startswith(target.rstrip("/") + "/")
        ):
            return REPO / source / os.path.relpath(container_path, target)
    return None


@pytest.mark.parametrize("compose_file", [_base, _with_minio], ids=["base", "with-minio"])
def test_ticketflow_services_run_real_commands_and_scripts(compose_file: Any) -> None:
    services = compose.services(compose_file())
    for name, service in _ticketflow_services(services).items():
        command = [compose.resolve(str(part)) for part in service["command"]]
        if command[0] == "ticketflow":
            try:
                build_parser().parse_args(command[1:])
            except SystemExit:
                pytest.fail(f"{name}: `{' '.join(command)}` is not a ticketflow command")
        else:
            # Relative to the image's WORKDIR, which holds temporal-config/ as in the repo.
            script = REPO / command[0]
            assert script.is_file() and os.access(script, os.X_OK), f"{name}: {command[0]}"


@pytest.mark.parametrize("compose_file", [_base, _with_minio], ids=["base", "with-minio"])
def test_scripts_mounted_into_other_images_exist_and_are_executable(compose_file: Any) -> None:
    services = compose.services(compose_file())
    entrypoints = {n: s["entrypoint"] for n, s in services.items() if "entrypoint" in s}
    assert {"postgres-setup", "temporal-schema"} <= set(entrypoints)
    for name, entrypoint in entrypoints.items():
        script = _host_path(services[name], entrypoint[0])
        assert script is not None, f"{name}: {entrypoint[0]} is not mounted from the repository"
        assert script.is_file() and os.access(script, os.X_OK), f"{name}: {script}"


def test_docker_compose_accepts_the_files() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    version = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    if version.returncode != 0:
        reason = version.stderr.strip().splitlines()[0] if version.stderr.strip() else "no output"
        pytest.skip(f"`docker compose` is not available ({reason}): config not checked")
    required = {name: "x" for name in compose.env_example_values()}
    env = {**os.environ, **required, "MINIO_ROOT_USER": "x", "MINIO_ROOT_PASSWORD": "x" * 8}
    for files in (["-f", str(BASE)], ["-f", str(BASE), "-f", str(MINIO)]):
        checked = subprocess.run(
            [docker, "compose", *files, "config", "--quiet"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr


# --- .env.example ------------------------------------------------------------------------


def _known_variables() -> set[str]:
    with_minio = compose.services(_with_minio())
    container_env = {
        name
        for service in _ticketflow_services(with_minio).values()
        for name in compose.environment(service)
    }
    return (
        _settings_variables()
        | container_env
        | compose.interpolated_names(BASE)
        | compose.interpolated_names(MINIO)
        | TEMPORAL_CLIENT_VARIABLES
        | AWS_VARIABLES
        | SCRIPT_VARIABLES
        | COMPOSE_VARIABLES
        | TEST_VARIABLES
    )


def test_env_example_lists_only_variables_the_project_reads() -> None:
    unknown = set(compose.env_example_names()) - _known_variables()
    assert not unknown, f".env.example lists variables nothing reads: {sorted(unknown)}"


def test_env_example_lists_every_setting_and_every_compose_variable() -> None:
    listed = set(compose.env_example_names())
    missing_settings = _settings_variables() - listed
    assert not missing_settings, f"add to .env.example: {sorted(missing_settings)}"
    interpolated = compose.interpolated_names(BASE) | compose.interpolated_names(MINIO)
    assert not interpolated - listed, f"add to .env.example: {sorted(interpolated - listed)}"


def test_env_example_lists_each_variable_once_and_ships_no_values() -> None:
    names = compose.env_example_names()
    assert len(names) == len(set(names)), "a variable is listed twice"
    filled = {name: value for name, value in compose.env_example_values().items() if value}
    assert not filled, f"lines that are on must be empty (secrets to fill in): {filled}"


def test_every_required_compose_variable_is_a_line_to_fill_in() -> None:
    required = set()
    for path in (BASE,):
        required |= set(re.findall(r"\$\{([A-Z0-9_]+):\?", path.read_text()))
    assert required == set(compose.env_example_values())


def test_every_setting_reaches_the_api_and_the_worker() -> None:
    services = compose.services(_base())
    for name in ("api", "worker"):
        passed = set(compose.environment(services[name]))
        missing = _settings_variables() - passed - {WORKER_HEALTH_PORT_VARIABLE}
        assert not missing, f"{name} never gets {sorted(missing)} (add it to x-ticketflow)"
