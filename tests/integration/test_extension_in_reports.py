"""An approved 延期申请 keeps the original deadline on record in the monthly reports (issue 13 item 2): the
rollup and the department's report carry an annex 已批准延期的任务 (部门, 任务, 原定期限, 延期后期限, 理由,
批准日期) in the Word document and the Excel annex; a rejected request, another department's report and a
period without approved extensions show none."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from docx import Document

from exchange.reports import ExtendedTaskRow, build_annex_xlsx, build_docx
from services import reports as rp
from services import submissions as sub
from services.supervision import extensions as ext

CODE = "yanjiang-2020"
ASKED_AT = dt.datetime(2020, 6, 29, 2, tzinfo=dt.UTC)
REPORT_AT = dt.datetime(2020, 7, 6, 2, tzinfo=dt.UTC)
TITLE = ExtendedTaskRow.table_title
HEADERS = ["部门", "任务", "原定期限", "延期后期限", "理由", "批准日期"]


def _task(uow_factory, actors, dept: str, key: str) -> int:
    with uow_factory() as uow:
        rows = sub.list_assignments(uow.session, actor=actors["office"], campaign_code=CODE, department_code=dept)
    return next(a.id for a in rows if a.template_key == key)


def _extend(uow_factory, actors, dept: str, key: str, *, approve: bool) -> int:
    target = _task(uow_factory, actors, dept, key)
    with uow_factory() as uow:
        asked = ext.request_extension(
            uow.session,
            actor=actors[f"dept_{dept}"],
            at=ASKED_AT,
            assignment_id=target,
            until=dt.date(2020, 7, 3),
            reason="涉及项目多，需延长核查时间",
        )
        ext.decide_extension(
            uow.session, actor=actors["office"], at=ASKED_AT, request_id=asked.id, approve=approve, reason="审批"
        )
        uow.commit()
    return target


def _data(uow_factory, actors, department: str | None, period: str = "2020-07"):
    with uow_factory() as uow:
        return rp.report_data(
            uow.session,
            actor=actors["office"],
            campaign_code=CODE,
            period=period,
            department_code=department,
            at=REPORT_AT,
        )


def _docx_table(data, title: str) -> list[list[str]] | None:
    document = Document(io.BytesIO(build_docx(data)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    if not any(title in h for h in headings):
        return None
    for table in document.tables:
        rows = [[c.text for c in r.cells] for r in table.rows]
        if rows and rows[0] == HEADERS:
            return rows
    raise AssertionError(f"附表「{title}」 has a heading but no table")


def test_the_rollup_and_the_department_report_show_both_deadlines(uow_factory, launched_campaign, actors):
    _extend(uow_factory, actors, "zjj", "self_check_ledger", approve=True)  # due 22 June, extended to 3 July
    _extend(uow_factory, actors, "jyj", "self_check_ledger", approve=False)  # rejected: no deadline moved
    rollup = _data(uow_factory, actors, None)
    [row] = rollup.extensions
    assert row.department == "区住建局" and row.original_due_on == dt.date(2020, 6, 22)
    assert row.extended_due_on == dt.date(2020, 7, 3) and row.reason == "涉及项目多，需延长核查时间"
    assert row.approved_on == dt.date(2020, 6, 29)

    book = openpyxl.load_workbook(io.BytesIO(build_annex_xlsx(rollup)))
    sheet = book[TITLE]
    assert [c.value for c in sheet[1]] == HEADERS
    cells = [c.value for c in sheet[2]]
    assert cells[0] == "区住建局" and cells[1] == row.task and "涉及项目多" in cells[4]
    assert [v.date() if isinstance(v, dt.datetime) else v for v in cells[2:4]] == [
        dt.date(2020, 6, 22),
        dt.date(2020, 7, 3),
    ]
    table = _docx_table(rollup, TITLE)
    assert table is not None and len(table) == 2
    assert table[1][0] == "区住建局" and table[1][2:4] == ["2020-06-22", "2020-07-03"]

    own = _data(uow_factory, actors, "zjj")
    assert [(r.original_due_on, r.extended_due_on) for r in own.extensions] == [
        (dt.date(2020, 6, 22), dt.date(2020, 7, 3))
    ]
    assert TITLE in openpyxl.load_workbook(io.BytesIO(build_annex_xlsx(own))).sheetnames
    other = _data(uow_factory, actors, "jyj")  # its request was rejected
    assert not other.extensions
    assert TITLE not in openpyxl.load_workbook(io.BytesIO(build_annex_xlsx(other))).sheetnames
    assert _docx_table(other, TITLE) is None


def test_no_annex_without_an_approved_extension(uow_factory, launched_campaign, actors):
    rollup = _data(uow_factory, actors, None)
    assert not rollup.extensions
    assert TITLE not in openpyxl.load_workbook(io.BytesIO(build_annex_xlsx(rollup))).sheetnames
