"""Security headers on every response: JSON, problems (a crash's 500 too), files, the docs."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import Resources, create_app
from api.security_headers import docs_policy
from tests.api.conftest import ApiWith, Desk, assert_problem
from ticketflow.settings import Settings

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def directives(response: httpx.Response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, directive → sources."""
    policy = response.headers["content-security-policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_hardened(response: httpx.Response) -> dict[str, list[str]]:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (name, response.url)
    csp = directives(response)
    assert csp["frame-ancestors"] == ["'none'"]
    assert "strict-transport-security" not in response.headers  # http public URL
    return csp


async def test_json_routes_and_problems_carry_them(api: httpx.AsyncClient, desk: Desk) -> None:
    answers = [
        await api.get("/health"),
        await api.get("/api/v1/auth/me", headers=desk.requester.auth),
        assert_response(await api.get("/api/v1/nowhere"), 404),
        assert_response(await api.get("/api/v1/auth/me"), 401),
        assert_response(await api.post("/api/v1/tickets", headers=desk.requester.auth), 422),
        assert_response(await api.request("BREW", "/health"), 405),
        assert_response(await api.post("/api/v1/tickets", content=b"x" * (2 * 1024 * 1024)), 413),
    ]
    for response in answers:
        csp = assert_hardened(response)
        # A JSON answer loads nothing: nothing injected into it could run.
        assert csp["default-src"] == ["'none'"]


def assert_response(response: httpx.Response, status: int) -> httpx.Response:
    assert_problem(response, status)
    return response


@pytest_asyncio.fixture(loop_scope="session")
async def crashing_api(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with one more route, which fails as a bug would."""
    app = create_app(settings, Resources(engine, session_factory, dev_env.client))

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    # As uvicorn does: the 500 goes out, then the error goes on to the server's log.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_crash_answers_500_with_them_too(crashing_api: httpx.AsyncClient) -> None:
    response = await crashing_api.get("/boom")
    assert_problem(response, 500)
    assert_hardened(response)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _allows(sources: list[str], url: str, page: str) -> bool:
    """Whether a CSP source list lets the page at `page` load `url`."""
    full = urljoin(page, url)
    if _origin(full) == _origin(page):
        return "'self'" in sources
    return _origin(full) in sources


async def test_docs_still_work_under_their_policy(api: httpx.AsyncClient) -> None:
    for path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        page = await api.get(path)
        assert page.status_code == 200, path
        csp = assert_hardened(page)
        html = page.text
        # Every script the page loads, and every inline script by its hash, may run…
        for src in re.findall(r'<script[^>]*\ssrc="([^"]+)"', html):
            assert _allows(csp["script-src"], src, str(page.url)), (path, src)
        inline = r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>"
        for body in re.findall(inline, html, flags=re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp["script-src"], path
        # …and its style sheets and icon load.
        for href in re.findall(r'<link[^>]*\shref="([^"]+)"', html):
            kind = "style-src" if "stylesheet" in href or "css" in href else "img-src"
            assert _allows(csp[kind], href, str(page.url)), (path, href)
        # Swagger UI fetches the schema and sends "Try it out" requests to this origin.
        assert "'self'" in csp["connect-src"]
        # But no other inline script, and nothing from elsewhere, may run.
        assert "'unsafe-inline'" not in csp["script-src"]
        assert "'unsafe-eval'" not in csp["script-src"]
        assert csp["default-src"] == ["'none'"]
    schema = await api.get("/openapi.json")
    assert directives(schema)["default-src"] == ["'none'"]


async def test_a_page_keeps_its_own_stricter_policy(api: httpx.AsyncClient) -> None:
    # The survey pages set their own policy (no script at all); it is not replaced.
    page = await api.get("/api/v1/surveys/not-a-token")
    assert page.headers["content-type"].startswith("text/html")
    csp = directives(page)
    assert "script-src" not in csp
    assert csp["default-src"] == ["'none'"]
    assert len(page.headers.get_list("content-security-policy")) == 1
    assert page.headers["x-frame-options"] == "DENY"


async def test_hsts_only_when_the_public_url_is_https(
    settings: Settings, api_with: ApiWith
) -> None:
    https = settings.model_copy(update={"public_url": "https://desk.example.com"})
    async with api_with(https) as client:
        for response in (await client.get("/health"), await client.get("/api/v1/nowhere")):
            assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_only_inline_scripts_are_hashed_into_a_docs_policy() -> None:
    page = (
        b'<script src="https://cdn.jsdelivr.net/x.js"> </script>'
        b'<script type="module">run()</script><SCRIPT>more()</SCRIPT >'
    )
    sources = docs_policy(page).split("script-src ")[1].split(";")[0].split()
    expected = {
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in (b"run()", b"more()")
    }
    assert set(sources) == {"'self'", "https://cdn.jsdelivr.net", *expected}
