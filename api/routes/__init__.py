"""The routers: `api_router` (paths under `/api/v1`), `ops_router` (at the root)."""

from fastapi import APIRouter

from api.routes import (
    accounts,
    auth,
    deliveries,
    departments,
    held_emails,
    mfa,
    notifications,
    ops,
    sla,
    surveys,
    tickets,
    users,
)

api_router = APIRouter()
# Each router carries the full prefix itself, so a request's route template (the metrics
# label) is the whole path.
for module in (
    auth,
    mfa,
    accounts,
    users,
    departments,
    tickets,
    deliveries,
    sla,
    notifications,
    surveys,
    held_emails,
):
    api_router.include_router(module.router)

ops_router = ops.router

__all__ = ["api_router", "ops_router"]
