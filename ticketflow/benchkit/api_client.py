"""The few ticketflow API calls the benchmark makes, over one keep-alive HTTP client."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from ticketflow.benchkit.processes import BenchError

API_PREFIX = "/api/v1"
REQUEST_TIMEOUT_S = 60.0


class BenchApi:
    """An `httpx.AsyncClient` with at most `concurrency` connections, logged in as one user."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._http = httpx.AsyncClient(
            base_url=base_url + API_PREFIX, limits=limits, timeout=REQUEST_TIMEOUT_S
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def login(self, email: str, password: str) -> None:
        """Log in; later requests carry the access token."""
        pair = await self._call("POST", "/auth/login", {"email": email, "password": password})
        self._http.headers["Authorization"] = f"Bearer {pair['access_token']}"

    async def create_policy(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/sla/policies", body)

    async def delete_policy(self, policy_id: str) -> None:
        await self._call("DELETE", f"/sla/policies/{policy_id}")

    async def create_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/automation/rules", body)

    async def delete_rule(self, rule_id: str) -> None:
        await self._call("DELETE", f"/automation/rules/{rule_id}")

    async def create_ticket(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/tickets", body)

    async def set_priority(self, number: int, priority: str) -> dict[str, Any]:
        return await self._call("PATCH", f"/tickets/{number}/priority", {"priority": priority})

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise BenchError(
                f"{method} {API_PREFIX}{path} answered {response.status_code}: "
                f"{response.text[:500]}"
            )
        if response.status_code == 204:  # a deletion answers no body
            return {}
        data: dict[str, Any] = response.json()
        return data
