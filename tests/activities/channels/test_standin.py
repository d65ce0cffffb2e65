"""The stand-in the channel tests (and others) rely on: exact records, scripted answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.support.standin import Answer, StandIn


async def test_answers_come_from_the_queue_then_the_route_then_the_default() -> None:
    with StandIn(default=Answer(404)) as server:
        server.enqueue("/a", Answer(201), Answer(202))
        server.route("/a", Answer(299))
        async with httpx.AsyncClient(base_url=server.url) as client:
            statuses = [(await client.get(path)).status_code for path in ["/a"] * 4 + ["/b"]]

    assert statuses == [201, 202, 299, 299, 404]


async def test_request_is_recorded_exactly_even_when_chunked() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first,"
        yield b"second"

    with StandIn() as server:
        async with httpx.AsyncClient() as client:
            response = await client.put(
                f"{server.url}/things/1?x=1&x=2&empty=",
                content=chunks(),
                headers={"X-Custom": "Value"},
            )

    assert response.json() == {}
    [request] = server.requests
    assert (request.method, request.path, request.body) == ("PUT", "/things/1", b"first,second")
    assert request.query == {"x": ["1", "2"], "empty": [""]}
    assert request.header("x-custom") == "Value"
    assert request.header("Transfer-Encoding") == "chunked"
