"""Which addresses an outbound webhook may reach: nothing inside the deployment's own networks.

An admin-registered receiver URL (a webhook, a Slack or Teams incoming webhook) is fetched
by the worker from inside the deployment. Aimed at loopback, a private network or a cloud
metadata service, it would make ticketflow a proxy into places the admin's browser cannot
reach (server-side request forgery). So a receiver's address must be publicly routable,
unless the operator's allow-list (`TICKETFLOW_OUTBOUND_ALLOW`) names it.

Hosts are judged by the address they are reached at. An address written in the URL counts in
every spelling the C library accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1` are all
127.0.0.1), and an IPv6 address that carries an IPv4 one (`::ffff:127.0.0.1`, 6to4, NAT64)
is judged by the IPv4 address inside. Pure: resolving names is `security.outbound`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Instance metadata services: AWS, GCP, Azure (169.254.169.254), AWS ECS task metadata,
# AWS's IPv6 endpoint, Alibaba Cloud, Oracle Cloud.
METADATA_ADDRESSES = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)
# Names that reach the machine itself or a metadata service without any DNS on the way.
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_METADATA_NAMES = ("metadata.google.internal", "metadata.goog", "metadata")

_CGNAT = ip_network("100.64.0.0/10")
_RFC1918 = tuple(ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_UNIQUE_LOCAL = ip_network("fc00::/7")
_NAT64 = (ip_network("64:ff9b::/96"), ip_network("64:ff9b:1::/48"))
# One part of an IPv4 address as inet_aton reads it: hexadecimal, octal or decimal.
_AT_PART = re.compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)$")
_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_NAME = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


def normalize_host(host: str) -> str:
    """A URL's host as compared here: lower-case, no brackets, no trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def _part_value(part: str) -> int | None:
    if not _AT_PART.match(part):
        return None
    if part[:2].lower() == "0x":
        return int(part, 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if all(c in "01234567" for c in part) else None
    return int(part)


def _inet_aton(host: str) -> IPv4Address | None:
    """`host` read as the C library's inet_aton reads it (1 to 4 parts, each in any base)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_part_value(part) for part in parts]
    if any(v is None for v in values):
        return None
    *head, last = [v for v in values if v is not None]
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for value in head:
        number = number * 256 + value
    return IPv4Address(number * 256 ** (4 - len(head)) + last)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host spells out, in any spelling; None for a name."""
    host = normalize_host(host)
    try:
        return ip_address(host.split("%")[0])  # an IPv6 zone (`fe80::1%eth0`) is dropped
    except ValueError:
        return _inet_aton(host)


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries: IPv4-mapped, 6to4 or NAT64; None otherwise."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _NAT64):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: IPAddress) -> str | None:
    """What makes this address (judged on its own) unfit for a receiver; None if public."""
    checks: tuple[tuple[bool, str], ...] = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in _CGNAT, "a shared address (CGNAT, 100.64.0.0/10)"),
        (any(address in network for network in _RFC1918), "a private address (RFC 1918)"),
        (address in _UNIQUE_LOCAL, "a unique local address (fc00::/7)"),
        (isinstance(address, IPv6Address) and address.is_site_local, "a site-local address"),
        (address.is_reserved, "a reserved address"),
    )
    for matched, kind in checks:
        if matched:
            return kind
    return None if address.is_global else "an address that is not publicly routable"


def forbidden_reason(address: IPAddress) -> str | None:
    """Why a receiver may not be at `address` (e.g. "a loopback address"); None if it may."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return _kind(inner)
    return _kind(address)


def forbidden_name(host: str) -> str | None:
    """Why a receiver may not be at the host name `host`, whatever it resolves to; or None."""
    host = normalize_host(host)
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return "a loopback name"
    if host in _METADATA_NAMES:
        return "a cloud metadata name"
    return None


@dataclass(frozen=True)
class AllowList:
    """What the operator lets receivers reach although it is inward: networks and host names.

    A network allows every address in it. A host name allows that host whatever it resolves
    to; `*.corp.example` allows every name below `corp.example` (not `corp.example` itself).
    """

    networks: tuple[IPNetwork, ...] = ()
    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """`10.1.0.0/16, 127.0.0.1, hooks.corp.example, *.corp.example`; ValueError if bad."""
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            name = normalize_host(entry)
            if not _NAME.match(name):
                raise ValueError(f"{entry!r} is neither a network (CIDR), an address nor a name")
            names.add(name)
        return cls(tuple(networks), frozenset(names))

    def allows_name(self, host: str) -> bool:
        host = normalize_host(host)
        if host in self.names:
            return True
        return any(n.startswith("*.") and host.endswith(n[1:]) for n in self.names)

    def allows_address(self, address: IPAddress) -> bool:
        candidates = [address, *filter(None, [embedded_ipv4(address)])]
        return any(a in network for a in candidates for network in self.networks)


__all__ = [
    "METADATA_ADDRESSES",
    "AllowList",
    "IPAddress",
    "embedded_ipv4",
    "forbidden_name",
    "forbidden_reason",
    "literal_address",
    "normalize_host",
]
