"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import Resources, create_app
from api.services import tickets as tickets_service
from domain.durations import INPUT_PATTERN, OUTPUT_PATTERN, SIGNED_OUTPUT_PATTERN
from persistence.db import create_engine, session_factory
from tests.api.conftest import PASSWORD, ApiWith, Desk, People, assert_problem
from ticketflow.settings import Settings

METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef"


async def test_health_and_ready(api: httpx.AsyncClient) -> None:
    assert (await api.get("/health")).json() == {"status": "ok"}
    ready = await api.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "temporal": "ok"}


@pytest_asyncio.fixture(loop_scope="session")
async def unreachable_db() -> AsyncIterator[AsyncEngine]:
    engine = create_engine("postgresql://nobody@127.0.0.1:1/nothing", pool_pre_ping=False)
    yield engine
    await engine.dispose()


async def test_not_ready_without_the_database(
    settings: Settings, unreachable_db: AsyncEngine, dev_env: WorkflowEnvironment
) -> None:
    resources = Resources(unreachable_db, session_factory(unreachable_db), dev_env.client)
    app = create_app(settings, resources)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "down", "temporal": "ok"}
        assert (await client.get("/health")).status_code == 200


@pytest_asyncio.fixture(loop_scope="session")
async def scraped_api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a metrics token set, as a Prometheus scrapes it."""
    with_token = settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})
    async with api_with(with_token) as client:
        yield client


@pytest.mark.usefixtures("worker")
async def test_metrics_count_requests_by_route_template_and_tickets(
    scraped_api: httpx.AsyncClient, desk: Desk
) -> None:
    api = scraped_api
    for _ in range(2):
        await api.get(f"/api/v1/users/{desk.requester.id}", headers=desk.requester.auth)
    created = await api.post(
        "/api/v1/tickets",
        json={"title": "t", "description": "d", "department_id": str(desk.department_id)},
        headers=desk.requester.auth,
    )
    assert created.status_code == 201
    await api.get("/api/v1/nowhere")
    scraper = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    text = (await api.get("/metrics", headers=scraper)).text
    assert (
        'ticketflow_http_requests_total{method="GET",route="/api/v1/users/{user_id}",status="200"}'
        " 2.0" in text
    )
    assert str(desk.requester.id) not in text
    assert 'route="unmatched",status="404"' in text
    assert 'ticketflow_tickets_created_total{priority="P3",source="web"} 1.0' in text
    assert "ticketflow_http_request_duration_seconds_bucket" in text


async def test_openapi_documents_the_password_flow_and_problem_shapes(
    api: httpx.AsyncClient,
) -> None:
    spec = (await api.get("/openapi.json")).json()
    flows = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/login"
    login = spec["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= login.keys()
    assert "Problem" in spec["components"]["schemas"]
    # Durations: the pattern of what the API takes, and of what it writes (in days, no years).
    taken = spec["components"]["schemas"]["DepartmentCreate"]["properties"]["auto_close_after"]
    assert taken["pattern"] == INPUT_PATTERN
    written = spec["components"]["schemas"]["DepartmentOut"]["properties"]["auto_close_after"]
    assert written["pattern"] == OUTPUT_PATTERN
    metric = spec["components"]["schemas"]["MetricView"]["properties"]
    assert (metric["elapsed"]["pattern"], metric["remaining"]["pattern"]) == (
        OUTPUT_PATTERN,
        SIGNED_OUTPUT_PATTERN,
    )
    docs = await api.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_swagger_authorize_form_gets_a_usable_token(
    api: httpx.AsyncClient, people: People
) -> None:
    person = await people.make()
    form = await api.post(
        "/api/v1/auth/login",
        data={"grant_type": "password", "username": person.email, "password": PASSWORD},
    )
    body = form.json()
    assert body["token_type"] == "bearer"
    me = await api.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    wrong = await api.post(
        "/api/v1/auth/login", data={"username": person.email, "password": "wrong-wrong"}
    )
    assert_problem(wrong, 401)


async def test_lifespan_builds_and_closes_its_own_resources(
    database_url: str, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    settings = Settings(
        database_url=database_url,
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue=task_queue,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        resources: Resources = app.state.resources
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/ready")).status_code == 200
    assert isinstance(resources.session_factory, async_sessionmaker)
    assert resources.engine.pool.checkedout() == 0


async def test_without_a_worker_tickets_open_and_reads_fail_fast_with_503(
    api: httpx.AsyncClient, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No worker polls this test's task queue: starting a workflow needs none, but reading a
    # ticket that only its workflow knows does. The wait is bounded, and says so.
    monkeypatch.setattr(tickets_service, "ENGINE_TIMEOUT_S", 0.5)
    created = await api.post(
        "/api/v1/tickets",
        json={"title": "t", "description": "d", "department_id": str(desk.department_id)},
        headers=desk.requester.auth,
    )
    assert created.status_code == 201
    fetched = await api.get(
        f"/api/v1/tickets/{created.json()['number']}", headers=desk.requester.auth
    )
    assert_problem(fetched, 503)
    assert fetched.headers["Retry-After"] == "1"
