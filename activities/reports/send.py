"""The scheduled-report activity: query, render, and e-mail the file to each recipient.

Recipients are mailed one after another and each delivery is heartbeated, so a retry after
a failure part-way resumes with the first recipient not yet served instead of mailing the
others twice.
"""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.channels.base import OutboundMessage, ProviderRejected, ProviderUnavailable
from activities.channels.email import EmailChannel, MailFile
from activities.reports.render import ReportFile, render
from activities.reports.tables import build_table
from domain.reports import SEND_REPORT, Delivery, ReportRun, ReportSent
from persistence.repositories.reports import Period, Slice

REJECTED = "ReportRejected"  # SendGrid refused the mail (4xx): final
UNDELIVERED = "ReportUndelivered"  # SendGrid failed or was unreachable: retried

_DELIVERIES = TypeAdapter(list[Delivery])


class ReportActivities:
    """Wired with a session factory and the mailer (None: record the mails, send nothing)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], mailer: EmailChannel | None
    ) -> None:
        self._sessions = sessions
        self._mailer = mailer

    @activity.defn(name=SEND_REPORT)
    async def send(self, run: ReportRun) -> ReportSent:
        """Build the run's report and mail it to every recipient not served yet."""
        report = await self._build(run)
        done = _already_delivered()
        for to in run.job.recipients[len(done) :]:
            done.append(await self._deliver(run, report, to))
            activity.heartbeat([d.model_dump(mode="json") for d in done])
        return ReportSent(
            file_name=report.name,
            content_type=report.content_type,
            size_bytes=len(report.content),
            rows=report.rows,
            deliveries=done,
        )

    async def _build(self, run: ReportRun) -> ReportFile:
        where = Slice(department_id=run.job.department_id)
        async with self._sessions() as session:
            table = await build_table(session, run.job.kind, Period(run.since, run.until), where)
        return render(table, run.job.format, f"{run.job.kind}-report-{run.until:%Y-%m-%d}")

    async def _deliver(self, run: ReportRun, report: ReportFile, to: str) -> Delivery:
        message = OutboundMessage(
            idempotency_key=f"{run.key}/{to}",
            channel="email",
            to=to,
            subject=f"ticketflow {run.job.kind} report ({run.until:%Y-%m-%d})",
            body=(
                f"The {run.job.kind} report from {run.since:%Y-%m-%d %H:%M} to "
                f"{run.until:%Y-%m-%d %H:%M} UTC is attached ({report.name}, "
                f"{report.rows} rows)."
            ),
        )
        if self._mailer is None:
            activity.logger.info("report %s for %s recorded only (no SendGrid key)", run.key, to)
            return Delivery(to=to, recorded_only=True)
        try:
            receipt = await self._mailer.send(
                message, MailFile(report.name, report.content_type, report.content)
            )
        except ProviderRejected as error:
            raise ApplicationError(str(error), type=REJECTED, non_retryable=True) from error
        except ProviderUnavailable as error:
            raise ApplicationError(
                f"report to {to} not sent: {error}",
                type=UNDELIVERED,
                next_retry_delay=error.retry_after,
            ) from error
        return Delivery(to=to, provider_message_id=receipt.provider_message_id)


def _already_delivered() -> list[Delivery]:
    details = activity.info().heartbeat_details
    return _DELIVERIES.validate_python(details[0]) if details else []
