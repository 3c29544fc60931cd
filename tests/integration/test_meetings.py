"""会商 / 例会 (seed 002 二(二)2、二(三)3) over a real store, on SQLite and PostgreSQL: the office records a
meeting, turns a decision into tracked work for named departments with a due date, linked back to the
meeting; the work is reviewed and ticked like any task; only the office records and assigns (audited)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from services import meetings as mt
from services import submissions as sub
from services.campaigns import launch
from store.models import AuditEntry, MeetingDecision, TaskTemplate
from tests.conftest import run_tick

D = dt.date
AT = dt.datetime(2020, 6, 2, 2, tzinfo=dt.UTC)


def _record(s, actor, **kw):
    args = {
        "campaign_code": "yanjiang-2020",
        "kind": "会商",
        "title": "联席会议第一次会商",
        "held_on": D(2020, 6, 1),
        "attendees": ["区发改局", "区住建局", "区交运局"],
        "decisions": ["住建、交运两局6月19日前报送评标专家抽取情况", "下次例会研究代理机构清理"],
    }
    return mt.record_meeting(s, actor=actor, at=AT, **{**args, **kw})


def _assign(s, actor, code="HY-0001", seq=1, **kw):
    args = {"department_codes": ["zjj", "jyj"], "due_on": D(2020, 6, 19), "lead": "zjj"}
    return mt.assign_decision(
        s, actor=actor, at=AT, campaign_code="yanjiang-2020", meeting_code=code, seq=seq, **{**args, **kw}
    )


def test_a_decision_becomes_tracked_work_linked_to_its_meeting(engine, uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with uow_factory() as uow:
        meeting = _record(uow.session, actors["office"])
        uow.commit()
    assert (meeting.code, meeting.kind_label, len(meeting.decisions)) == ("HY-0001", "会商", 2)
    assert all(d.template_key is None for d in meeting.decisions)
    with uow_factory() as uow:
        assigned = _assign(uow.session, actors["office"])
        uow.commit()
    first = assigned.decisions[0]
    assert first.template_key == "meeting-1-1" and first.department_codes == ("jyj", "zjj")
    assert first.due_on == D(2020, 6, 19)
    with uow_factory() as uow:
        s = uow.session
        linked = s.scalar(
            select(TaskTemplate.key)
            .join(MeetingDecision, MeetingDecision.template_id == TaskTemplate.id)
            .where(MeetingDecision.seq == 1)
        )
        assert linked == "meeting-1-1"
        work = sub.list_assignments(s, actor=actors["dept_zjj"], campaign_code=code)
        mine = next(a for a in work if a.template_key == "meeting-1-1")
        assert mine.status == "open" and mine.is_lead and "HY-0001" in mine.title
        # a department reads the meetings that gave it work, with those decisions only
        seen = mt.list_meetings(s, actor=actors["dept_zjj"], campaign_code=code)
        assert [(m.code, [d.seq for d in m.decisions]) for m in seen] == [("HY-0001", [1])]
        assert mt.list_meetings(s, actor=actors["dept_swj"], campaign_code=code) == []
        assert [len(m.decisions) for m in mt.list_meetings(s, actor=actors["leader"], campaign_code=code)] == [2]
    # ticked like any task: overdue after its due date, a changed YAML leaves it alone
    run_tick(engine, code, D(2020, 6, 26))
    with uow_factory() as uow:
        late = sub.list_assignments(uow.session, actor=actors["office"], campaign_code=code, overdue_only=True)
        assert {a.department_code for a in late if a.template_key == "meeting-1-1"} == {"zjj", "jyj"}
        spec = launched_campaign.spec
        report = launch(
            uow.session, spec.model_copy(update={"issuer": spec.issuer + "。"}), actor=actors["office"], at=AT
        )
        uow.commit()
    assert report.assignments_removed == report.assignments_cancelled == 0


def test_only_the_office_records_and_assigns(uow_factory, launched_campaign, actors):
    for name in ("leader", "dept_zjj"):
        with pytest.raises(Forbidden), uow_factory() as uow:
            _record(uow.session, actors[name])
    with uow_factory() as uow:
        _record(uow.session, actors["office"])
        uow.commit()
    for name in ("leader", "dept_zjj"):
        with pytest.raises(Forbidden), uow_factory() as uow:
            _assign(uow.session, actors[name])
    with uow_factory() as uow:
        refused = list(
            uow.session.execute(
                select(AuditEntry.actor, AuditEntry.action)
                .where(AuditEntry.outcome == "refused")
                .order_by(AuditEntry.id)
            ).tuples()
        )
    assert refused == [
        ("leader", "meeting.record"),
        ("dept_zjj", "meeting.record"),
        ("leader", "meeting.assign"),
        ("dept_zjj", "meeting.assign"),
    ]


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"seq": 9}, NotFound, "没有第 9 项决定"),
        ({"code": "HY-0042"}, NotFound, "HY-0042"),
        ({"department_codes": ["nosuch"]}, NotFound, "nosuch"),
        ({"department_codes": []}, Invalid, "承办部门"),
        ({"due_on": D(2020, 5, 29)}, Invalid, "完成时限"),
        ({"lead": "swj"}, Invalid, "牵头部门"),
    ],
)
def test_a_wrong_assignment_is_refused_and_audited(uow_factory, launched_campaign, actors, change, error, words):
    with uow_factory() as uow:
        _record(uow.session, actors["office"])
        uow.commit()
    with pytest.raises(error, match=words), uow_factory() as uow:
        _assign(uow.session, actors["office"], **change)
    with uow_factory() as uow:
        assert uow.session.scalar(select(AuditEntry.action).where(AuditEntry.outcome == "refused")) == "meeting.assign"


def test_a_decision_is_assigned_once(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        _record(uow.session, actors["office"])
        _assign(uow.session, actors["office"])
        uow.commit()
    with pytest.raises(Conflict, match="已交办"), uow_factory() as uow:
        _assign(uow.session, actors["office"], department_codes=["swj"], lead=None)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"kind": "茶话会"}, "会议类型"),
        ({"held_on": D(2020, 6, 3)}, "请在会后记录"),
        ({"held_on": D(2020, 5, 1)}, "不在专项行动起止日期"),
        ({"attendees": []}, "参会人员"),
        ({"title": ""}, "会议名称"),
    ],
)
def test_a_wrong_meeting_is_refused(uow_factory, launched_campaign, actors, change, words):
    with pytest.raises(Invalid, match=words), uow_factory() as uow:
        _record(uow.session, actors["office"], **change)
