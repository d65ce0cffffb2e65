"""Whatever a client sends, the answer is a problem document with a 4xx status, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from domain.enums import Role
from tests.api.conftest import Desk, People, assert_problem

V1 = "/api/v1"


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("GET", "/tickets/not-a-ticket", {}, 422),
        ("GET", "/tickets/12abc", {}, 422),
        ("GET", "/tickets/0", {}, 422),
        ("GET", "/tickets/99999999999999999999999", {}, 422),
        ("GET", "/tickets/-4", {}, 422),
        ("GET", f"/tickets/{uuid4()}", {}, 404),
        ("GET", "/tickets/987654321", {}, 404),
        ("GET", "/users/not-a-uuid", {}, 422),
        ("PATCH", "/notifications/123/read", {}, 422),
        ("GET", "/tickets", {"status": "exploded"}, 422),
        ("GET", "/tickets", {"priority": "P0"}, 422),
        ("GET", "/tickets", {"limit": "-1"}, 422),
        ("GET", "/tickets", {"limit": "0"}, 422),
        ("GET", "/tickets", {"limit": "201"}, 422),
        ("GET", "/tickets", {"limit": "lots"}, 422),
        ("GET", "/tickets", {"cursor": "%%%not-base64"}, 422),
        ("GET", "/tickets", {"cursor": "bm90IGpzb24"}, 422),
        ("GET", "/tickets", {"cursor": "WyJhIiwiYiJd"}, 422),
        ("GET", "/tickets", {"cursor": "W251bGxd"}, 422),  # [null]
        ("GET", "/departments", {"cursor": "WyI5OTk5OS0wMS0wMSIsICJ4Il0"}, 422),
        ("GET", "/tickets", {"assignee_id": "bob"}, 422),
        ("GET", "/notifications", {"cursor": "WzEsMl0"}, 422),
        ("GET", "/departments", {"cursor": "x" * 600}, 422),
        ("GET", "/nowhere", {}, 404),
        ("DELETE", "/tickets", {}, 405),
    ],
)
async def test_bad_paths_and_queries(
    api: httpx.AsyncClient,
    desk: Desk,
    method: str,
    path: str,
    params: dict[str, str],
    status: int,
) -> None:
    response = await api.request(method, V1 + path, params=params, headers=desk.admin.auth)
    assert_problem(response, status)


@pytest.mark.parametrize(
    "cursor",
    [
        "WzFlNDAwXQ",  # [1e400]
        "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",  # [10**23]
        "W3RydWVd",  # [true]
        "Wy0xXQ",  # [-1]
    ],
)
async def test_forged_cursors_never_fail_the_server(
    api: httpx.AsyncClient, desk: Desk, cursor: str
) -> None:
    """Well-formed but never issued: an empty page or a 422, whichever, but no 500."""
    response = await api.get(f"{V1}/tickets", params={"cursor": cursor}, headers=desk.admin.auth)
    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "x"},
        {"title": "", "description": "y"},
        {"title": "x", "description": "y", "priority": "P7"},
        {"title": "x", "description": "y", "urgency": "meh"},
        {"title": "x", "description": "y", "department_id": "IT"},
        {"title": "x", "description": "y", "tags": "not-a-list"},
        {"title": "x", "description": "y", "unknown_field": 1},
        {"title": "x" * 501, "description": "y"},
        {"title": "x", "description": "y", "department_id": str(uuid4())},
        {"title": "nul\u0000byte", "description": "y"},
        {"title": "x", "description": "y", "metadata": {"k": ["a\u0000"]}},
        [1, 2, 3],
        "just a string",
    ],
)
async def test_bad_ticket_bodies(api: httpx.AsyncClient, desk: Desk, body: Any) -> None:
    response = await api.post(f"{V1}/tickets", json=body, headers=desk.requester.auth)
    assert_problem(response, 422)


async def test_validation_problems_list_the_fields(api: httpx.AsyncClient, desk: Desk) -> None:
    response = await api.post(
        f"{V1}/tickets", json={"title": "x", "priority": "P0"}, headers=desk.requester.auth
    )
    body = assert_problem(response, 422)
    fields = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "description") in fields
    assert ("body", "priority") in fields


async def test_malformed_json_and_wrong_content_type(api: httpx.AsyncClient, desk: Desk) -> None:
    headers = {**desk.requester.auth, "Content-Type": "application/json"}
    assert_problem(await api.post(f"{V1}/tickets", content=b"{", headers=headers), 422)
    text = {**desk.requester.auth, "Content-Type": "text/plain"}
    assert_problem(await api.post(f"{V1}/tickets", content=b"hello", headers=text), 422)


async def test_oversized_body_is_refused(api: httpx.AsyncClient, desk: Desk) -> None:
    huge = {"title": "x", "description": "y" * (2 * 1024 * 1024)}
    response = await api.post(f"{V1}/tickets", json=huge, headers=desk.requester.auth)
    assert_problem(response, 413)


async def test_oversized_streamed_body_is_refused(api: httpx.AsyncClient, desk: Desk) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "x", "description": "'
        for _ in range(40):
            yield b"y" * 65_536
        yield b'"}'

    headers = {**desk.requester.auth, "Content-Type": "application/json"}
    response = await api.post(f"{V1}/tickets", content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\there"])
async def test_bad_idempotency_keys(api: httpx.AsyncClient, desk: Desk, key: str) -> None:
    headers = {**desk.requester.auth, "Idempotency-Key": key}
    body = {"title": "x", "description": "y"}
    assert_problem(await api.post(f"{V1}/tickets", json=body, headers=headers), 422)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/register", {"email": "not-an-email", "password": "long enough pw", "name": "A"}),
        ("/auth/register", {"email": "a@b.co", "password": "short", "name": "A"}),
        ("/auth/register", {"email": "a@b.co", "password": "long enough pw"}),
        ("/auth/login", {"email": "a@b.co", "password": 12}),
        ("/auth/login", ["a", "b"]),
        ("/auth/refresh-token", {}),
        ("/auth/reset-password", {"token": "short", "new_password": "long enough pw"}),
        ("/auth/forgot-password", {"email": 42}),
    ],
)
async def test_bad_auth_bodies(api: httpx.AsyncClient, path: str, body: Any) -> None:
    assert_problem(await api.post(V1 + path, json=body), 422)


async def test_problem_shape_for_unauthenticated(api: httpx.AsyncClient) -> None:
    body = assert_problem(await api.get(f"{V1}/tickets"), 401)
    assert body["type"] == "urn:ticketflow:problem:unauthorized"


async def test_bad_mutation_bodies(api: httpx.AsyncClient, people: People) -> None:
    admin = await people.make(Role.ADMIN)
    target = await people.make()
    cases: list[tuple[str, str, Any]] = [
        ("PATCH", f"/users/{target.id}/role", {"role": "superuser"}),
        ("PATCH", f"/users/{target.id}/availability", {"availability": "busy"}),
        ("PUT", f"/users/{target.id}", {"department_id": str(uuid4())}),
        ("PUT", f"/users/{target.id}", {"status": "retired"}),
        ("PATCH", f"/users/{uuid4()}/role", {"role": "agent"}),
    ]
    expected = [422, 422, 422, 422, 404]
    got = [
        (await api.request(method, V1 + path, json=body, headers=admin.auth)).status_code
        for method, path, body in cases
    ]
    assert got == expected


async def test_problem_types_are_stable_codes(api: httpx.AsyncClient, desk: Desk) -> None:
    missing = assert_problem(await api.get(f"{V1}/nowhere", headers=desk.admin.auth), 404)
    assert missing["type"] == "urn:ticketflow:problem:not_found"
    method = assert_problem(await api.delete(f"{V1}/tickets", headers=desk.admin.auth), 405)
    assert method["type"] == "urn:ticketflow:problem:method_not_allowed"
    invalid = assert_problem(await api.get(f"{V1}/tickets/x", headers=desk.admin.auth), 422)
    assert invalid["type"] == "urn:ticketflow:problem:invalid_input"
