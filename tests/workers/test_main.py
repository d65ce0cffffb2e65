"""build_worker, for what it says as it starts: the channels that will only record, and a
development JWT secret its survey links would be signed with."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from ticketflow.settings import Settings
from workers.main import build_worker


async def test_each_channel_without_credentials_is_named_once_as_the_worker_starts(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # E-mail and SMS can send; push and Slack cannot (an empty token counts as none).
    settings = Settings.model_validate(
        {
            "task_queue": task_queue,
            "TICKETFLOW_LINK_SECRET": "a-production-link-secret-" + "x" * 40,
            "sendgrid_api_key": "SG.worker-test",
            "twilio_account_sid": "AC0123456789abcdef0123456789abcdef",
            "twilio_auth_token": "twilio-test-token",
            "twilio_from": "+15005550006",
            "slack_bot_token": "",
        }
    )
    with caplog.at_level(logging.INFO, logger="workers.main"):
        async with build_worker(dev_env.client, session_factory, settings):
            pass

    said = [r for r in caplog.records if r.name == "workers.main"]
    assert [(r.levelno, r.getMessage()) for r in said] == [
        (
            logging.WARNING,
            "push notifications will be recorded, not sent: set FIREBASE_CREDENTIALS to send them",
        ),
        (
            logging.WARNING,
            "slack notifications will be recorded, not sent: set SLACK_BOT_TOKEN to send them",
        ),
    ]
