"""CORS for the API: browser front ends served from another origin may call it.

The origins are listed one by one (`TICKETFLOW_CORS_ORIGINS`, none by default) and `*` is
refused: a wildcard would let any page use its visitors' browsers against the API (password
guessing from as many addresses as it has visitors, for one). Front ends authenticate with
the bearer token in `Authorization`, never with cookies, so the browser is never told to send
credentials (`Access-Control-Allow-Credentials` is not sent). The codec endpoints keep their
own, credentialed CORS (`api.cors`) and are left alone here.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.cors import parse_origins
from api.errors import problem

SETTING = "TICKETFLOW_CORS_ORIGINS"
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# What a front end may send: its token, JSON, an Idempotency-Key, and the safelisted headers
# (browsers ask for those too when a value is out of the ordinary).
ALLOWED_HEADERS = (
    "authorization",
    "content-type",
    "idempotency-key",
    "accept",
    "accept-language",
    "content-language",
)
# What it may read besides the safelisted response headers: when to retry (429, 503), a
# download's file name, why a token was refused.
EXPOSED_HEADERS = "Retry-After, Content-Disposition, WWW-Authenticate"
_PREFLIGHT_MAX_AGE_S = "600"
_NOT_ANY = "since any page could then use its visitors' browsers; list the front ends' origins"


def api_origins(text: str) -> tuple[str, ...]:
    """The origins in `TICKETFLOW_CORS_ORIGINS`; ValueError for `*` or a malformed one."""
    return parse_origins(text, setting=SETTING, not_any=_NOT_ANY, example="https://app.example.com")


class ApiCorsMiddleware:
    """CORS without credentials for `origins`, on every path except those under `skip`.

    A preflight is answered here, before authentication (browsers send it without the
    token): 204 for a listed origin asking for a method and headers the API takes, else a 403
    problem with no CORS header, which the browser reports as a CORS failure.
    """

    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...], skip: str) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._skipped(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and origin in self.origins
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            answer = self._preflight(origin if allowed else None, headers)
            await answer(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header("Origin")
                if allowed and origin is not None:
                    response_headers["Access-Control-Allow-Origin"] = origin
                    response_headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _skipped(self, path: str) -> bool:
        return path == self.skip or path.startswith(self.skip + "/")

    @staticmethod
    def _preflight(origin: str | None, headers: Headers) -> Response:
        method = headers["access-control-request-method"].strip().upper()
        asked = {
            name.strip().lower()
            for name in headers.get("access-control-request-headers", "").split(",")
            if name.strip()
        }
        if origin is None or method not in ALLOWED_METHODS or not asked <= set(ALLOWED_HEADERS):
            response = problem(
                403,
                "this origin may not call the API with this method and these headers",
                code="forbidden",
            )
            response.headers["Vary"] = "Origin"
            return response
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
                "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
                "Access-Control-Max-Age": _PREFLIGHT_MAX_AGE_S,
                "Vary": "Origin",
            },
        )
