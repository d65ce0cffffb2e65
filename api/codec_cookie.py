"""The codec cookie: the staff member's access token, for the Temporal Web UI's codec calls.

The Web UI can send cookies to a codec server (with "include cross-origin credentials"), but
never the API's own Bearer token. So logging in or refreshing the token pair also sets this
cookie: HttpOnly (no script reads it), SameSite=Lax (sent from the same site only; the UI on
127.0.0.1:8233 and the API on 127.0.0.1:8000 are the same site), Secure when the API is
served over https, and scoped to the codec paths, the only ones that accept it. It holds the
pair's access token and expires with it; logging out clears it.
"""

from __future__ import annotations

from starlette.responses import Response

from api.paths import CODEC_PREFIX
from api.schemas.auth import TokenPair
from domain.enums import Role
from ticketflow.settings import Settings

CODEC_COOKIE = "ticketflow_codec"
STAFF = frozenset({Role.AGENT, Role.ADMIN})


def _secure(settings: Settings) -> bool:
    return settings.public_url.lower().startswith("https://")


def set_codec_cookie(response: Response, settings: Settings, pair: TokenPair) -> None:
    """Put the pair's access token in the cookie, for staff only (no one else may decode)."""
    if pair.user.role not in STAFF:
        clear_codec_cookie(response, settings)
        return
    response.set_cookie(
        CODEC_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        path=CODEC_PREFIX,
        secure=_secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_codec_cookie(response: Response, settings: Settings) -> None:
    """Tell the browser to drop the cookie."""
    response.delete_cookie(
        CODEC_COOKIE, path=CODEC_PREFIX, secure=_secure(settings), httponly=True, samesite="lax"
    )
