"""Revision 0009: Slack and Teams URLs already stored are encrypted, and decrypted back down."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from persistence.db import create_engine
from persistence.migrate import downgrade, upgrade
from tests.support.postgres import scratch_database

BEFORE = "0008_channel_notifications"
AFTER = "0009_integration_url_secret"
KEY = Fernet.generate_key().decode()
SLACK_HOOK = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXwxyz"
GENERIC = "https://hooks.example.com/ticketflow"


async def _sql(url: str, statement: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement))
            return [dict(row) for row in result.mappings()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def _integrations(url: str) -> dict[str, dict[str, Any]]:
    rows = await _sql(url, "SELECT * FROM integrations")
    return {row["provider"]: row for row in rows}


async def _version(url: str) -> str:
    [row] = await _sql(url, "SELECT version_num FROM alembic_version")
    return str(row["version_num"])


async def _stored_before(url: str) -> None:
    upgrade(url, BEFORE)
    await _sql(
        url,
        "INSERT INTO integrations (id, provider, url, events) VALUES "
        f"(gen_random_uuid(), 'slack', '{SLACK_HOOK}', '{{ticket.created}}'), "
        f"(gen_random_uuid(), 'webhook', '{GENERIC}', '{{ticket.created}}')",
    )


async def test_stored_chat_urls_are_encrypted_and_decrypted_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKETFLOW_SECRETS_KEY", KEY)
    async with scratch_database(database_url, migrate=False) as url:
        await _stored_before(url)

        upgrade(url, AFTER)

        rows = await _integrations(url)
        slack, generic = rows["slack"], rows["webhook"]
        assert not [value for value in slack.values() if "XXXXwxyz" in str(value)]
        assert slack["url"] is None
        assert Fernet(KEY).decrypt(slack["url_encrypted"].encode()).decode() == SLACK_HOOK
        assert slack["url_masked"] == "https://hooks.slack.com/…wxyz"
        assert (generic["url"], generic["url_encrypted"], generic["url_masked"]) == (
            GENERIC,
            None,
            None,
        )

        downgrade(url, BEFORE)

        rows = await _integrations(url)
        assert (rows["slack"]["url"], rows["webhook"]["url"]) == (SLACK_HOOK, GENERIC)
        assert "url_encrypted" not in rows["slack"]


@pytest.mark.parametrize("key", ["", "not-a-fernet-key"])
async def test_without_a_usable_key_the_upgrade_stops_and_changes_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("TICKETFLOW_SECRETS_KEY", key)
    async with scratch_database(database_url, migrate=False) as url:
        await _stored_before(url)

        with pytest.raises(RuntimeError, match="TICKETFLOW_SECRETS_KEY"):
            upgrade(url, AFTER)

        assert await _version(url) == BEFORE
        rows = await _integrations(url)
        assert rows["slack"]["url"] == SLACK_HOOK
        assert "url_encrypted" not in rows["slack"]


async def test_without_chat_integrations_no_key_is_needed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKETFLOW_SECRETS_KEY", "")
    async with scratch_database(database_url, migrate=False) as url:
        upgrade(url, BEFORE)
        await _sql(
            url,
            "INSERT INTO integrations (id, provider, url, events) VALUES "
            f"(gen_random_uuid(), 'webhook', '{GENERIC}', '{{ticket.created}}')",
        )

        upgrade(url, AFTER)

        assert (await _integrations(url))["webhook"]["url"] == GENERIC
