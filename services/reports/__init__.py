"""Monthly reports (seed 001, 四(三)): each department's report and the office rollup.

Every figure and every table row is computed from the store for the report's window (collect);
only the four narrative sections are written by people (narratives). The window arithmetic is
pure (domain.reporting); rendering to .docx/.xlsx with the dashboard's chart is in render; the
scheduled filing of due reports, written atomically and recorded once, in filing.
"""

from domain.reporting import ReportWindow, report_moment, report_window
from services.reports.collect import report_data, report_periods
from services.reports.filing import DueReport, FiledReport, due_reports, file_report
from services.reports.narratives import NarrativeDTO, get_narrative, save_narrative
from services.reports.render import RenderedReport, chart_export, filename_stem, render_report

__all__ = [
    "DueReport",
    "FiledReport",
    "NarrativeDTO",
    "RenderedReport",
    "ReportWindow",
    "chart_export",
    "due_reports",
    "file_report",
    "filename_stem",
    "get_narrative",
    "render_report",
    "report_data",
    "report_moment",
    "report_periods",
    "report_window",
    "save_narrative",
]
