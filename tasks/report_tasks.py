"""Thin Prefect tasks for the monthly reports: which are due, and filing one (files + record)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import task

from domain.reporting import report_moment
from exchange.figures import StaticExport
from services import reports
from services.reports import DueReport, FiledReport
from store.uow import UnitOfWork


@task(task_run_name="due-reports-{campaign}-{as_of}")
def due_reports(campaign: str, as_of: dt.date, db_url: str) -> list[DueReport]:
    with UnitOfWork(db_url) as uow:
        return reports.due_reports(uow.session, campaign, as_of)


@task(task_run_name="file-report-{due.campaign_code}-{due.period}-{due.department_code}")
def file_report(due: DueReport, as_of: dt.date, out_dir: str, db_url: str, export: StaticExport) -> FiledReport | None:
    """Write the report's .docx and .xlsx and record them, in one transaction; None if already filed."""
    with UnitOfWork(db_url) as uow:
        filed = reports.file_report(uow.session, due=due, out_dir=Path(out_dir), at=report_moment(as_of), export=export)
        uow.commit()
        return filed
