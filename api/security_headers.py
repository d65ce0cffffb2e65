"""Security headers on every response the API sends, problems and crashes included.

- `X-Content-Type-Options: nosniff`: a browser never guesses a type (an uploaded file is what
  its content type says, never a page).
- `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no page may frame the API.
- `Referrer-Policy: no-referrer`: a URL of the API (a survey link holds a token) never leaks
  to another site.
- `Cross-Origin-Opener-Policy: same-origin`: a page of the API opened from another site gets
  no handle on its opener, nor the opener on it.
- `Content-Security-Policy`: `default-src 'none'` for what is not a page (JSON, files): if
  something were ever rendered, nothing in it could load or run. The API's documentation
  pages (Swagger UI, ReDoc) get a policy that lets them work: their scripts and styles from
  this origin or the CDN FastAPI points them at, and their inline script by its hash, taken
  from the page as it is served, so it holds whether the assets come from the CDN or are
  served from here.
- `Strict-Transport-Security` when the public URL is https.

A route that sets one of these itself (the survey pages' own stricter policy) keeps its own.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Where FastAPI's Swagger UI and ReDoc pages load from by default (and Google Fonts for
# ReDoc); self-hosted assets are 'self'.
_DOCS_CDN = "https://cdn.jsdelivr.net"
_DOCS_SOURCES = {
    "default-src": "'none'",
    "style-src": f"'self' {_DOCS_CDN} https://fonts.googleapis.com 'unsafe-inline'",
    "img-src": f"'self' data: {_DOCS_CDN} https://fastapi.tiangolo.com",
    "font-src": "'self' https://fonts.gstatic.com",
    # The schema, the login form and "Try it out" all call this origin.
    "connect-src": "'self'",
    # ReDoc searches in a worker it builds from a blob.
    "worker-src": "'self' blob:",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}
# One year; not `includeSubDomains`: other hosts under the API's name are not ours to bind.
HSTS = "max-age=31536000"
# An inline script: a <script> element without `src`, whatever its other attributes.
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.DOTALL | re.I)
# A docs page is a few kilobytes; more than this is not one and is passed on as it is.
_MAX_PAGE_BYTES = 512 * 1024


def docs_policy(page: bytes) -> str:
    """The CSP of a documentation page: its inline scripts allowed by their sha256."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    script_src = " ".join(["'self'", _DOCS_CDN, *hashes])
    sources = {**_DOCS_SOURCES, "script-src": script_src}
    return "; ".join(f"{name} {value}" for name, value in sources.items())


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response; `docs_paths` are the docs pages."""

    def __init__(self, app: ASGIApp, *, https: bool, docs_paths: Iterable[str]) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        self.fixed = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            **({"Strict-Transport-Security": HSTS} if https else {}),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs_page(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add(message, STRICT_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add(self, start: Message, policy: str) -> None:
        headers = MutableHeaders(scope=start)
        for name, value in self.fixed.items():
            headers.setdefault(name, value)
        headers.setdefault("Content-Security-Policy", policy)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the page until it is whole, to hash its inline scripts into its policy."""
        start: Message | None = None
        held: list[bytes] = []
        size = 0
        passed_on = False

        async def hold(message: Message) -> None:
            nonlocal start, size, passed_on
            if passed_on or message["type"] not in ("http.response.start", "http.response.body"):
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            assert start is not None
            held.append(message.get("body", b""))
            size += len(held[-1])
            more = message.get("more_body", False)
            if more and size <= _MAX_PAGE_BYTES:
                return
            page = b"".join(held)
            # Too large to be a docs page: passed on under the strict policy.
            self._add(start, STRICT_POLICY if more else docs_policy(page))
            await send(start)
            await send({"type": "http.response.body", "body": page, "more_body": more})
            passed_on = True

        await self.app(scope, receive, hold)
