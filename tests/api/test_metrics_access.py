"""`/metrics` is for the scraper holding its token, and no client can grow its series."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest_asyncio
from pydantic import SecretStr

from tests.api.conftest import ApiWith, assert_problem
from ticketflow.settings import Settings

TOKEN = "metrics-token-for-tests-0123456789abcdef"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
_SERIES = re.compile(r'^ticketflow_http_requests_total\{method="([^"]*)",route="([^"]*)"', re.M)


@pytest_asyncio.fixture(loop_scope="session")
async def scraped_api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    with_token = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    async with api_with(with_token) as client:
        yield client


async def test_without_a_token_setting_there_is_no_metrics_endpoint(
    api: httpx.AsyncClient,
) -> None:
    assert_problem(await api.get("/metrics"), 404)
    assert_problem(await api.get("/metrics", headers=SCRAPER), 404)


async def test_only_the_scraper_reads_the_metrics(scraped_api: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        refused = assert_problem(await scraped_api.get("/metrics", headers=headers), 401)
        assert "ticketflow_http_requests" not in str(refused)
    answer = await scraped_api.get("/metrics", headers=SCRAPER)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "ticketflow_http_requests_total" in answer.text


async def series(client: httpx.AsyncClient) -> set[tuple[str, str]]:
    text = (await client.get("/metrics", headers=SCRAPER)).text
    return set(_SERIES.findall(text))


async def test_random_methods_and_paths_make_no_new_series(
    scraped_api: httpx.AsyncClient,
) -> None:
    # One of each first, so whatever label they fall under exists already.
    await scraped_api.request(f"X{uuid4().hex[:8].upper()}", "/health")
    await scraped_api.request(f"X{uuid4().hex[:8].upper()}", f"/{uuid4()}")
    await scraped_api.get(f"/{uuid4()}")
    await series(scraped_api)  # the scrape counts itself once it has answered
    before = await series(scraped_api)
    for n in range(40):
        method = f"M{uuid4().hex[:10].upper()}"
        await scraped_api.request(method, "/health" if n % 2 else f"/api/v1/{uuid4()}")
        await scraped_api.get(f"/{uuid4()}/{n}")
        await scraped_api.request(method, f"/nowhere/{uuid4()}")
    after = await series(scraped_api)
    assert after == before, sorted(after - before)
    methods = {method for method, _ in after}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in methods
    assert all(route.startswith("/") or route == "unmatched" for _, route in after)
    assert not any("nowhere" in route or len(route) > 80 for _, route in after)
