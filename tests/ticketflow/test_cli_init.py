"""`ticketflow init` and `ticketflow admin` as an operator runs them, on an empty database."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.support.cli import Completed, clean_env, run_cli
from tests.support.postgres import scratch_database

CLI_TIMEOUT_S = 60
LEAD = "lead@corp.example"


async def cli(*args: str, cwd: Path, url: str, stdin: bytes | None = None) -> Completed:
    env = clean_env(DATABASE_URL=url, TICKETFLOW_ADMIN_EMAIL=LEAD, TICKETFLOW_LANGUAGE="es")
    async with asyncio.timeout(CLI_TIMEOUT_S):
        return await run_cli(*args, cwd=cwd, env=env, stdin=stdin)


def shown_password(result: Completed, email: str) -> str:
    found = re.search(rf"{re.escape(email)} / (\S+)", result.stdout)
    assert found, result.stdout
    return found.group(1)


async def test_init_sets_up_the_desk_once_and_shows_a_one_time_password(
    tmp_path: Path, database_url: str
) -> None:
    async with scratch_database(database_url) as url:
        first = await cli("init", cwd=tmp_path, url=url)
        assert first.returncode == 0, first.stderr
        assert (
            "desk (es): created 1 admin, 1 departments, 1 SLA policy, "
            "5 automation rules, 4 response templates"
        ) in first.stdout
        printed = shown_password(first, LEAD)
        assert "one-time" in first.stdout

        again = await cli("init", cwd=tmp_path, url=url)
        assert again.returncode == 0, again.stderr
        assert "desk (es): nothing to do" in again.stdout
        assert printed not in again.stdout
        # A second language adds its templates; the rules and defaults stay as they are.
        english = await cli("init", "--language", "en", cwd=tmp_path, url=url)
        assert "desk (en): created 4 response templates" in english.stdout

        reset = await cli("admin", "reset-password", "--email", LEAD, cwd=tmp_path, url=url)
        assert reset.returncode == 0, reset.stderr
        assert shown_password(reset, LEAD) != printed


async def test_admin_create_takes_a_password_on_stdin_and_refuses_a_second_admin(
    tmp_path: Path, database_url: str
) -> None:
    async with scratch_database(database_url) as url:
        other = "deputy@corp.example"
        made = await cli(
            "admin", "create", "--email", other, "--password-stdin",
            cwd=tmp_path, url=url, stdin=b"a chosen password\n",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert f"admin: {other} (password as given)" in made.stdout
        assert "a chosen password" not in made.stdout

        twice = await cli("admin", "create", "--email", other, cwd=tmp_path, url=url)
        assert twice.returncode == 2
        assert "already an admin" in twice.stderr

        unknown = await cli("admin", "reset-password", "--email", LEAD, cwd=tmp_path, url=url)
        assert unknown.returncode == 2
        assert "admin create" in unknown.stderr


async def test_init_needs_a_database_url(tmp_path: Path) -> None:
    async with asyncio.timeout(CLI_TIMEOUT_S):
        result = await run_cli("init", cwd=tmp_path)
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr
