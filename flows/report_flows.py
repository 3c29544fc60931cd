"""File the monthly reports on their due dates (the spec's recurring_reports).

On the day a department's monthly report falls due (binding, working-day adjusted date), its
report is written; on the day the office's rollup falls due, the rollup. Files go to
``<out_dir>/<campaign>/<campaign>_<YYYY-MM>_<department|office-rollup>.docx`` and ``.xlsx``,
written atomically; generated_report records each one under its natural key, so running the flow
again for the same day — or after a crash — writes nothing new. `as_of` is always a parameter.
"""

from __future__ import annotations

import datetime as dt
import os

from prefect import flow

from tasks import report_tasks as t

REPORTS_DIR_ENV = "CAMPAIGN_REPORTS_DIR"
DEFAULT_REPORTS_DIR = "data/reports"


def reports_dir() -> str:
    """Where filed reports go: CAMPAIGN_REPORTS_DIR, else data/reports (beside the default database)."""
    return os.environ.get(REPORTS_DIR_ENV) or DEFAULT_REPORTS_DIR


@flow(name="monthly-reports", flow_run_name="reports-{campaign}-{as_of}")
def monthly_reports(campaign: str, as_of: dt.date, db_url: str | None = None, out_dir: str | None = None) -> list[str]:
    """Write the reports due on `as_of`; returns the paths written (empty when none were due or all were filed)."""
    folder = out_dir or reports_dir()
    written: list[str] = []
    for due in t.due_reports(campaign, as_of, db_url):
        filed = t.file_report(due, as_of, folder, db_url)
        if filed is not None:
            written += [filed.docx_path, filed.xlsx_path]
    return written
