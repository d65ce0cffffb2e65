"""Liveness, readiness and Prometheus metrics, outside the versioned prefix."""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException

from api.app_state import resources_of
from api.deps import MetricsDep, SettingsDep
from api.errors import UnauthorizedError

log = logging.getLogger(__name__)
router = APIRouter(tags=["ops"])

READY_TIMEOUT_S = 3.0


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _database_ok(request: Request) -> bool:
    try:
        async with resources_of(request).engine.connect() as conn:
            await conn.execute(text("select 1"))
        return True
    except Exception as exc:  # readiness reports any failure, it never raises
        log.warning("database not ready: %s", exc)
        return False


async def _temporal_ok(request: Request) -> bool:
    try:
        return await resources_of(request).temporal.service_client.check_health(
            timeout=timedelta(seconds=READY_TIMEOUT_S)
        )
    except Exception as exc:
        log.warning("temporal not ready: %s", exc)
        return False


@router.get(
    "/ready",
    summary="Readiness: the database and Temporal are reachable",
    responses={503: {"description": "a dependency is unreachable"}},
)
async def ready(request: Request) -> JSONResponse:
    try:
        database, temporal = await asyncio.wait_for(
            asyncio.gather(_database_ok(request), _temporal_ok(request)), READY_TIMEOUT_S + 1
        )
    except TimeoutError:
        database = temporal = False
    checks = {"database": "ok" if database else "down", "temporal": "ok" if temporal else "down"}
    healthy = database and temporal
    body = {"status": "ready" if healthy else "not_ready", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


async def scraper_only(request: Request, settings: SettingsDep) -> None:
    """Let through the bearer of `TICKETFLOW_METRICS_TOKEN`; without the setting there is no
    such endpoint (404, as for any unknown path), else anyone else gets 401."""
    if settings.metrics_token is None:
        raise HTTPException(404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.get_secret_value().encode()
    # Compared in constant time: the answer's timing tells nothing about the token.
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise UnauthorizedError("the metrics token is missing or wrong")


@router.get(
    "/metrics",
    summary="Prometheus metrics (Bearer TICKETFLOW_METRICS_TOKEN)",
    response_class=Response,
    dependencies=[Depends(scraper_only)],
    responses={401: {"description": "no or wrong token"}, 404: {"description": "no token set"}},
)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
