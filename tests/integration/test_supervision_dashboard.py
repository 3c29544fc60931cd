"""The supervision loop on the dashboard (AppTest, SQLite): the office lands on its 待办; a department
signs, asks for an extension, the office approves it there and the department's task shows the new
deadline; batch accept with one comment; 撤回; 催办 from the 待办."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from store.models import Assignment, ExtensionRequest, Submission, Urge
from store.uow import UnitOfWork
from tests.integration import test_dashboard_apptest as apptest
from tests.integration.test_dashboard_apptest import _assignment_id, _errors, _no_exceptions, login

# The AppTest fixtures: a migrated SQLite file, the campaign ticked to 29 June, the users.
engine = apptest.engine
dashboard_db = apptest.dashboard_db


def _row(url: str, model, **where):
    with UnitOfWork(url) as uow:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        rows = uow.session.scalars(q).all()
        uow.session.expunge_all()  # keep what was read when the unit of work rolls back
        return rows


def test_office_lands_on_todo(dashboard_db):
    office = login("office")
    assert office.title[0].value == "待办"
    assert any("延期申请" in m.label for m in office.metric)


def test_extension_request_approved_moves_the_deadline(dashboard_db):
    target = _assignment_id(dashboard_db, "zjj", "self_check_ledger")  # due 22 June, overdue on 29 June
    dept = login("dept_zjj")
    dept.selectbox(key="pick_assignment").select(target)
    dept.run()
    tasks = dept.dataframe[0].value  # 我的任务, the first table
    assert tasks[tasks["任务编号"] == target].iloc[0]["灯"] == "红"
    dept.date_input(key=f"ext_until_{target}").set_value(dt.date(2020, 7, 3))
    dept.text_area(key=f"ext_reason_{target}").input("涉及项目多，需延长核查时间")
    next(b for b in dept.button if b.label == "提交延期申请").click()
    dept.run()
    _no_exceptions(dept)
    assert not _errors(dept), _errors(dept)
    [request] = _row(dashboard_db, ExtensionRequest, assignment_id=target)
    assert request.state == "pending"

    office = login("office")
    assert any(f"申请 {request.id}" in e.label for e in office.expander)
    office.date_input(key=f"ext_until_{request.id}").set_value(dt.date(2020, 7, 2))  # shorter than asked
    office.text_input(key=f"ext_opinion_{request.id}").input("同意延期至 7 月 2 日")
    office.button(key=f"ext_approve_{request.id}").click()
    office.run()
    _no_exceptions(office)
    assert not _errors(office), _errors(office)
    [a] = _row(dashboard_db, Assignment, id=target)
    assert a.due_on == dt.date(2020, 7, 2) and a.original_due_on == dt.date(2020, 6, 22)

    dept = login("dept_zjj")
    tasks = dept.dataframe[0].value  # 我的任务, the first table
    row = tasks[tasks["任务编号"] == target].iloc[0]
    assert str(row["截止日期"]) == "2020-07-02" and str(row["原定截止"]) == "2020-06-22"
    assert row["灯"] == "黄"  # 3 working days left on 29 June: within the default warning window


def test_sign_withdraw_and_batch_accept(dashboard_db):
    target = _assignment_id(dashboard_db, "zjj", "self_check_report")
    dept = login("dept_zjj")
    dept.selectbox(key="pick_assignment").select(target)
    dept.run()
    dept.button(key=f"sign_{target}").click()
    dept.run()
    _no_exceptions(dept)
    assert _row(dashboard_db, Assignment, id=target)[0].acknowledged_by == "dept_zjj"
    dept.text_area(key=f"text_{target}").input("住建局自查报告")
    next(b for b in dept.button if b.label == "提交报送").click()
    dept.run()
    assert any("逾期原因" in e for e in _errors(dept))  # due 22 June, now 29 June
    dept.text_area(key=f"late_{target}").input("核查项目多")
    next(b for b in dept.button if b.label == "提交报送").click()
    dept.run()
    assert not _errors(dept), _errors(dept)
    dept.button(key=f"withdraw_{target}").click()
    dept.run()
    _no_exceptions(dept)
    assert _row(dashboard_db, Assignment, id=target)[0].status == "open"
    # the form starts from the withdrawn text; hand it in again
    assert dept.text_area(key=f"text_{target}").value == "住建局自查报告"
    dept.text_area(key=f"late_{target}").input("核查项目多")
    next(b for b in dept.button if b.label == "提交报送").click()
    dept.run()

    office = login("office")
    office.multiselect(key="batch_pick").select(target)
    office.text_input(key="batch_comment").input("材料齐全")
    next(b for b in office.button if b.label == "批量通过").click()
    office.run()
    _no_exceptions(office)
    assert _row(dashboard_db, Assignment, id=target)[0].status == "accepted"
    notes = [s.review_note for s in _row(dashboard_db, Submission, assignment_id=target)]
    assert notes[-1] == "材料齐全"


def test_office_urges_all_overdue_work(dashboard_db):
    office = login("office")
    office.selectbox(key="urge_scope").select("__all__")
    office.text_input(key="urge_message").input("请本周内完成")
    next(b for b in office.button if b.label == "催办").click()
    office.run()
    _no_exceptions(office)
    urges = _row(dashboard_db, Urge)
    assert urges and {u.message for u in urges} == {"请本周内完成"}
