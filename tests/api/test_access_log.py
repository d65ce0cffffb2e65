"""The access log never holds a `token` query parameter's value (a webhook secret, a JWT)."""

from __future__ import annotations

import logging

import pytest

from api import access_log
from api.access_log import REDACTED, RedactTokens, redact


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (
            "/api/v1/webhooks/sendgrid/inbound?token=s3cret",
            f"/api/v1/webhooks/sendgrid/inbound?token={REDACTED}",
        ),
        ("/x?a=1&TOKEN=s3cret&b=2", f"/x?a=1&TOKEN={REDACTED}&b=2"),
        ("/ws?access_token=eyJabc.def", f"/ws?access_token={REDACTED}"),
        ("/tickets?mytoken=kept&q=token=kept", "/tickets?mytoken=kept&q=token=kept"),
    ],
)
def test_token_values_are_redacted(path: str, shown: str) -> None:
    assert redact(path) == shown


def test_a_uvicorn_access_line_is_written_without_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The record as uvicorn's access logger makes it: the path is one of its arguments."""
    access_log.install()
    access_log.install()  # a second app in the same process adds no second filter
    logger = logging.getLogger(access_log.ACCESS_LOGGER)
    assert sum(isinstance(f, RedactTokens) for f in logger.filters) == 1
    caplog.set_level(logging.INFO, logger=access_log.ACCESS_LOGGER)

    logger.info(
        '%s - "%s %s HTTP/%s" %d',
        "203.0.113.9:5123",
        "POST",
        "/api/v1/webhooks/sendgrid/inbound?token=s3cret-value",
        "1.1",
        401,
    )

    [record] = [r for r in caplog.records if r.name == access_log.ACCESS_LOGGER]
    assert "s3cret-value" not in record.getMessage()
    assert f"?token={REDACTED}" in record.getMessage()
