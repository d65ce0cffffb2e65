"""Which integrations' URLs are credentials, and how such a URL is shown without giving it away.

A Slack or Teams incoming-webhook URL is a bearer credential: whoever holds it can post into
the channel. It is stored encrypted, read back only to deliver, and shown as a mask.

A generic webhook's URL is not: like Zendesk, which shows a webhook's `endpoint` back and
keeps the receiver's credentials in separate write-only fields, ticketflow shows the URL so
an admin can check where events go, and the receiver authenticates deliveries by the
signature made with the write-only `secret`. Credentials therefore do not belong in a
generic URL (docs/integrations.md says so).
"""

from __future__ import annotations

from urllib.parse import urlsplit

# The providers whose deliveries are chat messages to an incoming webhook.
CHAT_PROVIDERS = frozenset({"slack", "teams"})

# Characters of a masked URL's tail shown: enough to tell two URLs apart, not to use one.
SHOWN_TAIL = 4
# A tail (path and query) this short is hidden whole: its last characters would be most of it.
MIN_HIDDEN = 12


def url_is_credential(provider: str) -> bool:
    """Whether the provider's URL grants posting by itself, so it is kept secret."""
    return provider in CHAT_PROVIDERS


def mask_url(url: str) -> str:
    """`https://hooks.slack.com/…AbCd`: scheme, host and port, then the tail's last characters.

    Any user name or password in the URL is dropped with the rest of what is hidden.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a port: hidden with the rest
        port = None
    if port is not None:
        host = f"{host}:{port}"
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    shown = tail[-SHOWN_TAIL:] if len(tail) >= MIN_HIDDEN else ""
    return f"{parts.scheme}://{host}/…{shown}"


__all__ = ["CHAT_PROVIDERS", "mask_url", "url_is_credential"]
