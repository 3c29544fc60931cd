"""File the monthly reports on their due dates (the spec's recurring_reports).

On the day a department's monthly report falls due (binding, working-day adjusted date), its
report is written; on the day the office's rollup falls due, the rollup. Files go to
``<out_dir>/<campaign>/<campaign>_<YYYY-MM>_<department|office-rollup>.docx`` and ``.xlsx``,
written atomically; generated_report records each one under its natural key, so running the flow
again for the same day — or after a crash — writes nothing new. `as_of` is always a parameter.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow

from exchange.figures import StaticExport
from services.reports import chart_export
from settings import load_settings
from tasks import report_tasks as t


@flow(name="monthly-reports", flow_run_name="reports-{campaign}-{as_of}")
def monthly_reports(
    campaign: str,
    as_of: dt.date,
    db_url: str | None = None,
    out_dir: str | None = None,
    chart: StaticExport | None = None,
) -> list[str]:
    """Write the reports due on `as_of`; returns the paths written (empty when none were due or all were filed).

    The caller (the daily flow, a test) passes its database, reports directory and chart export
    (services.reports.chart_export(settings)); run on its own as a deployment, the flow is the edge
    and takes what it was not given from the settings (db_url, reports_path, chromium_path, cjk_font)."""
    if db_url is None or out_dir is None or chart is None:
        settings = load_settings()
        db_url = db_url or settings.db_url
        out_dir = out_dir or str(settings.reports_path)
        chart = chart or chart_export(settings)
    written: list[str] = []
    for due in t.due_reports(campaign, as_of, db_url):
        filed = t.file_report(due, as_of, out_dir, db_url, chart)
        if filed is not None:
            written += [filed.docx_path, filed.xlsx_path]
    return written
