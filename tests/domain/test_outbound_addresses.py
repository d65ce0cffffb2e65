"""Which receiver addresses are inward, in every spelling, and what the allow-list lets by."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from domain.outbound_addresses import (
    AllowList,
    forbidden_name,
    forbidden_reason,
    literal_address,
)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254"),
        ("[::1]", "::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("127.0.0.1.", "127.0.0.1"),
    ],
)
def test_every_spelling_of_an_address_is_read(host: str, address: str) -> None:
    assert literal_address(host) == ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "08.1.1.1", "1.2.3.4.5", "256.1.1.1", "0x", ""])
def test_names_and_nonsense_are_not_addresses(host: str) -> None:
    assert literal_address(host) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.200.0.1", "a private address (RFC 1918)"),
        ("172.31.255.255", "a private address (RFC 1918)"),
        ("192.168.0.1", "a private address (RFC 1918)"),
        ("100.64.0.1", "a shared address (CGNAT, 100.64.0.0/10)"),
        ("100.127.255.254", "a shared address (CGNAT, 100.64.0.0/10)"),
        ("169.254.169.254", "a cloud metadata address"),
        ("169.254.170.2", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("169.254.0.1", "a link-local address"),
        ("fe80::abcd", "a link-local address"),
        ("fd00::1", "a unique local address (fc00::/7)"),
        ("224.0.0.251", "a multicast address"),
        ("ff05::2", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),
        ("::", "the unspecified address"),
        ("240.1.2.3", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("192.0.2.10", "an address that is not publicly routable"),
        ("::ffff:192.168.1.1", "a private address (RFC 1918)"),
        ("2002:a9fe:a9fe::1", "a cloud metadata address"),
        ("64:ff9b::7f00:1", "a loopback address"),
    ],
)
def test_inward_addresses_are_refused_with_their_kind(address: str, reason: str) -> None:
    assert forbidden_reason(ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_fine(address: str) -> None:
    assert forbidden_reason(ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("localhost", "a loopback name"),
        ("LOCALHOST.", "a loopback name"),
        ("api.localhost", "a loopback name"),
        ("metadata.google.internal", "a cloud metadata name"),
        ("hooks.example.com", None),
        ("localhost.example.com", None),
    ],
)
def test_names_that_need_no_dns_to_point_inward(host: str, reason: str | None) -> None:
    assert forbidden_name(host) == reason


def test_the_allow_list_takes_networks_addresses_and_names() -> None:
    allow = AllowList.parse(" 10.1.0.0/16, 127.0.0.1 ,fd00::/8, hooks.corp.example, *.lab.test, ")

    assert allow.allows_address(ip_address("10.1.200.3"))
    assert allow.allows_address(ip_address("::ffff:127.0.0.1"))
    assert allow.allows_address(ip_address("fd00::5"))
    assert not allow.allows_address(ip_address("10.2.0.1"))
    assert allow.allows_name("Hooks.Corp.Example.")
    assert allow.allows_name("a.b.lab.test")
    assert not allow.allows_name("lab.test")
    assert not allow.allows_name("evil-lab.test")
    assert AllowList.parse("") == AllowList()


@pytest.mark.parametrize("text", ["10.0.0.0/33", "not a host", "http://x.example", "a..b"])
def test_a_bad_allow_list_entry_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="neither a network"):
        AllowList.parse(text)
