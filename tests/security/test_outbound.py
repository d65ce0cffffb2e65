"""The outbound guard: receivers are judged by the address actually connected to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest

from domain.outbound_addresses import AllowList
from security.outbound import OutboundGuard, OutboundRefused, Unresolvable, system_resolver
from tests.support.standin import Answer, StandIn


class Dns:
    """A resolver the test controls: each name answers its queue in turn, then its last."""

    def __init__(self, **answers: Sequence[Sequence[str]]) -> None:
        self.answers = {name.replace("_", "-"): list(queue) for name, queue in answers.items()}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise Unresolvable(f"{host} does not resolve")
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def receiver() -> Iterator[StandIn]:
    with StandIn(default=Answer(204)) as standin:
        yield standin


def port_of(standin: StandIn) -> int:
    return int(standin.url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (["10.0.0.1"], "resolves to a private address (RFC 1918)"),
        (["93.184.215.14", "127.0.0.1"], "resolves to a loopback address"),
        (["169.254.169.254"], "resolves to a cloud metadata address"),
        (["::ffff:10.0.0.1"], "resolves to a private address"),
        (["fe80::1%eth0"], "resolves to a link-local address"),
    ],
)
async def test_a_name_resolving_inward_is_refused(answers: list[str], reason: str) -> None:
    guard = OutboundGuard(resolver=Dns(hooks_corp_example=[answers]))

    with pytest.raises(OutboundRefused) as refused:
        await guard.addresses("hooks-corp-example", 443)

    assert reason in refused.value.reason
    for address in answers:  # the inside of the network is not mapped for the admin
        assert address not in refused.value.reason


async def test_registration_refuses_inward_names_and_lets_unresolvable_ones_through() -> None:
    guard = OutboundGuard(resolver=Dns(inside_example=[["10.0.0.1"]]))

    with pytest.raises(OutboundRefused, match="private"):
        await guard.check_url("https://inside-example/hook")
    await guard.check_url("https://not-yet-in-dns-example/hook")  # judged when sent


async def test_the_system_resolver_reads_numeric_spellings_and_localhost() -> None:
    assert await system_resolver("2130706433", 80) == ["127.0.0.1"]
    assert "127.0.0.1" in await system_resolver("localhost", 80)
    with pytest.raises(Unresolvable):
        await system_resolver("no-such-host.invalid", 80)


async def test_the_connection_goes_to_the_address_judged_with_the_name_as_host(
    receiver: StandIn,
) -> None:
    """DNS rebinding: the second answer (inward) is never asked for, nor connected to."""
    dns = Dns(hooks_corp_example=[["127.0.0.1"], ["10.0.0.1"]])
    guard = OutboundGuard(AllowList.parse("127.0.0.1/32"), resolver=dns)
    url = f"http://hooks-corp-example:{port_of(receiver)}/in"

    async with guard.client(5.0) as client:
        answer = await client.post(url, content=b"{}")

    assert answer.status_code == 204
    [request] = receiver.requests
    assert request.header("Host") == f"hooks-corp-example:{port_of(receiver)}"
    assert dns.asked == ["hooks-corp-example"]
    assert str(answer.request.url) == url


async def test_each_request_is_judged_again(receiver: StandIn) -> None:
    dns = Dns(hooks_corp_example=[["127.0.0.1"], ["10.0.0.1"]])
    guard = OutboundGuard(AllowList.parse("127.0.0.1/32"), resolver=dns)
    url = f"http://hooks-corp-example:{port_of(receiver)}/in"

    async with guard.client(5.0) as client:
        assert (await client.post(url)).status_code == 204
        with pytest.raises(OutboundRefused, match="private"):
            await client.post(url)

    assert len(receiver.requests) == 1


async def test_a_redirect_is_handed_back_not_followed(receiver: StandIn) -> None:
    receiver.enqueue("/in", Answer(307, headers={"Location": "http://169.254.169.254/"}))
    guard = OutboundGuard(AllowList.parse("127.0.0.1"))

    async with guard.client(5.0) as client:
        answer = await client.post(f"{receiver.url}/in")

    assert answer.status_code == 307
    assert [r.path for r in receiver.requests] == ["/in"]


async def test_without_the_allow_list_the_local_receiver_is_not_reached(
    receiver: StandIn,
) -> None:
    async with OutboundGuard().client(5.0) as client:
        with pytest.raises(OutboundRefused, match=r"127\.0\.0\.1 is a loopback address"):
            await client.post(f"{receiver.url}/in")
    assert receiver.requests == []


async def test_an_allowed_name_may_resolve_anywhere(receiver: StandIn) -> None:
    dns = Dns(hooks_corp_example=[["127.0.0.1"]])
    guard = OutboundGuard(AllowList.parse("*.corp.example, hooks-corp-example"), resolver=dns)

    async with guard.client(5.0) as client:
        answer = await client.post(f"http://hooks-corp-example:{port_of(receiver)}/in")

    assert answer.status_code == 204


async def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    async with OutboundGuard(resolver=Dns()).client(5.0) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("http://gone-example/in")
