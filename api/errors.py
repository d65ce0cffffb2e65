"""Every failure the API answers is an RFC 9457 `application/problem+json` document.

Business errors (`domain.errors.TicketflowError`) carry their own status; a ticket workflow's
rejected update carries the same error code in its `ApplicationError.type`, so both map the
same way. Nothing a client sends may surface as a 500.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import ERRORS_BY_CODE, IllegalTransition, TicketflowError
from persistence.db import db_sqlstate, describe_db_error

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "urn:ticketflow:problem:"
# Where the status phrase would make a poor code (or differs between Python versions).
_CODES = {413: "content_too_large", 422: "invalid_input", 500: "internal_error"}


def problem(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; `code` names the problem type (defaults from the status)."""
    phrase = HTTPStatus(status).phrase
    slug = code or _CODES.get(status) or phrase.lower().replace(" ", "_").replace("-", "_")
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": phrase,
        "status": status,
        "detail": detail or phrase,
        **extra,
    }
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


class ApiError(TicketflowError):
    """An HTTP-only failure (401, 429, 503…) raised from deep inside a request."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code or HTTPStatus(status).phrase.lower().replace(" ", "_")
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class UnauthorizedError(ApiError):
    def __init__(self, detail: str = "not authenticated") -> None:
        super().__init__(401, detail, code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


class EngineUnavailableError(ApiError):
    def __init__(self, detail: str = "the ticket engine is unavailable; retry shortly") -> None:
        super().__init__(503, detail, code="engine_unavailable", headers={"Retry-After": "1"})


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list without the echoed input (which may hold a password)."""
    cleaned = []
    for error in errors:
        item = {k: v for k, v in dict(error).items() if k in ("loc", "msg", "type")}
        if "ctx" in error:
            item["ctx"] = {k: str(v) for k, v in error["ctx"].items()}
        cleaned.append(item)
    return cleaned


def error_from_application(failure: ApplicationError) -> ApiError:
    """The business error a workflow update was rejected with."""
    cls = ERRORS_BY_CODE.get(failure.type or "", TicketflowError)
    extra: dict[str, Any] = {}
    if failure.type == IllegalTransition.code and failure.details:
        first = failure.details[0]
        if isinstance(first, Mapping):
            extra["allowed"] = list(first.get("allowed", []))
    return ApiError(cls.status, failure.message, code=failure.type or cls.code, extra=extra)


def error_from_update(failure: WorkflowUpdateFailedError) -> TicketflowError:
    cause = failure.cause
    if isinstance(cause, ApplicationError):
        return error_from_application(cause)
    log.warning("ticket update failed without a business error: %r", cause)
    return TicketflowError("the ticket could not be changed")


def error_from_rpc(failure: RPCError) -> TicketflowError:
    """A Temporal service error met while talking to a ticket's workflow."""
    if failure.status is RPCStatusCode.NOT_FOUND:
        # The workflow is gone: a closed ticket past its reopen window has finished.
        return ApiError(
            409, "this ticket is closed for good and can no longer change", code="conflict"
        )
    if failure.status in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION):
        return ApiError(409, failure.message, code="conflict")
    log.error("Temporal call failed: %s (%s)", failure.message, failure.status)
    return EngineUnavailableError()


def _ticketflow_response(error: TicketflowError) -> JSONResponse:
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(error, IllegalTransition):
        extra["allowed"] = error.allowed
    if isinstance(error, ApiError):
        extra.update(error.extra)
        headers = error.headers
    return problem(error.status, error.detail, code=error.code, headers=headers, **extra)


async def _on_ticketflow(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TicketflowError)
    return _ticketflow_response(exc)


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem(exc.status_code, detail, headers=exc.headers)


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc.errors())
    detail = (
        "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        or "invalid request"
    )
    return problem(422, detail, code="invalid_input", errors=errors)


async def _on_update_failed(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WorkflowUpdateFailedError)
    return _ticketflow_response(error_from_update(exc))


async def _on_rpc(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    return _ticketflow_response(error_from_rpc(exc))


async def _on_temporal_timeout(_: Request, exc: Exception) -> JSONResponse:
    log.warning("ticket engine timed out: %s", exc)
    return _ticketflow_response(EngineUnavailableError("the ticket engine did not answer in time"))


async def _on_query_failed(_: Request, exc: Exception) -> JSONResponse:
    log.error("ticket query failed: %s", exc)
    return _ticketflow_response(EngineUnavailableError("the ticket could not be read; retry"))


# Database errors are logged by `describe_db_error` (kind, SQLSTATE, constraint, statement),
# never by their message: PostgreSQL and asyncpg quote the values they refused.


async def _on_integrity(_: Request, exc: Exception) -> JSONResponse:
    # Uniqueness and references are checked before writing; this is the race that slipped by.
    log.info("integrity error: %s", describe_db_error(exc))
    return problem(409, "this conflicts with existing data", code="conflict")


async def _on_data_error(_: Request, exc: Exception) -> JSONResponse:
    log.info("data error: %s", describe_db_error(exc))
    return problem(422, "a value is out of range for its field", code="invalid_input")


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Any other database error. asyncpg's dialect reports most data exceptions (SQLSTATE
    class 22: a value too long, not a number, out of range) as a plain DBAPIError: they are
    bad input, not a crash."""
    code = db_sqlstate(exc) or ""
    if code.startswith("22"):
        return await _on_data_error(request, exc)
    if code.startswith("23"):
        return await _on_integrity(request, exc)
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "database error: %s\nTraceback (most recent call last):\n%s", describe_db_error(exc), frames
    )
    return problem(500, "an unexpected error occurred", code="internal_error")


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "an unexpected error occurred", code="internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TicketflowError, _on_ticketflow)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(WorkflowUpdateFailedError, _on_update_failed)
    app.add_exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError, _on_temporal_timeout)
    app.add_exception_handler(WorkflowQueryFailedError, _on_query_failed)
    app.add_exception_handler(WorkflowQueryRejectedError, _on_query_failed)
    app.add_exception_handler(RPCError, _on_rpc)
    app.add_exception_handler(IntegrityError, _on_integrity)
    app.add_exception_handler(DataError, _on_data_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)
