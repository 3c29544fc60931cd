"""The scheduled filing: which reports fall due on a day, and writing one to disk once."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.access import SYSTEM
from domain.assignment import AssignmentStatus
from domain.reporting import is_period
from exchange.figures import DEFAULT_EXPORT, StaticExport
from services.campaigns import get_campaign
from services.reports.access import ROLLUP_KEY, report_key
from services.reports.render import render_report
from store import audit
from store.models import Assignment, Department, GeneratedReport, TaskTemplate


@dataclass(frozen=True)
class DueReport:
    campaign_code: str
    period: str
    department_code: str | None  # None: the office rollup
    due_on: dt.date


@dataclass(frozen=True)
class FiledReport:
    campaign_code: str
    period: str
    department_code: str | None
    docx_path: str
    xlsx_path: str
    docx_sha256: str
    xlsx_sha256: str


def due_reports(session: Session, campaign_code: str, as_of: dt.date) -> list[DueReport]:
    """Reports due on `as_of` by the campaign's recurring reports: the office's occurrence is the
    rollup, every other department's its own monthly report (binding, working-day adjusted dates)."""
    campaign = get_campaign(session, campaign_code)
    rows = session.execute(
        select(Assignment.period, Department.code, Department.is_office)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .join(Department, Department.id == Assignment.department_id)
        .where(
            Assignment.campaign_id == campaign.id,
            Assignment.due_on == as_of,
            TaskTemplate.recurring_day.is_not(None),
            Assignment.status != AssignmentStatus.cancelled.value,
            Department.active.is_(True),
        )
        .order_by(Assignment.period, Department.is_office, Department.code)
    ).all()
    out = {
        (period, None if is_office else code): DueReport(campaign_code, period, None if is_office else code, as_of)
        for period, code, is_office in rows
        if is_period(period)
    }
    return list(out.values())


def write_atomically(path: Path, data: bytes) -> None:
    """The whole file or nothing under its name: written beside it, synced, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_report(
    session: Session, *, due: DueReport, out_dir: Path, at: dt.datetime, export: StaticExport = DEFAULT_EXPORT
) -> FiledReport | None:
    """Write a due report's .docx and .xlsx under out_dir/<campaign>/ and record it; None when it
    was already filed (the record's natural key), so a re-run writes nothing. The caller commits."""
    campaign = get_campaign(session, due.campaign_code)
    dept_key = due.department_code or ROLLUP_KEY
    done = session.scalar(
        select(GeneratedReport.id).where(
            GeneratedReport.campaign_id == campaign.id,
            GeneratedReport.period == due.period,
            GeneratedReport.department_code == dept_key,
        )
    )
    if done is not None:
        return None
    rendered = render_report(
        session,
        actor=SYSTEM,
        campaign_code=due.campaign_code,
        period=due.period,
        department_code=due.department_code,
        at=at,
        export=export,
    )
    folder = Path(out_dir) / due.campaign_code
    docx_path, xlsx_path = folder / f"{rendered.filename_stem}.docx", folder / f"{rendered.filename_stem}.xlsx"
    write_atomically(docx_path, rendered.docx)
    write_atomically(xlsx_path, rendered.xlsx)
    docx_sha, xlsx_sha = hashlib.sha256(rendered.docx).hexdigest(), hashlib.sha256(rendered.xlsx).hexdigest()
    try:
        with session.begin_nested():  # a concurrent run may file it first (same names, same content)
            session.add(
                GeneratedReport(
                    campaign_id=campaign.id,
                    period=due.period,
                    department_code=dept_key,
                    due_on=due.due_on,
                    docx_path=str(docx_path),
                    xlsx_path=str(xlsx_path),
                    docx_sha256=docx_sha,
                    xlsx_sha256=xlsx_sha,
                    generated_at=at,
                )
            )
    except IntegrityError:
        return None
    audit.record(
        session,
        at=at,
        actor=SYSTEM,
        action="report.file",
        entity="report",
        entity_key=report_key(due.campaign_code, due.period, due.department_code),
        after={
            "docx": str(docx_path),
            "xlsx": str(xlsx_path),
            "docx_sha256": docx_sha,
            "xlsx_sha256": xlsx_sha,
            "due_on": str(due.due_on),
        },
    )
    return FiledReport(
        due.campaign_code, due.period, due.department_code, str(docx_path), str(xlsx_path), docx_sha, xlsx_sha
    )
