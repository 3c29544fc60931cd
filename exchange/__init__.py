"""File formats the coordination office exchanges (import, Excel export, reports).

Pure functions over pydantic models and dicts; no database access.
"""

from exchange.errors import ImportProblem, ImportRejected, RowError
from exchange.reports import (
    CheckedProjectRow,
    DepartmentProgressRow,
    InProcessSupervisionRow,
    LeadHandlingRow,
    Narrative,
    PostCheckRow,
    RectificationRow,
    ReportData,
    ReportFigures,
    build_annex_xlsx,
    build_docx,
    figures_sentence,
    progress_chart_png,
)
from exchange.rows import DepartmentRow, LeadRow, ProjectRow, UserRow
from exchange.tabular import import_table, read_table, template_xlsx, validate_rows
from exchange.xlsx_export import Percent, ledger_to_xlsx, to_xlsx

__all__ = [
    "CheckedProjectRow",
    "DepartmentProgressRow",
    "DepartmentRow",
    "ImportProblem",
    "ImportRejected",
    "InProcessSupervisionRow",
    "LeadHandlingRow",
    "LeadRow",
    "Narrative",
    "Percent",
    "PostCheckRow",
    "ProjectRow",
    "RectificationRow",
    "ReportData",
    "ReportFigures",
    "RowError",
    "UserRow",
    "build_annex_xlsx",
    "build_docx",
    "figures_sentence",
    "import_table",
    "ledger_to_xlsx",
    "progress_chart_png",
    "read_table",
    "template_xlsx",
    "to_xlsx",
    "validate_rows",
]
