"""The guard on outbound webhooks: a receiver is reached only at an address that may be reached.

Checking a URL when it is registered is not enough: a name can resolve to a public address
then and to 127.0.0.1 a minute later (DNS rebinding), or between the check and the
connection. So every request goes through `GuardedTransport`, which resolves the host once,
judges every address it resolved to (`domain.outbound_addresses`), and connects to one of
those very addresses, keeping the name in the `Host` header and as the TLS server name
(SNI and certificate checks), so the receiver sees the request it expects. Redirects are
never followed (callers keep httpx's default), and proxies from the environment are not
used, since a proxy would resolve the name again on its own.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from ipaddress import ip_address
from urllib.parse import urlsplit

import httpx

from domain.outbound_addresses import (
    AllowList,
    IPAddress,
    forbidden_name,
    forbidden_reason,
    literal_address,
    normalize_host,
)

RESOLVE_TIMEOUT_S = 5.0
ALLOW_SETTING = "TICKETFLOW_OUTBOUND_ALLOW"

# host, port -> the addresses (as text) the host name resolves to.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class OutboundRefused(Exception):
    """The receiver's host is, or resolves to, an address it may not be reached at."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unresolvable(Exception):
    """The receiver's host name does not resolve (now): nothing to judge, nothing to reach."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives `host`."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as error:
        raise Unresolvable(f"{host} does not resolve") from error
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _refusal(host: str, kind: str, *, resolved: bool) -> OutboundRefused:
    # The address a name resolved to is not named: it would map the inside of the network.
    where = f"{host} resolves to {kind}" if resolved else f"{host} is {kind}"
    return OutboundRefused(f"{where}; receivers must be publicly reachable ({ALLOW_SETTING})")


class OutboundGuard:
    """Judges receiver hosts: `addresses` gives where a host may be reached, or refuses it."""

    def __init__(self, allow: AllowList | None = None, resolver: Resolver | None = None) -> None:
        self.allow = allow or AllowList()
        self._resolve = resolver or system_resolver

    @classmethod
    def allowing(cls, allow: str) -> OutboundGuard:
        """The guard of an allow-list as `TICKETFLOW_OUTBOUND_ALLOW` spells it."""
        return cls(AllowList.parse(allow))

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` is at, each one allowed; `OutboundRefused` if any is not.

        Raises `Unresolvable` for a name that does not resolve.
        """
        name = normalize_host(host)
        by_name = self.allow.allows_name(name)
        literal = literal_address(name)
        if literal is not None:
            self._judge(name, literal, resolved=False, by_name=by_name)
            return [literal]
        kind = forbidden_name(name)
        if kind is not None and not by_name:
            raise _refusal(name, kind, resolved=False)
        found = [ip_address(a.split("%")[0]) for a in await self._resolve(name, port)]
        if not found:
            raise Unresolvable(f"{name} does not resolve")
        for address in found:
            self._judge(name, address, resolved=True, by_name=by_name)
        return found

    def _judge(self, host: str, address: IPAddress, *, resolved: bool, by_name: bool) -> None:
        kind = forbidden_reason(address)
        if kind is not None and not by_name and not self.allow.allows_address(address):
            raise _refusal(host, kind, resolved=resolved)

    async def check_url(self, url: str) -> None:
        """Refuse a receiver URL aimed inward, as it is registered.

        The host is read as the standard library reads it and as httpx (which sends) reads
        it, and both are judged, so no difference between two URL parsers lets one through.
        A name that does not resolve yet is let through: the connection is judged again when
        it is made.
        """
        try:
            parts = urlsplit(url)
            hosts = {(parts.hostname or "", parts.port)}
        except ValueError as error:  # a port that is not a number, a broken IPv6 literal
            raise OutboundRefused("the URL cannot be read") from error
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboundRefused("the URL is not an absolute http:// or https:// URL")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            pass  # httpx cannot send to it at all; the standard library's reading is judged
        else:
            hosts.add((parsed.host, parsed.port))
        default_port = 443 if parts.scheme == "https" else 80
        for host, port in sorted(hosts, key=str):
            try:
                await self.addresses(host, port or default_port)
            except Unresolvable:
                continue

    def client(self, timeout: httpx.Timeout | float) -> httpx.AsyncClient:
        """An httpx client that reaches only allowed addresses and follows no redirect."""
        return httpx.AsyncClient(
            transport=GuardedTransport(self), timeout=timeout, follow_redirects=False
        )


class GuardedTransport(httpx.AsyncBaseTransport):
    """Connects to the address the guard judged, never to a second lookup's answer.

    A connection pool per host name: pooled connections are matched by address, and one
    opened for one name (its TLS server name) must not carry another name's requests.
    `OutboundRefused` is raised as it is; a name that does not resolve is a `ConnectError`.
    """

    def __init__(self, guard: OutboundGuard) -> None:
        self._guard = guard
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"{url.scheme!r} is not http or https", request=request)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await self._guard.addresses(url.host, port)
        except Unresolvable as error:
            raise httpx.ConnectError(str(error), request=request) from error
        pool = self._pools.setdefault(url.host, httpx.AsyncHTTPTransport())
        failure: httpx.ConnectError | None = None
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=str(address)),
                headers=request.headers,  # Host: the name, as the URL had it
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": url.host},
            )
            try:
                return await pool.handle_async_request(pinned)
            except httpx.ConnectError as error:  # nothing was sent: the next address may do
                failure = error
        raise failure or httpx.ConnectError("no address to connect to", request=request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()


__all__ = [
    "ALLOW_SETTING",
    "GuardedTransport",
    "OutboundGuard",
    "OutboundRefused",
    "Resolver",
    "Unresolvable",
    "system_resolver",
]
