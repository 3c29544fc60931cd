"""批示: a leader's (or the office's) instruction becomes a tracked task of the department or a note it
replies to; the leader sees the answer; wrong roles are refused and audited; a changed YAML leaves the
批示's task alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from domain.access import Forbidden
from domain.errors import Invalid, NotFound
from services import instructions as ins
from services import submissions as sub
from services.campaigns import launch
from services.holidays import campaign_calendar
from store.models import Assignment, AuditEntry, TaskTemplate

AT = dt.datetime(2020, 7, 6, 2, tzinfo=dt.UTC)  # Monday 6 July, 10:00 in Beijing
CODE = "yanjiang-2020"


def _refusals(uow_factory, action: str) -> list[str]:
    with uow_factory() as uow:
        q = select(AuditEntry.actor).where(AuditEntry.action == action, AuditEntry.outcome == "refused")
        return list(uow.session.scalars(q))


def test_a_task_instruction_reaches_the_department_and_the_leader_sees_its_answer(
    uow_factory, launched_campaign, actors
):
    with uow_factory() as uow:
        done = ins.instruct(
            uow.session,
            actor=actors["leader"],
            at=AT,
            campaign_code=CODE,
            department_code="zjj",
            text="请对逾期任务逐项整改，按期报送结果。",
            due_on=dt.date(2020, 7, 17),
        )
        uow.commit()
    assert done.kind == "task" and done.task_assignment_id is not None and done.due_on == dt.date(2020, 7, 17)
    with uow_factory() as uow:
        mine = sub.list_assignments(uow.session, actor=actors["dept_zjj"], campaign_code=CODE)
        task = next(a for a in mine if a.id == done.task_assignment_id)
        row = uow.session.get(Assignment, task.id)
        assert row is not None and row.source == "instruction"
        assert (
            task.template_key == "leader_instruction" and task.status == "open" and task.due_on == dt.date(2020, 7, 17)
        )
        sub.submit(
            uow.session,
            actor=actors["dept_zjj"],
            at=AT + dt.timedelta(days=2),
            assignment_id=task.id,
            text="已逐项整改完毕",
        )
        uow.commit()
    with uow_factory() as uow:
        seen = ins.list_instructions(uow.session, actor=actors["leader"], campaign_code=CODE)
    assert [(i.id, i.answer, i.task_status) for i in seen] == [(done.id, "已逐项整改完毕", "submitted")]
    assert seen[0].state_label == "待审核"


def test_a_note_is_replied_to_and_action_without_a_date_takes_the_yaml_default(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        note = ins.instruct(
            uow.session, actor=actors["office"], at=AT, campaign_code=CODE, department_code="jyj", text="请阅知"
        )
        task = ins.instruct(
            uow.session,
            actor=actors["leader"],
            at=AT,
            campaign_code=CODE,
            department_code="jyj",
            text="请办理",
            action=True,
        )
        uow.commit()
    default = launched_campaign.spec.instructions.default_due_working_days
    assert note.kind == "note" and note.task_assignment_id is None and note.state_label == "待办理"
    assert task.due_on == campaign_calendar(launched_campaign.spec).add_workdays(dt.date(2020, 7, 6), default)
    with pytest.raises(Forbidden), uow_factory() as uow:
        ins.reply(uow.session, actor=actors["dept_zjj"], at=AT, instruction_id=note.id, text="不是我的")
    with pytest.raises(Invalid, match="交办为任务"), uow_factory() as uow:
        ins.reply(uow.session, actor=actors["dept_jyj"], at=AT, instruction_id=task.id, text="回复")
    with uow_factory() as uow:
        replied = ins.reply(uow.session, actor=actors["dept_jyj"], at=AT, instruction_id=note.id, text="已传达学习")
        uow.commit()
    assert replied.state == "answered" and replied.answer == "已传达学习"
    with pytest.raises(Invalid, match="已回复"), uow_factory() as uow:
        ins.reply(uow.session, actor=actors["dept_jyj"], at=AT, instruction_id=note.id, text="再回复")
    assert _refusals(uow_factory, "instruction.reply") == ["dept_zjj", "dept_jyj", "dept_jyj"]


def test_wrong_roles_and_bad_input_are_refused_and_audited(uow_factory, launched_campaign, actors):
    def write(who, **kw):
        args = {"campaign_code": CODE, "department_code": "zjj", "text": "请办理"} | kw
        with uow_factory() as uow:
            return ins.instruct(uow.session, actor=actors[who], at=AT, **args)

    for who in ("dept_zjj", "dept_jyj"):
        with pytest.raises(Forbidden):
            write(who)
    with pytest.raises(NotFound):
        write("leader", department_code="nosuch")
    with pytest.raises(Invalid, match="早于今天"):
        write("leader", due_on=dt.date(2020, 7, 1))
    with pytest.raises(Invalid, match="批示内容"):
        write("leader", text="   ")
    with uow_factory() as uow:
        other = sub.list_assignments(uow.session, actor=actors["office"], campaign_code=CODE, department_code="jyj")[0]
    with pytest.raises(NotFound):
        write("leader", assignment_id=other.id)
    assert _refusals(uow_factory, "instruction.write") == [
        "dept_zjj",
        "dept_jyj",
        "leader",
        "leader",
        "leader",
        "leader",
    ]
    with pytest.raises(Forbidden), uow_factory() as uow:
        ins.list_instructions(uow.session, actor=actors["dept_zjj"], campaign_code=CODE, department_code="jyj")


def test_an_instruction_on_an_assignment_names_it(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        target = sub.list_assignments(uow.session, actor=actors["office"], campaign_code=CODE, department_code="zjj")[0]
        done = ins.instruct(
            uow.session,
            actor=actors["leader"],
            at=AT,
            campaign_code=CODE,
            department_code="zjj",
            text="抓紧",
            assignment_id=target.id,
        )
        uow.commit()
    assert done.subject == "assignment" and done.subject_text == f"任务 {target.id}"


def test_a_changed_yaml_leaves_the_instruction_task_alone(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        done = ins.instruct(
            uow.session,
            actor=actors["leader"],
            at=AT,
            campaign_code=CODE,
            department_code="zjj",
            text="办理",
            due_on=dt.date(2020, 7, 20),
        )
        uow.commit()
    changed = launched_campaign.spec.model_copy(update={"title": launched_campaign.spec.title + "（修订）"})
    with uow_factory() as uow:
        launch(uow.session, changed, actor=actors["office"], at=AT)
        uow.commit()
    with uow_factory() as uow:
        row = uow.session.get(Assignment, done.task_assignment_id)
        assert row is not None and row.status == "open" and row.due_on == dt.date(2020, 7, 20)
        assert uow.session.scalar(select(func.count()).where(TaskTemplate.key == "leader_instruction")) == 1
