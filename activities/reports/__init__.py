"""Reports as files (CSV, XLSX, PDF) and the activity that e-mails scheduled ones."""

from activities.reports.render import CONTENT_TYPES, FileFormat, ReportFile, render
from activities.reports.send import ReportActivities
from activities.reports.tables import Table, build_table

__all__ = [
    "CONTENT_TYPES",
    "FileFormat",
    "ReportActivities",
    "ReportFile",
    "Table",
    "build_table",
    "render",
]
