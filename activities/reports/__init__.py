"""Reports as files (CSV, XLSX, PDF) and the activity that e-mails scheduled ones."""

from activities.reports.mail import ReportMailer, report_mailer
from activities.reports.render import CONTENT_TYPES, FileFormat, ReportFile, render
from activities.reports.send import ReportActivities
from activities.reports.tables import Table, build_table

__all__ = [
    "CONTENT_TYPES",
    "FileFormat",
    "ReportActivities",
    "ReportFile",
    "ReportMailer",
    "Table",
    "build_table",
    "render",
    "report_mailer",
]
