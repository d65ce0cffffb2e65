"""The codec server the Temporal Web UI calls: who may decode, with what, and from where."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.testing import WorkflowEnvironment

from security.payload_codec import ENCODING, AesGcmCodec, PayloadKeys, new_key_line
from tests.api.conftest import PASSWORD, ApiWith, Desk, Person, assert_problem
from ticketflow.settings import Settings

UI_ORIGIN = "http://127.0.0.1:8233"
SECRET = "Ana is on medical leave next week"
# What the Web UI appends to the endpoint it is given.
DECODE = "/codec/decode?preserveStorageRefs=true"
ENCODE = "/codec/encode?preserveStorageRefs=true"


@pytest_asyncio.fixture(loop_scope="session")
async def codec_api(settings: Settings, api_with: ApiWith) -> AsyncIterator[httpx.AsyncClient]:
    """The API as `ticketflow dev` configures it: its Web UI may call the codec."""
    async with api_with(settings.model_copy(update={"codec_cors_origins": UI_ORIGIN})) as client:
        yield client


async def _sealed(dev_env: WorkflowEnvironment, *values: Any) -> dict[str, Any]:
    """`values` as the Web UI finds them in a history: sealed, as codec-server JSON."""
    payloads = await dev_env.client.data_converter.encode(list(values))
    assert all(p.metadata["encoding"] == ENCODING for p in payloads)
    return json_format.MessageToDict(Payloads(payloads=payloads))


def _values(response: httpx.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    message = json_format.Parse(response.text, Payloads())
    return [json.loads(p.data) for p in message.payloads]


async def _login(api: httpx.AsyncClient, person: Person, *, form: bool = False) -> httpx.Response:
    if form:  # as Swagger UI's Authorize button does
        data = {"username": person.email, "password": PASSWORD}
        response = await api.post("/api/v1/auth/login", data=data)
    else:
        response = await api.post(
            "/api/v1/auth/login", json={"email": person.email, "password": PASSWORD}
        )
    assert response.status_code == 200, response.text
    return response


async def test_staff_decode_with_their_bearer_token(
    codec_api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment
) -> None:
    body = await _sealed(dev_env, SECRET, {"title": "Printer"})
    for staff in (desk.agent, desk.admin):
        response = await codec_api.post(DECODE, json=body, headers=staff.auth)
        assert _values(response) == [SECRET, {"title": "Printer"}]


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
async def test_logging_in_sets_the_codec_cookie_and_the_cookie_decodes(
    codec_api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment, form: bool
) -> None:
    login = await _login(codec_api, desk.agent, form=form)
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"ticketflow_codec={login.json()['access_token']};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/codec", "samesite=lax", "max-age=900"} <= attributes
    assert "secure" not in attributes  # the API is served over http here

    response = await codec_api.post(DECODE, json=await _sealed(dev_env, SECRET))
    assert _values(response) == [SECRET]


async def test_refreshing_renews_the_cookie_and_logging_out_clears_it(
    codec_api: httpx.AsyncClient, desk: Desk
) -> None:
    login = (await _login(codec_api, desk.agent)).json()
    refreshed = await codec_api.post(
        "/api/v1/auth/refresh-token", json={"refresh_token": login["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.headers["set-cookie"].startswith(
        f"ticketflow_codec={refreshed.json()['access_token']};"
    )
    out = await codec_api.post(
        "/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
    )
    assert out.status_code == 204
    assert out.headers["set-cookie"].startswith('ticketflow_codec="";')
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert_problem(await codec_api.post(DECODE, json={"payloads": []}), 401)


async def test_the_cookie_is_secure_when_the_api_is_served_over_https(
    settings: Settings, api_with: ApiWith, desk: Desk
) -> None:
    https = settings.model_copy(update={"public_url": "https://desk.example.com"})
    async with api_with(https) as api:
        login = await _login(api, desk.agent)
    assert "secure" in {p.strip().lower() for p in login.headers["set-cookie"].split(";")}


async def test_requesters_may_not_decode_and_get_no_cookie(
    codec_api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment
) -> None:
    body = await _sealed(dev_env, SECRET)
    assert_problem(await codec_api.post(DECODE, json=body, headers=desk.requester.auth), 403)
    login = await _login(codec_api, desk.requester)
    assert "max-age=0" in login.headers["set-cookie"].lower()  # none, and none left behind
    assert_problem(await codec_api.post(DECODE, json=body), 401)


async def test_nobody_gets_a_401_problem(
    codec_api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    body = await _sealed(dev_env, SECRET)
    for path in (DECODE, ENCODE):
        response = await codec_api.post(path, json=body, headers={"Origin": UI_ORIGIN})
        assert_problem(response, 401)
        # Readable by the Web UI, so it can say why decoding failed.
        assert response.headers["access-control-allow-origin"] == UI_ORIGIN
    bad = await codec_api.post(DECODE, json=body, headers={"Authorization": "Bearer nonsense"})
    assert_problem(bad, 401)


async def test_encoding_seals_what_an_agent_types_in_the_web_ui(
    codec_api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment
) -> None:
    typed = Payload(metadata={"encoding": b"json/plain"}, data=b'{"body": "On my way"}')
    body = json_format.MessageToDict(Payloads(payloads=[typed]))
    response = await codec_api.post(ENCODE, json=body, headers=desk.agent.auth)
    assert response.status_code == 200, response.text
    [sealed] = json_format.Parse(response.text, Payloads()).payloads
    assert sealed.metadata["encoding"] == ENCODING
    assert b"On my way" not in sealed.SerializeToString()
    assert await dev_env.client.data_converter.decode([sealed]) == [{"body": "On my way"}]


async def test_plain_payloads_pass_through_and_an_unknown_key_is_a_422(
    codec_api: httpx.AsyncClient, desk: Desk
) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"old ticket"')
    body = json_format.MessageToDict(Payloads(payloads=[plain]))
    assert _values(await codec_api.post(DECODE, json=body, headers=desk.agent.auth)) == [
        "old ticket"
    ]
    foreign = AesGcmCodec(PayloadKeys.parse(new_key_line("elsewhere")))
    sealed = await foreign.encode([plain])
    body = json_format.MessageToDict(Payloads(payloads=sealed))
    problem = assert_problem(await codec_api.post(DECODE, json=body, headers=desk.agent.auth), 422)
    assert "'elsewhere'" in problem["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b'["payloads"]',
        b'{"payloads": "none"}',
        b'{"payloads": [{"data": "***not base64***"}]}',
        b'{"payloads": [{"metadata": {"encoding": 7}}]}',
        b"\xff\xfe",
    ],
)
async def test_a_bad_body_is_a_422_problem(
    codec_api: httpx.AsyncClient, desk: Desk, body: bytes
) -> None:
    headers = {**desk.agent.auth, "Content-Type": "application/json"}
    for path in (DECODE, ENCODE):
        assert_problem(await codec_api.post(path, content=body, headers=headers), 422)


async def test_a_preflight_from_the_web_ui_is_allowed_without_credentials(
    codec_api: httpx.AsyncClient,
) -> None:
    response = await codec_api.options(
        DECODE,
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert allowed == {"content-type", "x-namespace", "authorization"}
    assert {m.strip() for m in response.headers["access-control-allow-methods"].split(",")} == {
        "POST",
        "OPTIONS",
    }


async def test_another_origin_gets_no_cors_headers(
    codec_api: httpx.AsyncClient, desk: Desk, dev_env: WorkflowEnvironment
) -> None:
    elsewhere = "https://evil.example.com"
    preflight = await codec_api.options(
        DECODE, headers={"Origin": elsewhere, "Access-Control-Request-Method": "POST"}
    )
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    body = await _sealed(dev_env, SECRET)
    response = await codec_api.post(
        DECODE, json=body, headers={**desk.agent.auth, "Origin": elsewhere}
    )
    assert not any(h.startswith("access-control-") for h in response.headers)


async def test_the_rest_of_the_api_answers_no_cross_origin_request(
    codec_api: httpx.AsyncClient,
) -> None:
    response = await codec_api.options(
        "/api/v1/auth/me", headers={"Origin": UI_ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers
