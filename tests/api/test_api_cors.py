"""CORS for the browser front ends listed in TICKETFLOW_CORS_ORIGINS, and for nobody else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import Resources, create_app
from tests.api.conftest import ApiWith, Desk, assert_problem
from ticketflow.settings import Settings

FRONT_END = "https://app.example.com"
UI = "https://temporal-ui.example.com"
EVIL = "https://evil.example"


def preflight(
    origin: str, method: str = "POST", headers: str = "authorization, content-type"
) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest_asyncio.fixture(loop_scope="session")
async def cors_api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(
        update={"cors_origins": f"{FRONT_END}/, http://localhost:5173", "codec_cors_origins": UI}
    )
    async with api_with(configured) as client:
        yield client


async def test_a_listed_front_end_may_call_the_api(cors_api: httpx.AsyncClient, desk: Desk) -> None:
    answer = await cors_api.options(
        "/api/v1/tickets", headers=preflight(FRONT_END, "POST", "Authorization,Idempotency-Key")
    )
    assert answer.status_code == 204, answer.text
    assert answer.headers["access-control-allow-origin"] == FRONT_END
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = {h.strip() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "origin" in answer.headers["vary"].lower()
    # Bearer tokens, not cookies: the browser is never told to send credentials.
    assert "access-control-allow-credentials" not in answer.headers

    me = await cors_api.get("/api/v1/auth/me", headers={"Origin": FRONT_END, **desk.requester.auth})
    assert me.status_code == 200
    assert me.headers["access-control-allow-origin"] == FRONT_END
    assert "retry-after" in me.headers["access-control-expose-headers"].lower()
    # A problem is readable by the front end too.
    missing = await cors_api.get("/api/v1/nowhere", headers={"Origin": FRONT_END})
    assert_problem(missing, 404)
    assert missing.headers["access-control-allow-origin"] == FRONT_END


async def test_another_origin_gets_nothing(cors_api: httpx.AsyncClient, desk: Desk) -> None:
    refused = await cors_api.options("/api/v1/tickets", headers=preflight(EVIL))
    assert_problem(refused, 403)
    assert "access-control-allow-origin" not in refused.headers
    read = await cors_api.get("/api/v1/auth/me", headers={"Origin": EVIL, **desk.requester.auth})
    assert "access-control-allow-origin" not in read.headers
    # A listed origin asking for a method or header the API does not take is refused too.
    for ask in (preflight(FRONT_END, "TRACE"), preflight(FRONT_END, "GET", "x-evil")):
        refused = await cors_api.options("/api/v1/tickets", headers=ask)
        assert_problem(refused, 403)
        assert "access-control-allow-origin" not in refused.headers


async def test_without_the_setting_no_origin_may(api: httpx.AsyncClient, desk: Desk) -> None:
    refused = await api.options("/api/v1/tickets", headers=preflight("http://localhost:5173"))
    assert_problem(refused, 403)
    read = await api.get("/api/v1/auth/me", headers={"Origin": FRONT_END, **desk.requester.auth})
    assert read.status_code == 200
    assert "access-control-allow-origin" not in read.headers


async def test_the_codec_keeps_its_own_cors(cors_api: httpx.AsyncClient) -> None:
    # /codec answers its Web UI's origin, with credentials, and not the API's front ends.
    ui = await cors_api.options("/codec/decode", headers=preflight(UI, "POST", "content-type"))
    assert ui.status_code == 204
    assert ui.headers["access-control-allow-origin"] == UI
    assert ui.headers["access-control-allow-credentials"] == "true"
    front = await cors_api.options("/codec/decode", headers=preflight(FRONT_END))
    assert_problem(front, 403)
    assert "access-control-allow-origin" not in front.headers


@pytest.mark.parametrize("origins", ["*", "https://app.example.com, *", "app.example.com"])
async def test_a_wildcard_or_malformed_origin_is_refused_at_startup(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    origins: str,
) -> None:
    configured = settings.model_copy(update={"cors_origins": origins})
    with pytest.raises(ValueError, match="TICKETFLOW_CORS_ORIGINS"):
        create_app(configured, Resources(engine, session_factory, dev_env.client))
