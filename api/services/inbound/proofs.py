"""Each provider's proof that a webhook call is really theirs, checked before anything else.

A webhook whose secret is not configured answers 503: it never takes unauthenticated input.
"""

from __future__ import annotations

import binascii
import hmac
from base64 import b64decode
from collections.abc import Iterable, Mapping

from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator, get_signature_algorithm

from api.errors import ApiError

TWILIO_SIGNATURE = "X-Twilio-Signature"
TWILIO_SIGNATURE_SETTINGS = "X-Twilio-Webhooks-Signature-Settings"


class NotConfiguredError(ApiError):
    def __init__(self, provider: str, setting: str) -> None:
        super().__init__(
            503, f"the {provider} webhook is not configured ({setting})", code="not_configured"
        )


def _secret(value: SecretStr | None, provider: str, setting: str) -> str:
    secret = value.get_secret_value() if value is not None else ""
    if not secret.strip():
        raise NotConfiguredError(provider, setting)
    return secret


def _basic_password(authorization: str | None) -> str | None:
    """The password of an HTTP Basic `Authorization` header (the user name is not checked)."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, colon, password = decoded.partition(":")
    return password if colon else None


def check_sendgrid(
    inbound_secret: SecretStr | None, query_token: bool, authorization: str | None
) -> None:
    """SendGrid Inbound Parse: HTTP Basic auth with the secret as password, and nothing else.

    A `?token=` in the URL is refused even beside valid basic auth: a secret in a URL is
    written to every access log on the way, so the configuration must change.
    """
    expected = _secret(inbound_secret, "SendGrid", "SENDGRID_INBOUND_SECRET").encode()
    if query_token:
        raise _sendgrid_refused(
            "the inbound secret is not taken in the URL (?token=), where access logs keep it: "
            "use HTTP Basic auth (https://sendgrid:<secret>@host/…) and choose a new secret"
        )
    offered = _basic_password(authorization)
    if offered is None or not hmac.compare_digest(offered.encode(), expected):
        raise _sendgrid_refused("wrong or missing inbound secret (HTTP Basic auth)")


def _sendgrid_refused(detail: str) -> ApiError:
    return ApiError(
        401, detail, code="unauthorized", headers={"WWW-Authenticate": 'Basic realm="sendgrid"'}
    )


def check_twilio(
    auth_token: SecretStr | None,
    url: str,
    params: Iterable[tuple[str, object]],
    headers: Mapping[str, str],
) -> None:
    """Twilio: `X-Twilio-Signature` over the public URL and the form's parameters."""
    token = _secret(auth_token, "Twilio", "TWILIO_AUTH_TOKEN")
    signature = headers.get(TWILIO_SIGNATURE)
    # Only text fields are signed; a file part (Twilio never sends one) must not break the check.
    fields = ImmutableMultiDict([(k, v) for k, v in params if isinstance(v, str)])
    algorithm = get_signature_algorithm(headers.get(TWILIO_SIGNATURE_SETTINGS))
    if not signature or not RequestValidator(token).validate(url, fields, signature, algorithm):
        raise ApiError(403, "the Twilio signature does not match", code="forbidden")


def check_slack(signing_secret: SecretStr | None, body: bytes, headers: Mapping[str, str]) -> None:
    """Slack: `v0=` HMAC of the timestamp and body; older than five minutes counts as forged."""
    secret = _secret(signing_secret, "Slack", "SLACK_SIGNING_SECRET")
    try:
        valid = SignatureVerifier(secret).is_valid_request(body, dict(headers))
    except ValueError:  # a timestamp that is not a number
        valid = False
    if not valid:
        raise ApiError(401, "the Slack signature is missing, forged or stale", code="unauthorized")
