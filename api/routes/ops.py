"""Liveness, readiness and Prometheus metrics, outside the versioned prefix."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.app_state import resources_of
from api.deps import MetricsDep

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


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
