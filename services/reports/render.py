"""A monthly report as files: the Word document (with the dashboard's progress chart) and its Excel annex."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from domain.access import Actor
from exchange.figures import DEFAULT_EXPORT, ChartUnavailable, StaticExport
from exchange.reports import DepartmentProgressRow, build_annex_xlsx, build_docx, progress_chart_png
from services.reports.collect import report_data
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedReport:
    docx: bytes
    xlsx: bytes
    filename_stem: str  # e.g. yanjiang-2020_2020-06_zjj; the rollup ends in _office-rollup


def filename_stem(campaign_code: str, period: str, department_code: str | None) -> str:
    return f"{campaign_code}_{period}_{department_code or 'office-rollup'}"


def chart_export(settings: Settings) -> StaticExport:
    """The installed browser and CJK font the edge's settings name for drawing report charts."""
    return StaticExport(browser=settings.chromium_path, font_family=settings.cjk_font)


def render_report(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    period: str,
    department_code: str | None,
    at: dt.datetime,
    export: StaticExport = DEFAULT_EXPORT,
) -> RenderedReport:
    """The report as a Word document (with the progress chart) and its Excel annex."""
    data = report_data(
        session, actor=actor, campaign_code=campaign_code, period=period, department_code=department_code, at=at
    )
    if data.is_rollup:
        rows, title = data.department_rows, "各单位任务进度"
    else:
        own = DepartmentProgressRow(
            department=data.unit_name,
            **{  # the chart's counts only (a department's own report has no per-unit 评级 row)
                name: getattr(data.figures, name)
                for name in DepartmentProgressRow.model_fields
                if name in type(data.figures).model_fields
            },
        )
        rows, title = [own], f"{data.unit_name}任务进度"
    try:
        chart: bytes | None = progress_chart_png(rows, title=title, export=export)
    except ChartUnavailable as exc:
        # A machine without Chromium still gets its report (every figure is in the text and the
        # tables); the missing chart is an installation matter for the operator's log.
        log.warning("报告 %s %s 未附图表：%s", campaign_code, period, exc)
        chart = None
    return RenderedReport(
        build_docx(data, chart), build_annex_xlsx(data), filename_stem(campaign_code, period, department_code)
    )
