"""Production parity without Docker: the commands `docs/operations.md` gives an operator, run
as they are written, as separate processes, on an empty database and a Temporal server that
does not have ticketflow's namespace yet. Then a ticket is opened, worked, shared between the
two API replicas and breached, end to end.

The commands come from the block between `<!-- production-commands -->` markers in the doc,
so the doc and this test cannot drift apart: the only liberties taken are the API replicas'
ports (free ones instead of 8000 and 8001) and `ticketflow` meaning this interpreter's CLI.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shlex
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from security.payload_codec import new_key_line
from tests.support.cli import RunningCli, clean_env, cli_command, until_pollers
from tests.support.postgres import scratch_database
from tests.support.s3 import aws_environment
from ticketflow.devstack import TemporalDevServer, free_port

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "operations.md"
NAMESPACE = "helpdesk"
ADMIN = ("ops@corp.example", "an admin password 1")
STEP_TIMEOUT_S = 120
V1 = "/api/v1"


def documented_commands() -> list[list[str]]:
    """The production commands of the operator's guide, one argv (with env prefixes) each."""
    found = re.search(
        r"<!-- production-commands -->\n```sh\n(.*?)```\n<!-- /production-commands -->",
        GUIDE.read_text(),
        re.DOTALL,
    )
    assert found, "docs/operations.md lost its production-commands block"
    lines = (line.strip() for line in found.group(1).splitlines())
    return [shlex.split(line) for line in lines if line and not line.startswith("#")]


@dataclass
class Step:
    env: dict[str, str]
    argv: list[str]

    @property
    def long_running(self) -> bool:
        return self.argv[:2] in (["ticketflow", "api"], ["ticketflow", "worker"])


def as_step(words: list[str]) -> Step:
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return Step(env, words)


def test_the_guide_runs_the_one_shots_before_the_processes() -> None:
    steps = [as_step(words) for words in documented_commands()]
    kinds = [step.long_running for step in steps]
    assert kinds == sorted(kinds), "every one-shot comes before the long-running processes"
    firsts = [step.argv[:2] for step in steps if not step.long_running]
    assert firsts == [
        ["temporal-config/setup.sh"],
        ["ticketflow", "migrate"],
        ["ticketflow", "init"],
    ]
    assert [s.argv[1] for s in steps if s.long_running].count("api") >= 2  # replicas


@dataclass
class Desk:
    env: dict[str, str]
    temporal: Client
    api_urls: list[str]


def _argv(step: Step, api_ports: list[int]) -> list[str]:
    argv = list(step.argv)
    if argv[0] == "ticketflow":
        if argv[1] == "api":
            argv[argv.index("--port") + 1] = str(api_ports.pop(0))
        return cli_command(*argv[1:])
    return [str(REPO / argv[0]), *argv[1:]]  # a script of the repo, e.g. temporal-config/


async def _one_shot(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(STEP_TIMEOUT_S):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"{shlex.join(argv)}:\n{out.decode()}\n{err.decode()}"
    return out.decode()


async def _healthy(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        while True:
            try:
                if (await http.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)


@pytest_asyncio.fixture(loop_scope="session")
async def desk(
    tmp_path: Path, outside_tmp_path: Path, database_url: str, s3_endpoint: str, s3_bucket: str
) -> AsyncIterator[Desk]:
    """A Temporal server, an empty database, and the guide's commands run against them."""
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(
            TemporalDevServer(outside_tmp_path, port=free_port(), headless=True, persistent=False)
        )
        url = await stack.enter_async_context(scratch_database(database_url, migrate=False))
        env = clean_env(
            DATABASE_URL=url,
            TEMPORAL_ADDRESS=server.address,
            TEMPORAL_NAMESPACE=NAMESPACE,
            TICKETFLOW_TASK_QUEUE=f"parity-{uuid4().hex[:8]}",
            JWT_SECRET=uuid4().hex + uuid4().hex,
            TICKETFLOW_LINK_SECRET=uuid4().hex + uuid4().hex,
            TICKETFLOW_PAYLOAD_KEYS=new_key_line("prod1"),
            TICKETFLOW_ADMIN_EMAIL=ADMIN[0],
            TICKETFLOW_ADMIN_PASSWORD=ADMIN[1],
            TICKETFLOW_S3_BUCKET=s3_bucket,
            PYTHON=sys.executable,
            TEMPORAL_WAIT_SECONDS="60",
            **aws_environment(s3_endpoint, tmp_path),
        )
        api_ports = [free_port(), free_port()]
        urls = [f"http://127.0.0.1:{port}" for port in api_ports]
        workers = 0
        for step in (as_step(words) for words in documented_commands()):
            argv = _argv(step, api_ports)
            step_env = {**env, **step.env}
            if not step.long_running:
                await _one_shot(argv, step_env, tmp_path)
                continue
            process = await RunningCli.start(*argv[3:], cwd=tmp_path, env=step_env)
            stack.push_async_callback(process.kill)
            workers += step.argv[1] == "worker"
        temporal = await Client.connect(server.address, namespace=NAMESPACE)  # no codec: raw
        async with asyncio.timeout(STEP_TIMEOUT_S):
            await until_pollers(temporal, env["TICKETFLOW_TASK_QUEUE"], workers)
            await asyncio.gather(*(_healthy(u) for u in urls))
        yield Desk(env, temporal, urls)


async def _login(http: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await http.post(f"{V1}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _until(check: Any, within: float = 30.0) -> Any:
    async with asyncio.timeout(within):
        for _ in itertools.count():
            if found := await check():
                return found
            await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_the_documented_deployment_opens_works_and_breaches_a_ticket(desk: Desk) -> None:
    one = httpx.AsyncClient(base_url=desk.api_urls[0])
    two = httpx.AsyncClient(base_url=desk.api_urls[1])
    async with one, two:
        admin = await _login(one, *ADMIN)
        departments = await _json(await one.get(f"{V1}/departments", headers=admin))
        [support] = [d for d in departments["items"] if d["name"] == "Support"]  # init's
        agent_email = "agent@corp.example"
        agent = await _json(
            await one.post(
                f"{V1}/users",
                headers=admin,
                json={
                    "email": agent_email,
                    "password": "an agent password 1",
                    "name": "Alex Agent",
                    "role": "agent",
                    "department_id": support["id"],
                },
            ),
            201,
        )
        # A policy whose resolution target is due in seconds, tried before init's Standard.
        await _json(
            await one.post(
                f"{V1}/sla/policies",
                headers=admin,
                json={
                    "name": "Parity",
                    "position": 1,
                    "targets": {p: {"first_response": "PT1H", "resolution": "PT4S"} for p in
                                ("P1", "P2", "P3", "P4")},
                },
            ),
            201,
        )  # fmt: skip
        requester = await _json(
            await two.post(
                f"{V1}/auth/register",
                json={"email": "ana@corp.example", "password": "a requester pw 1", "name": "Ana"},
            ),
            201,
        )
        asks = {"Authorization": f"Bearer {requester['access_token']}"}
        title = f"Laptop does not boot {uuid4().hex}"
        ticket = await _json(
            await two.post(
                f"{V1}/tickets",
                headers=asks,
                json={"title": title, "description": "Black screen since this morning"},
            ),
            201,
        )
        number = ticket["number"]
        assert ticket["sla"]["policy"] == "Parity"
        assert ticket["department_id"] == support["id"]

        helps = await _login(two, agent_email, "an agent password 1")
        assigned = await one.patch(
            f"{V1}/tickets/{number}/assign", headers=admin, json={"assignee_id": agent["id"]}
        )
        assert (await _json(assigned))["status"] == "in_progress"
        await _json(
            await two.post(
                f"{V1}/tickets/{number}/comment",
                headers=helps,
                json={"body": "Hold the power button for 30 s, then try again."},
            ),
            201,
        )
        # A file sent to one replica is served by the other (one S3 bucket behind both).
        sent = await _json(
            await one.post(
                f"{V1}/tickets/{number}/attachment",
                headers=asks,
                files={"file": ("screen.txt", b"still black", "text/plain")},
            ),
            201,
        )
        fetched = await two.get(f"{V1}/tickets/{number}/attachments/{sent['id']}", headers=helps)
        assert (fetched.status_code, fetched.content) == (200, b"still black")

        async def breached() -> dict[str, Any] | None:
            sla = await _json(await one.get(f"{V1}/tickets/{number}/sla", headers=helps))
            return sla if sla["resolution"]["state"] == "breached" else None

        sla = await _until(breached)
        assert sla["first_response"]["state"] == "met"
        history = await _json(await two.get(f"{V1}/tickets/{number}/history", headers=helps))
        assert any("breach" in entry["kind"] for entry in history), history

        resolved = await two.post(
            f"{V1}/tickets/{number}/resolve", headers=helps, json={"solution": "New disk"}
        )
        assert (await _json(resolved))["status"] == "resolved"

    # Temporal holds the ticket in its own namespace, and none of its text in clear.
    raw = await desk.temporal.get_workflow_handle(f"ticket-{number}").fetch_history()
    stored = b"".join(event.SerializeToString() for event in raw.events)
    assert len(raw.events) > 10
    assert title.split()[-1].encode() not in stored
