"""The SendGrid e-mail channel with a report attached; record-only without credentials."""

from __future__ import annotations

import asyncio
import base64

from sendgrid.helpers.mail import Attachment, Disposition, FileContent, FileName, FileType

from activities.channels.base import OutboundMessage, Receipt
from activities.channels.email import EmailChannel
from activities.reports.render import ReportFile
from ticketflow.settings import Settings


class ReportMailer(EmailChannel):
    """Sends one report file as an attachment, with the channel's own mail and error mapping."""

    async def send_report(self, message: OutboundMessage, report: ReportFile) -> Receipt:
        mail = self._mail(message)
        mail.attachment = Attachment(
            FileContent(base64.b64encode(report.content).decode("ascii")),
            FileName(report.name),
            FileType(report.content_type.split(";")[0]),
            Disposition("attachment"),
        )
        return await asyncio.to_thread(self._post, mail)


def report_mailer(settings: Settings) -> ReportMailer | None:
    """The mailer, or None when SendGrid has no API key (reports are then recorded only)."""
    key = settings.sendgrid_api_key
    api_key = key.get_secret_value() if key is not None else ""
    if not api_key:
        return None
    return ReportMailer(
        api_key, settings.mail_from, settings.mail_domain, settings.sendgrid_base_url
    )
