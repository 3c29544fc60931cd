"""批示 on each target the issue names (issue 13 item 6): a department's work, an assignment, a problem of
the 整改台账 and the department's monthly report. The target must be the addressed department's own
(another department's problem, a report period not yet begun or not a period at all are refused and
audited); the addressed department gets it — in its list, as a message, as a task when one is asked —
and reads what it is on; another department sees nothing of it. Also through `campaign instruct`."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from cli.main import main
from domain.errors import Invalid, NotFound
from services import instructions as ins
from services import problems as pb
from services import submissions as sub
from store.models import AuditEntry, Department, Instruction, Outbox
from tests.conftest import PASSWORD

AT = dt.datetime(2020, 7, 6, 2, tzinfo=dt.UTC)  # Monday 6 July, 10:00 in Beijing
CODE = "yanjiang-2020"


def _problem(uow_factory, actors, department: str) -> str:
    with uow_factory() as uow:
        p = pb.record_problem(
            uow.session,
            actor=actors["office"],
            at=AT,
            campaign_code=CODE,
            department_code=department,
            phase_key="self_check",
            category="规避招标",
            description="化整为零规避招标",
            handling_class="限时整改",
            deadline_on=dt.date(2020, 7, 31),
        )
        uow.commit()
    return p.code


def _instruct(uow_factory, actors, **kw):
    with uow_factory() as uow:
        done = ins.instruct(uow.session, actor=actors["leader"], at=AT, campaign_code=CODE, department_code="zjj", **kw)
        uow.commit()
    return done


def _messages(uow_factory, department: str) -> list[str]:
    """What the department was sent about 批示 (subject and body of each message)."""
    with uow_factory() as uow:
        rows = uow.session.execute(
            select(Outbox.subject, Outbox.body)
            .join(Department, Department.id == Outbox.department_id)
            .where(Department.code == department, Outbox.kind == "instruction")
        ).all()
    return [f"{subject or ''}\n{body or ''}" for subject, body in rows]


def _refused(uow_factory) -> int:
    with uow_factory() as uow:
        q = select(AuditEntry.id).where(AuditEntry.action == "instruction.write", AuditEntry.outcome == "refused")
        return len(uow.session.scalars(q).all())


def test_an_instruction_on_a_problem_reaches_the_department_whose_problem_it_is(uow_factory, launched_campaign, actors):
    code = _problem(uow_factory, actors, "zjj")
    task = _instruct(
        uow_factory, actors, problem_code=code, text="请举一反三，限期整改到位。", due_on=dt.date(2020, 7, 17)
    )
    note = _instruct(uow_factory, actors, problem_code=code, text="请阅知。")
    assert (task.subject, task.subject_text, task.kind) == ("problem", f"问题 {code}", "task")
    assert (note.subject, note.subject_text, note.kind) == ("problem", f"问题 {code}", "note")
    with uow_factory() as uow:
        s = uow.session
        mine = ins.list_instructions(s, actor=actors["dept_zjj"], campaign_code=CODE)
        assert {(i.id, i.subject_text) for i in mine} == {(task.id, f"问题 {code}"), (note.id, f"问题 {code}")}
        assert s.get(Instruction, task.id).problem_id is not None
        tasks = sub.list_assignments(s, actor=actors["dept_zjj"], campaign_code=CODE)
        assert task.task_assignment_id in {a.id for a in tasks}  # the department's new task
        assert not ins.list_instructions(s, actor=actors["dept_jyj"], campaign_code=CODE)
    sent = _messages(uow_factory, "zjj")
    assert len(sent) == 2 and all(f"问题 {code}" in m for m in sent)
    assert not _messages(uow_factory, "jyj")


def test_an_instruction_on_a_monthly_report_reaches_the_department(uow_factory, launched_campaign, actors):
    done = _instruct(uow_factory, actors, report_period="2020-06", text="月度报告数据不全，请补充核查项目情况。")
    assert (done.subject, done.subject_text, done.kind) == ("report", "2020-06 月度报告", "note")
    with uow_factory() as uow:
        [seen] = ins.list_instructions(uow.session, actor=actors["dept_zjj"], campaign_code=CODE)
        assert seen.id == done.id and seen.subject_text == "2020-06 月度报告"
        assert uow.session.get(Instruction, done.id).report_period == "2020-06"
    # the department answers the note; the leader sees the answer
    with uow_factory() as uow:
        ins.reply(uow.session, actor=actors["dept_zjj"], at=AT, instruction_id=done.id, text="已补充并重新报送。")
        uow.commit()
    with uow_factory() as uow:
        [read] = ins.list_instructions(uow.session, actor=actors["leader"], campaign_code=CODE)
    assert read.answer == "已补充并重新报送。"
    assert any("2020-06 月度报告" in m for m in _messages(uow_factory, "zjj"))


def test_a_target_not_the_departments_own_is_refused_and_audited(uow_factory, launched_campaign, actors):
    theirs = _problem(uow_factory, actors, "jyj")
    with pytest.raises(NotFound, match=theirs):
        _instruct(uow_factory, actors, problem_code=theirs, text="请整改")
    with pytest.raises(NotFound):
        _instruct(uow_factory, actors, problem_code="WT-9999", text="请整改")
    with pytest.raises(Invalid, match="格式不对"):
        _instruct(uow_factory, actors, report_period="2020-13", text="请补充")
    with pytest.raises(Invalid, match="尚未开始"):
        _instruct(uow_factory, actors, report_period="2020-09", text="请补充")  # not begun on 6 July
    with pytest.raises(Invalid, match="只能针对一个对象"):
        _instruct(
            uow_factory, actors, problem_code=_problem(uow_factory, actors, "zjj"), report_period="2020-06", text="x"
        )
    assert _refused(uow_factory) == 5
    with uow_factory() as uow:
        assert not uow.session.scalars(select(Instruction.id)).all()


@pytest.fixture
def cli(engine, users, monkeypatch, capsys):
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CAMPAIGN_PASSWORD", PASSWORD)
    monkeypatch.setenv("CAMPAIGN_AS_OF", "2020-07-06")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--as", "leader"])
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        return code, out.out, out.err

    return run


def test_campaign_instruct_on_a_problem_and_a_report(uow_factory, launched_campaign, actors, cli):
    code = _problem(uow_factory, actors, "zjj")
    base = ("instruct", "--campaign", CODE, "--department", "zjj", "--text", "请落实")
    status, out, _ = cli(*base, "--problem", code, "--due", "2020-07-17")
    assert status == 0 and "已交办" in out
    status, out, _ = cli(*base, "--report", "2020-06")
    assert status == 0 and "阅知" in out
    status, _, err = cli(*base, "--report", "2020-13")
    assert status == 2 and "格式不对" in err
    with uow_factory() as uow:
        subjects = sorted(
            ins.list_instructions(uow.session, actor=actors["dept_zjj"], campaign_code=CODE), key=lambda i: i.seq
        )
    assert [i.subject_text for i in subjects] == [f"问题 {code}", "2020-06 月度报告"]
