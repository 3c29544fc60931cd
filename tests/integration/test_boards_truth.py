"""Boards say what is true (issue 12): work not yet due is 未到期 (neutral), a department × phase
with nothing assigned is 未布置 (blank with its reason), the grade follows domain.grading's one rule
in the overview, the table, the heat map, `campaign status` and the report, a department's drill-down
says why (overdue days, returns with reasons, escalations, extensions, 逾期原因), a department
with no supervised projects has no 核查比例 (无监管项目), and every board reads one "as of" day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from domain.assignment import UNFINISHED
from domain.grading import GRADE_REASONS, Grade, Standing, grade
from services import submissions as sub
from services.status import department_status
from services.views import boards
from store.models import Assignment, Department, Phase, Project

UTC = dt.UTC


def test_the_grade_rule():
    assert grade(Standing()) is Grade.unassigned
    assert grade(Standing(assigned=5)) is Grade.not_due  # nothing due: neutral, not red and not 0 %
    assert grade(Standing(assigned=5, due=2)) is Grade.green
    assert grade(Standing(assigned=9, due=9, overdue=1)) is Grade.yellow
    assert grade(Standing(assigned=9, due=3, overdue=1)) is Grade.red  # a third of what is due
    assert grade(Standing(assigned=9, due=9, overdue=1, escalation_level=1)) is Grade.yellow  # 预警
    assert grade(Standing(assigned=9, due=9, overdue=1, escalation_level=2)) is Grade.red  # 通报批评
    assert grade(Standing(assigned=9, due=0, overdue=1)) is Grade.red  # overdue work is due work
    assert set(GRADE_REASONS) == set(Grade)


def test_not_yet_due_is_neutral_and_nothing_assigned_is_blank(uow_factory, launched_campaign, actors, tick):
    code = launched_campaign.code
    day = dt.date(2020, 6, 2)  # self_check has just opened: its work is assigned, none of it due
    tick(day)
    with uow_factory() as uow:
        s = uow.session
        as_of = boards.board_day(s, actor=actors["leader"], campaign_code=code)
        assert as_of.ticked_on == day and as_of.rollup_on == day and str(day) in as_of.text
        heat = boards.heatmap(s, actor=actors["leader"], campaign_code=code, day=as_of.rollup_on)
        departments = s.scalar(select(func.count(Department.id)))
        phases = s.scalar(select(func.count(Phase.id)))
        assert len(heat) == departments * phases  # every pair, none left out
        self_check = heat[heat["phase"].str.startswith("全面自查")]
        assigned = self_check[self_check["assigned"] > 0]
        assert len(assigned) and set(assigned["grade"]) == {Grade.not_due.value}  # grey, not red 0
        later = heat[heat["assigned"] == 0]
        assert len(later) and set(later["grade"]) == {Grade.unassigned.value}
        assert set(later["grade_reason"]) == {GRADE_REASONS[Grade.unassigned]}
        # what is overdue is red or yellow, and only that
        overdue = heat[heat["overdue"] > 0]
        assert set(overdue["grade"]) <= {Grade.yellow.value, Grade.red.value}
        assert set(heat[heat["overdue"] == 0]["grade"]) <= {
            Grade.green.value,
            Grade.not_due.value,
            Grade.unassigned.value,
        }


def test_one_grade_in_overview_table_heatmap_status_and_bulletin(uow_factory, launched_campaign, actors, tick):
    code = launched_campaign.code
    day = dt.date(2020, 6, 29)  # work overdue and escalated
    tick(day)
    with uow_factory() as uow:
        s = uow.session
        as_of = boards.board_day(s, actor=actors["leader"], campaign_code=code).rollup_on
        assert as_of == day
        board = boards.department_board(s, actor=actors["leader"], campaign_code=code, day=as_of)
        heat = boards.heatmap(s, actor=actors["leader"], campaign_code=code, day=as_of)
        status = {d.department_code: d.grade.value for d in department_status(s, code, as_of)}
        _praise, criticise = boards.bulletin_lists(s, actor=actors["office"], campaign_code=code, day=as_of)
        overdue_by_dept = dict(
            s.execute(
                select(Department.code, func.count(Assignment.id))
                .join(Assignment, Assignment.department_id == Department.id)
                .where(Assignment.status.in_(UNFINISHED), Assignment.overdue_days > 0)
                .group_by(Department.code)
            ).all()
        )
    assert dict(zip(board["code"], board["grade"], strict=True)) == status  # table and overview = CLI status
    assert {Grade.yellow.value, Grade.red.value} & set(board["grade"])  # someone is behind, and shown so
    for row in board.itertuples():
        assert (row.grade in (Grade.yellow.value, Grade.red.value)) == (
            overdue_by_dept.get(row.code, 0) > 0 or row.escalation_level > 0
        )
        cells = heat[heat["code"] == row.code]
        # a department's worst phase is never better than a clean one, and a red department has a
        # behind cell
        if row.grade == Grade.green.value:
            assert not set(cells["grade"]) & {Grade.yellow.value, Grade.red.value}
        if row.overdue:
            assert set(cells["grade"]) & {Grade.yellow.value, Grade.red.value}
    assert set(criticise["code"]) <= set(board[board["grade"] == Grade.red.value]["code"])


def test_no_projects_reads_no_projects_not_zero(uow_factory, launched_campaign, actors, tick):
    code = launched_campaign.code
    tick(dt.date(2020, 6, 2))
    with uow_factory() as uow:
        s = uow.session
        with_projects = set(
            s.scalars(select(Department.code).join(Project, Project.department_id == Department.id).distinct())
        )
        as_of = boards.board_day(s, actor=actors["office"], campaign_code=code).rollup_on
        board = boards.department_board(s, actor=actors["office"], campaign_code=code, day=as_of)
    none = board[~board["code"].isin(with_projects)]
    assert len(none) and set(none["sampled_text"]) == {boards.NO_PROJECTS}
    assert none["sampled_ratio"].isna().all()
    assert not (board["sampled_text"] == "0.0%").any() or with_projects


def test_drill_down_says_why(uow_factory, launched_campaign, actors, tick):
    code, dept, office = launched_campaign.code, actors["dept_zjj"], actors["office"]
    with uow_factory() as uow:
        rows = sub.list_assignments(uow.session, actor=dept, campaign_code=code, department_code="zjj")
        a = min((r for r in rows if r.status == "open" and r.due_on > launched_campaign.as_of), key=lambda r: r.due_on)
    at = dt.datetime(2020, 6, 2, 2, tzinfo=UTC)
    with uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at, assignment_id=a.id, text="第一稿")
        uow.commit()
    with uow_factory() as uow:
        v = sub.get_assignment(uow.session, actor=office, assignment_id=a.id)[0].version
        sub.return_submission(uow.session, actor=office, at=at, assignment_id=a.id, expected_version=v, reason="缺台账")
        uow.commit()
    tick(dt.date(2020, 6, 29))
    with uow_factory() as uow:
        why = boards.department_why(uow.session, actor=actors["leader"], campaign_code=code, department_code="zjj")
        own = boards.department_why(uow.session, actor=dept, campaign_code=code, department_code="zjj")
    assert not why.empty
    assert (why.overdue["overdue_days"] > 0).all() and len(why.overdue)
    assert list(why.returns["reason"]) == ["缺台账"]
    assert list(why.returns["returned_on"]) == [dt.date(2020, 6, 2)]
    assert len(why.escalations) and set(why.escalations["name"]) <= {"预警", "通报批评", "约谈"}
    assert {"asked_until", "state_label"} <= set(why.extensions.columns)
    assert {"late_reason", "submitted_on"} <= set(why.late_reasons.columns)
    assert len(own.overdue) == len(why.overdue)  # a department reads its own reasons
