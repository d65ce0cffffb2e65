"""`/integrations`: receivers of ticket events (outbound webhooks), one per provider."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import AdminUser, SessionDep, SettingsDep
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page, Problem
from api.schemas.integrations import (
    PROVIDER_PATTERN,
    IntegrationOut,
    IntegrationWrite,
    WebhookDeliveryOut,
)
from api.services import integrations as service
from api.services import slack_install as slack_install_service
from persistence import webhooks as webhooks_repo
from security.outbound import OutboundGuard

router = APIRouter(
    prefix=f"{API_PREFIX}/integrations", tags=["integrations"], responses=PROBLEM_RESPONSES
)

Provider = Annotated[
    str,
    Path(
        pattern=PROVIDER_PATTERN,
        description="a slug: `webhook`, `slack`, `teams`, `incident`, or your own name",
        examples=["webhook"],
    ),
]
_SAVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": IntegrationOut, "description": "Created"},
    422: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": (
            "Invalid input, or a URL aimed inward (loopback, private, link-local, CGNAT, "
            "metadata… unless TICKETFLOW_OUTBOUND_ALLOW names it)"
        ),
    },
    503: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": (
            "A secret, or a Slack or Teams URL, was given but TICKETFLOW_SECRETS_KEY is not set"
        ),
    },
}


@router.get("", summary="List integrations by provider [Admin]")
async def list_integrations(
    _: AdminUser,
    session: SessionDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[IntegrationOut]:
    page = await webhooks_repo.list_integrations(session, limit=limit, cursor=cursor)
    return Page(
        items=[IntegrationOut.from_row(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/slack/install",
    summary="Where to approve the Slack app; Slack then calls /webhooks/slack/callback [Admin]",
)
async def slack_install(admin: AdminUser, settings: SettingsDep) -> dict[str, str]:
    return {"authorize_url": slack_install_service.authorize_url(settings, admin.id)}


@router.get(
    "/{provider}/deliveries",
    summary="The provider's deliveries, newest first, and how each went [Admin]",
)
async def list_deliveries(
    provider: Provider,
    _: AdminUser,
    session: SessionDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[WebhookDeliveryOut]:
    page = await service.integration_deliveries(session, provider, limit=limit, cursor=cursor)
    return Page(
        items=[WebhookDeliveryOut.model_validate(d) for d in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/{provider}",
    summary="Create (201) or replace (200) the provider's integration [Admin]",
    responses=_SAVE_RESPONSES,
)
async def save_integration(
    provider: Provider,
    _: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    body: IntegrationWrite,
    response: Response,
) -> IntegrationOut:
    guard = OutboundGuard.allowing(settings.outbound_allow)
    integration, created = await service.save_integration(
        session, provider, body, settings.secrets_key, guard
    )
    await session.commit()
    if created:
        response.status_code = status.HTTP_201_CREATED
    return IntegrationOut.from_row(integration)


@router.delete(
    "/{provider}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete the provider's integration and its delivery records [Admin]",
)
async def delete_integration(provider: Provider, _: AdminUser, session: SessionDep) -> Response:
    await service.delete_integration(session, provider)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
