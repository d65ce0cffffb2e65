"""Which URLs are credentials, and the mask that stands in for them."""

from __future__ import annotations

import pytest

from domain.integration_urls import mask_url, url_is_credential


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXwxyz",
            "https://hooks.slack.com/…wxyz",
        ),
        (
            "https://prod-1.westus.logic.azure.com:443/workflows/a/triggers/manual/paths/invoke"
            "?api-version=2016-06-01&sig=AbCdEf",
            "https://prod-1.westus.logic.azure.com:443/…CdEf",
        ),
        ("https://user:pa55word@example.com/hooks/abcdefghij", "https://example.com/…ghij"),
        ("http://[::1]:8080/very/long/secret/path", "http://[::1]:8080/…path"),
        ("https://example.com/short", "https://example.com/…"),
    ],
)
def test_a_mask_keeps_the_host_and_at_most_the_last_four_characters(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_only_the_chat_providers_urls_are_credentials() -> None:
    assert url_is_credential("slack") and url_is_credential("teams")
    assert not url_is_credential("webhook") and not url_is_credential("incident")
