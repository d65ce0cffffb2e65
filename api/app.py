"""The FastAPI application: one factory, resources injected or built from settings."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp
from temporalio.client import Client
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.api_cors import ApiCorsMiddleware, api_origins
from api.cors import PathCorsMiddleware, parse_origins
from api.errors import PROBLEM_JSON, install_error_handlers
from api.hashing_gate import password_hashing
from api.login_throttle import LoginThrottle
from api.middleware import BodyLimitMiddleware, Metrics, MetricsMiddleware
from api.paths import API_PREFIX, CODEC_PREFIX
from api.quotas import RequesterQuotas
from api.ratelimit import RateLimiter
from api.routes import api_router, automation, ops_router
from api.routes.calendars import router as calendars_router
from api.routes.codec import router as codec_router
from api.routes.integrations import router as integrations_router
from api.routes.knowledge_base import router as knowledge_base_router
from api.routes.reports import router as reports_router
from api.routes.routing import router as routing_router
from api.routes.templates import router as templates_router
from api.routes.webhooks import router as webhooks_router
from api.security_headers import SecurityHeadersMiddleware
from api.services.file_store import build_file_store
from api.services.live import LiveNotifications
from api.services.ticket_attachments import MAX_ATTACHMENT_BYTES
from persistence.db import create_engine, session_factory
from ticketflow.settings import Settings
from ticketflow.temporal import TemporalTarget, connect_temporal, payload_keys

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# SendGrid's Inbound Parse posts a whole e-mail, attachments included (it caps them at 30 MB).
MAX_INBOUND_EMAIL_BYTES = 32 * 1024 * 1024
# A ticket attachment, plus room for its multipart envelope.
MAX_UPLOAD_BODY_BYTES = MAX_ATTACHMENT_BYTES + 64 * 1024
# Payloads the Web UI sends to be decoded: Temporal allows 2 MB a payload, base64 adds a third.
MAX_CODEC_BODY_BYTES = 4 * 1024 * 1024


@dataclass
class Resources:
    """What every request needs: the database and the Temporal client."""

    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    temporal: Client


async def build_resources(settings: Settings) -> Resources:
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set")
    engine = create_engine(settings.database_url)
    try:
        temporal = await connect_temporal(
            TemporalTarget.from_environment(settings), payload_keys(settings)
        )
    except BaseException:
        await engine.dispose()
        raise
    return Resources(engine=engine, session_factory=session_factory(engine), temporal=temporal)


class TicketflowApi(FastAPI):
    """FastAPI with the security headers as its outermost layer: outside even Starlette's
    error middleware, so that the 500 of a crash carries them too."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        docs = (self.docs_url, self.redoc_url, self.swagger_ui_oauth2_redirect_url)
        return SecurityHeadersMiddleware(
            super().build_middleware_stack(),
            https=settings.public_url.lower().startswith("https://"),
            docs_paths=[path for path in docs if path],
        )


@asynccontextmanager
async def _live_notifications(app: FastAPI, resources: Resources) -> AsyncIterator[None]:
    """The live-notification hub on the app's own database, for the app's lifetime."""
    async with LiveNotifications(resources.engine.url, resources.session_factory) as live:
        app.state.live = live
        try:
            yield
        finally:
            app.state.live = None


def create_app(settings: Settings, resources: Resources | None = None) -> FastAPI:
    """The API; without `resources` it connects on startup and disconnects on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A bucket that is misnamed, or unreachable with these credentials, stops the start
        # with the reason; once running, a store outage is a 503 on the requests that need it.
        await app.state.files.check()
        if resources is not None:
            async with _live_notifications(app, resources):
                yield
            return
        built = await build_resources(settings)
        app.state.resources = built
        app.state.rate_limiter = RateLimiter(built.session_factory)
        app.state.quotas = RequesterQuotas(built.session_factory, settings)
        app.state.login_throttle = LoginThrottle(built.session_factory)
        try:
            async with _live_notifications(app, built):
                yield
        finally:
            await asyncio.shield(built.engine.dispose())

    app = TicketflowApi(
        # Metrics are ours (Prometheus at /metrics); the built-in OpenTelemetry hooks would
        # only add per-request work with no collector configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="ticketflow",
        version="1.0.0",
        summary="A helpdesk where every ticket is a durable Temporal workflow.",
        description=(
            "Errors are RFC 9457 `application/problem+json`. Lists are keyset-paginated "
            "(`limit`, `cursor`, `next_cursor`). Durations are ISO 8601. Log in with the "
            "**Authorize** button (e-mail as username)."
        ),
        lifespan=lifespan,
        # No validator badge: it would send the schema's address to validator.swagger.io.
        swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
        responses={422: {"description": "Invalid input", "content": {PROBLEM_JSON: {}}}},
    )
    app.state.settings = settings
    app.state.resources = resources
    app.state.live = None
    app.state.rate_limiter = RateLimiter(resources.session_factory) if resources else None
    app.state.quotas = RequesterQuotas(resources.session_factory, settings) if resources else None
    app.state.login_throttle = LoginThrottle(resources.session_factory) if resources else None
    password_hashing.configure(settings.password_hash_concurrency)
    app.state.metrics = Metrics()
    app.state.files = build_file_store(settings)
    install_error_handlers(app)
    app.include_router(ops_router)
    app.include_router(routing_router)  # first: its /users/agents/available before /users/{id}
    app.include_router(knowledge_base_router)  # before tickets: /tickets/suggest-kb/{ticket}
    app.include_router(reports_router)  # before tickets: /tickets/stats before /tickets/{ticket}
    app.include_router(api_router)
    app.include_router(automation.router)
    app.include_router(calendars_router)
    app.include_router(integrations_router)
    app.include_router(templates_router)
    app.include_router(webhooks_router)
    app.include_router(codec_router)
    app.add_middleware(
        BodyLimitMiddleware,
        limit=MAX_BODY_BYTES,
        larger={
            **{
                re.escape(f"{API_PREFIX}/webhooks/{path}"): MAX_INBOUND_EMAIL_BYTES
                for path in ("sendgrid/inbound", "email-incoming")
            },
            re.escape(f"{API_PREFIX}/tickets/") + r"[^/]+/attachment": MAX_UPLOAD_BODY_BYTES,
            re.escape(f"{CODEC_PREFIX}/") + r"(en|de)code": MAX_CODEC_BODY_BYTES,
        },
    )
    # Outside the body limit, so that a refusal the Web UI gets is one it can read.
    app.add_middleware(
        PathCorsMiddleware, prefix=CODEC_PREFIX, origins=parse_origins(settings.codec_cors_origins)
    )
    app.add_middleware(
        ApiCorsMiddleware, origins=api_origins(settings.cors_origins), skip=CODEC_PREFIX
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, router=app.router)
    if settings.trusted_proxy_list:
        # Outermost: everything inside sees the client behind a trusted proxy. Nothing else
        # reads X-Forwarded-For (`ticketflow api` turns uvicorn's own reading off).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    return app
