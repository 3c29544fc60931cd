"""The 工作报告 page says 无监管项目 for 核查比例 when there are no supervised projects (as the boards
do), not 0.0 %: on the fresh campaign of the dashboard tests no project register is imported yet."""

from __future__ import annotations

from exchange.reports import NO_PROJECTS
from tests.integration.test_dashboard_apptest import (  # noqa: F401 - fixtures
    _no_exceptions,
    dashboard_db,
    engine,
    login,
    open_page,
)


def test_sampled_ratio_without_projects_reads_no_projects(dashboard_db):  # noqa: F811
    at = open_page(login("dept_zjj"), "pages/reports.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["核查比例"] == NO_PROJECTS
    figures = at.dataframe[0].value  # 主要数字
    assert dict(zip(figures["项目"], figures["数值"], strict=True))["核查比例"] == NO_PROJECTS
    _no_exceptions(at)
