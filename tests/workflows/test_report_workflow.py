"""ReportWorkflow and its activity on the dev server with the real worker: a report is only
recorded without SendGrid credentials, and a retry after a failed send resumes with the
recipient that was not served, never mailing the others twice.

Set TICKETFLOW_RECORD_HISTORY=<name> (with `-k retry`) to save a report's history into the
replay corpus."""

from __future__ import annotations

import base64
import io
from datetime import timedelta
from uuid import uuid4

from openpyxl import load_workbook  # type: ignore[import-untyped]
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.reports import ReportJob, ReportSent
from tests.persistence.factories import Desk
from tests.support.histories import replays_and_is_kept
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings
from workers.main import build_worker
from workflows.report import ReportWorkflow

SENDGRID_PATH = "/v3/mail/send"


async def run_report(
    env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    job: ReportJob,
) -> ReportSent:
    """Run one report; its history must replay (and is saved with TICKETFLOW_RECORD_HISTORY)."""
    async with build_worker(env.client, sessions, settings):
        handle = await env.client.start_workflow(
            ReportWorkflow.run, job, id=f"report-test-{uuid4()}", task_queue=settings.task_queue
        )
        sent = await handle.result()
    await replays_and_is_kept(handle)
    return sent


async def agents_job(
    sessions: async_sessionmaker[AsyncSession], file_format: str, *recipients: str
) -> tuple[Desk, ReportJob]:
    async with sessions.begin() as session:
        desk = await Desk.create(session)
    job = ReportJob.model_validate(
        {
            "kind": "agents",
            "format": file_format,
            "recipients": list(recipients),
            "look_back": timedelta(days=1),
            "department_id": desk.department.id,
        }
    )
    return desk, job


async def test_without_credentials_the_report_is_recorded_only(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    _, job = await agents_job(session_factory, "xlsx", "boss@example.com")
    settings = Settings(task_queue=task_queue, sendgrid_api_key=None)

    sent = await run_report(dev_env, session_factory, settings, job)

    assert sent.content_type.startswith("application/vnd.openxmlformats")
    assert sent.file_name.startswith("agents-report-") and sent.file_name.endswith(".xlsx")
    assert sent.rows == 1  # the desk's one agent
    assert [(d.to, d.recorded_only) for d in sent.deliveries] == [("boss@example.com", True)]


async def test_a_retry_mails_only_the_recipients_not_served_yet(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    task_queue: str,
) -> None:
    desk, job = await agents_job(session_factory, "xlsx", "a@example.com", "b@example.com")
    with StandIn() as sendgrid:
        sendgrid.enqueue(
            SENDGRID_PATH,
            Answer(202, headers={"X-Message-Id": "first"}),
            Answer(503, payload={"errors": [{"message": "try later"}]}),
            Answer(202, headers={"X-Message-Id": "second"}),
        )
        settings = Settings(
            task_queue=task_queue,
            sendgrid_api_key=SecretStr("SG.report-test"),
            sendgrid_base_url=sendgrid.url,
        )

        sent = await run_report(dev_env, session_factory, settings, job)

        mails = [m.json() for m in sendgrid.requests_to(SENDGRID_PATH)]
    recipients = [mail["personalizations"][0]["to"][0]["email"] for mail in mails]
    assert recipients == ["a@example.com", "b@example.com", "b@example.com"]
    assert [d.provider_message_id for d in sent.deliveries] == ["first", "second"]
    [attachment] = mails[0]["attachments"]
    assert attachment["filename"] == sent.file_name
    sheet = load_workbook(io.BytesIO(base64.b64decode(attachment["content"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("name", "email", "assigned_open")
    assert [row[1] for row in rows[1:]] == [desk.agent.email]
