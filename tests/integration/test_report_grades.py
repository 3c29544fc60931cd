"""The monthly rollup carries each department's 评级 (domain.grading's one rule) read from the same
rollup the progress board shows for the report's day, and says 无监管项目 where a department has no
supervised projects (not 0 %). Uses the July 2020 scenario of test_reports.

The grades are read from the rollup on both SQLite and PostgreSQL; how a department without projects is
written (无监管项目) is the renderer's, so those two tests run on SQLite only."""

from __future__ import annotations

import datetime as dt
import io

import docx
import openpyxl
import pytest

from exchange.reports import NO_PROJECTS, DepartmentProgressRow
from services import reports
from services.views import boards
from tests.integration.test_reports import CODE, ROLLUP_AT, ZJJ_AT, _docx_tables, scenario  # noqa: F401 - fixture

PERIOD_END = dt.date(2020, 7, 25)  # the office rollup's cut-off for July


def _board_grades(s, actor, day: dt.date | None) -> dict[str, tuple[str, str]]:
    board = boards.department_board(s, actor=actor, campaign_code=CODE, day=day)
    return {r["name"]: (r["grade"], r["grade_reason"]) for r in board.to_dict("records")}


def _rollup_and_board(uow_factory, actors):
    office = actors["office"]
    with uow_factory() as uow:
        s = uow.session
        data = reports.report_data(
            s, actor=actors["leader"], campaign_code=CODE, period="2020-07", department_code=None, at=ROLLUP_AT
        )
        day = boards.rollup_day(s, actor=office, campaign_code=CODE, as_of=PERIOD_END)
        board = _board_grades(s, office, day)
        rendered = reports.render_report(
            s, actor=office, campaign_code=CODE, period="2020-07", department_code=None, at=ROLLUP_AT
        )
    graded = {r.department: (r.grade, r.grade_reason) for r in data.department_rows}
    assert data.graded_on == day
    assert len(graded) == 7 and graded == {name: board[name] for name in graded}
    assert all(g and reason for g, reason in graded.values())
    return data, graded, rendered


def test_rollup_grades_equal_the_board_of_the_same_day(uow_factory, scenario, actors, tick):  # noqa: F811
    data, _, _ = _rollup_and_board(uow_factory, actors)  # only the 07-01 tick so far
    assert data.graded_on == dt.date(2020, 7, 1)
    tick(dt.date(2020, 7, 24))  # the last tick inside the window: July's tasks have fallen due, many undone
    tick(dt.date(2020, 7, 28))  # and one after the cut-off, which a July report must not read
    data, graded, rendered = _rollup_and_board(uow_factory, actors)
    assert data.graded_on == dt.date(2020, 7, 24)
    assert graded["区住建局"][0] == "严重滞后"  # July's work fell due undone: the board names it

    headers = DepartmentProgressRow.headers()
    grade_col, reason_col = headers.index("评级"), headers.index("评级依据")
    document = docx.Document(io.BytesIO(rendered.docx))
    rows = _docx_tables(document)["各单位工作推进情况表"]
    assert {row[0]: (row[grade_col], row[reason_col]) for row in rows} == graded
    assert "注：各单位评级按2020年7月24日巡检数据评定，规则和数据与进度看板相同。" in [
        p.text for p in document.paragraphs
    ]
    book = openpyxl.load_workbook(io.BytesIO(rendered.xlsx))
    sheet = book["各单位工作推进情况表"]
    assert [c.value for c in sheet[1]] == headers
    assert {r[0]: (r[grade_col], r[reason_col]) for r in sheet.iter_rows(min_row=2, values_only=True)} == graded
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["各单位评级"] == "按2020年7月24日巡检数据评定"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_no_supervised_projects_reads_no_projects_not_zero(uow_factory, scenario, actors):  # noqa: F811
    with uow_factory() as uow:
        s = uow.session
        rollup = reports.render_report(
            s, actor=actors["office"], campaign_code=CODE, period="2020-07", department_code=None, at=ROLLUP_AT
        )
        data = reports.report_data(
            s, actor=actors["office"], campaign_code=CODE, period="2020-07", department_code=None, at=ROLLUP_AT
        )
    rows = {r.department: r for r in data.department_rows}
    assert rows["区住建局"].sampled_ratio == 2 / 6  # a real ratio stays a ratio
    assert rows["区公安分局"].projects_supervised == 0 and rows["区公安分局"].sampled_ratio == NO_PROJECTS
    ratio_col = DepartmentProgressRow.headers().index("核查比例")
    docx_rows = {
        r[0]: r[ratio_col] for r in _docx_tables(docx.Document(io.BytesIO(rollup.docx)))["各单位工作推进情况表"]
    }
    assert docx_rows["区公安分局"] == NO_PROJECTS and docx_rows["区住建局"] == "33.3%"
    sheet = openpyxl.load_workbook(io.BytesIO(rollup.xlsx))["各单位工作推进情况表"]
    xlsx_rows = {r[0]: r[ratio_col] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert xlsx_rows["区公安分局"] == NO_PROJECTS and xlsx_rows["区住建局"] == 2 / 6


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_department_without_projects_has_no_ratio_in_its_annex(uow_factory, scenario, actors):  # noqa: F811
    with uow_factory() as uow:
        rendered = reports.render_report(
            uow.session, actor=actors["office"], campaign_code=CODE, period="2020-07", department_code="gafj", at=ZJJ_AT
        )
    summary = {
        r[0]: r[1] for r in openpyxl.load_workbook(io.BytesIO(rendered.xlsx))["汇总"].iter_rows(values_only=True)
    }
    assert summary["核查比例"] == NO_PROJECTS
