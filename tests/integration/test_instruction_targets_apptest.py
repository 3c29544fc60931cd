"""The 领导批示 form (AppTest, SQLite): the leader writes a 批示 on a department's 整改台账 problem and on its
monthly report; the department finds both on its 批示 page, saying what each is on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from services import problems as pb
from store.models import Instruction
from store.uow import UnitOfWork
from tests.integration import test_dashboard_apptest as apptest
from tests.integration.test_dashboard_apptest import _actor, _errors, _no_exceptions, login, open_page

# The AppTest fixtures: a migrated SQLite file, the campaign ticked to 29 June, the users.
engine = apptest.engine
dashboard_db = apptest.dashboard_db

PAGE = "pages/instructions.py"


def _zjj_problem(url: str) -> str:
    with UnitOfWork(url) as uow:
        p = pb.record_problem(
            uow.session,
            actor=_actor(url, "office"),
            at=dt.datetime(2020, 6, 29, 1, tzinfo=dt.UTC),
            campaign_code="yanjiang-2020",
            department_code="zjj",
            phase_key="self_check",
            category="规避招标",
            description="化整为零规避招标",
            handling_class="限时整改",
            deadline_on=dt.date(2020, 7, 31),
        )
        uow.commit()
    return p.code


def _write(at, text: str) -> None:
    """Send the form as filled in, as a note (阅知)."""
    at.text_area(key="instruction_text").input(text)
    at.checkbox(key="instruction_act").uncheck()
    next(b for b in at.button if b.label == "发送批示").click()
    at.run()
    _no_exceptions(at)
    assert not _errors(at), _errors(at)


def test_leader_writes_on_a_problem_and_a_report_and_the_department_sees_them(dashboard_db):
    code = _zjj_problem(dashboard_db)
    leader = open_page(login("leader"), PAGE)
    leader.selectbox(key="instruction_department").select("zjj")
    leader.segmented_control(key="instruction_subject").set_value("problem")
    leader.run()
    assert [o for o in leader.selectbox(key="instruction_problem").options if code in o]
    leader.selectbox(key="instruction_problem").select(
        next(o for o in leader.selectbox(key="instruction_problem").options if code in o)
    )
    _write(leader, "请举一反三，限期整改。")
    leader.segmented_control(key="instruction_subject").set_value("report")
    leader.run()
    assert "2020-06 月度报告" in leader.selectbox(key="instruction_report").options
    leader.selectbox(key="instruction_report").select("2020-06")
    _write(leader, "月度报告请补充核查情况。")
    with UnitOfWork(dashboard_db) as uow:
        rows = uow.session.execute(
            select(Instruction.subject, Instruction.problem_id, Instruction.report_period).order_by(Instruction.seq)
        ).all()
    assert [(s, p is not None, r) for s, p, r in rows] == [("problem", True, None), ("report", False, "2020-06")]

    dept = open_page(login("dept_zjj"), PAGE)
    shown = " ".join(m.value for m in dept.markdown)
    assert f"针对问题 {code}" in shown and "针对2020-06 月度报告" in shown
