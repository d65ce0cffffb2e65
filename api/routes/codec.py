"""`/codec/encode` and `/codec/decode`: a Temporal codec server, for the Web UI.

The Web UI shows a ticket's payloads as Temporal stores them, encrypted; given this API's
`/codec` as its codec endpoint, it posts them here to be decrypted for the agent looking at
them, and posts what an agent types into its update and signal forms to be encrypted. Bodies
are Temporal's codec-server format: protobuf JSON of `temporal.api.common.v1.Payloads`.

Only staff (agents and admins) may use it, authenticated by the API's Bearer access token or
by the codec cookie that logging in sets (api.codec_cookie), which is what the UI can send.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from api.app_state import resources_of
from api.codec_cookie import CODEC_COOKIE, STAFF
from api.deps import SessionDep, SettingsDep, TokenDep, get_current_user, get_signed_in_user
from api.errors import ApiError
from api.paths import CODEC_PREFIX
from api.schemas.common import PROBLEM_RESPONSES
from persistence.models import User
from security.payload_codec import PayloadDecryptionError

router = APIRouter(prefix=CODEC_PREFIX, tags=["codec"], responses=PROBLEM_RESPONSES)

_PAYLOADS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["payloads"],
    "properties": {
        "payloads": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "metadata": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "format": "byte"},
                    },
                    "data": {"type": "string", "format": "byte"},
                },
            },
        }
    },
}
_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": _PAYLOADS_SCHEMA}}}
}
_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": _PAYLOADS_SCHEMA}}}
}


async def codec_staff(
    request: Request, session: SessionDep, settings: SettingsDep, bearer: TokenDep
) -> User:
    """An agent or admin, by Bearer token or else by the codec cookie (401/403 otherwise)."""
    token = bearer or request.cookies.get(CODEC_COOKIE)
    user = await get_current_user(await get_signed_in_user(session, settings, token), settings)
    if user.role not in STAFF:
        raise ApiError(403, "only agents and admins may decode ticket data", code="forbidden")
    return user


StaffDep = Annotated[User, Depends(codec_staff)]


async def _codec(request: Request) -> PayloadCodec | None:
    # The Temporal client's own codec: what it seals, this opens, with the same keys.
    return resources_of(request).temporal.data_converter.payload_codec


CodecDep = Annotated[PayloadCodec | None, Depends(_codec)]


@router.post(
    "/encode",
    summary="Encrypt payloads, as the Web UI's forms need [Agent]",
    openapi_extra=_BODY,
    responses=_ANSWER,
)
async def encode(request: Request, _: StaffDep, codec: CodecDep) -> Response:
    payloads = await _payloads(request)
    return _answer(await codec.encode(payloads) if codec else payloads)


@router.post(
    "/decode",
    summary="Decrypt payloads, for the Web UI [Agent]",
    openapi_extra=_BODY,
    responses=_ANSWER,
)
async def decode(request: Request, _: StaffDep, codec: CodecDep) -> Response:
    payloads = await _payloads(request)
    if codec is None:
        return _answer(payloads)
    try:
        return _answer(await codec.decode(payloads))
    except PayloadDecryptionError as error:
        raise ApiError(422, str(error), code="invalid_input") from error


async def _payloads(request: Request) -> list[Payload]:
    message = Payloads()
    try:
        json_format.Parse(await request.body(), message, ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise ApiError(
            422,
            'the body is not Temporal payloads JSON ({"payloads": [{"metadata": {...}, '
            f'"data": "<base64>"}}]}}): {error}',
            code="invalid_input",
        ) from error
    return list(message.payloads)


def _answer(payloads: list[Payload]) -> Response:
    body = json_format.MessageToDict(Payloads(payloads=payloads))
    body.setdefault("payloads", [])
    return Response(json.dumps(body), media_type="application/json")
