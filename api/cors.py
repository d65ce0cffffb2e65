"""CORS for the codec endpoints only: the Temporal Web UI calls them from its own origin.

The UI sends the agent's login cookie along (`credentials: 'include'`), so the allowed origins
are listed one by one (`TICKETFLOW_CODEC_CORS_ORIGINS`), never `*`, and only the codec paths
answer cross-origin requests at all: the rest of the API stays same-origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

SETTING = "TICKETFLOW_CODEC_CORS_ORIGINS"
ALLOWED_METHODS = "POST, OPTIONS"
ALLOWED_HEADERS = "content-type, x-namespace, authorization"
_PREFLIGHT_MAX_AGE_S = "600"


_NOT_ANY = "since the codec endpoints take credentials; list the Web UI origins instead"


def parse_origins(
    text: str,
    *,
    setting: str = SETTING,
    not_any: str = _NOT_ANY,
    example: str = "https://temporal-ui.example.com",
) -> tuple[str, ...]:
    """`https://ui.example.com, http://127.0.0.1:8233` → the origins, as browsers spell them.

    Raises ValueError for `*` (saying `not_any`) or anything that is not a bare
    scheme://host[:port]; the message names `setting` (the codec's by default).
    """
    origins: list[str] = []
    for raw in text.split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        if origin == "*":
            raise ValueError(f"{setting}: '*' is not allowed, {not_any}")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ValueError(f"{setting}: {origin!r} is not an origin such as {example}")
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


class PathCorsMiddleware:
    """Credentialed CORS for the paths under `prefix`; other paths are left alone.

    A preflight is answered here, before any authentication runs (browsers send it without
    credentials); an origin not listed gets no CORS header at all.
    """

    def __init__(self, app: ASGIApp, *, prefix: str, origins: tuple[str, ...]) -> None:
        self.app = app
        self.prefix = prefix
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._covers(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin in self.origins
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin if allowed else None)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header("Origin")
                if allowed and origin is not None:
                    response_headers["Access-Control-Allow-Origin"] = origin
                    response_headers["Access-Control-Allow-Credentials"] = "true"
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _covers(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    @staticmethod
    def _preflight(origin: str | None) -> Response:
        if origin is None:
            response = problem(
                403, "this origin may not call the codec endpoints", code="forbidden"
            )
            response.headers["Vary"] = "Origin"
            return response
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": _PREFLIGHT_MAX_AGE_S,
                "Vary": "Origin",
            },
        )
