"""自选事项 (seed 003 三) over a real store, on SQLite and PostgreSQL: a department adds its own item to a phase
whose YAML allows it, the office reviews it like any task, it counts in progress, and it never replaces or
cancels a mandatory item (refused with the document's words, audited). The office may add for a department;
other departments and leaders may not."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from domain.errors import Conflict, Forbidden, Invalid
from services import optional_items as oi
from services import submissions as sub
from services.campaigns import launch
from services.views import boards
from store.models import Assignment, AuditEntry

D = dt.date
AT = dt.datetime(2020, 6, 2, 2, tzinfo=dt.UTC)  # 10:00 Beijing, the self-check phase (2020-06-01..30) is open


def _refusals(uow_factory, action: str) -> list[tuple[str, str]]:
    with uow_factory() as uow:
        return [
            (r.actor, r.after_json or "")
            for r in uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action, AuditEntry.outcome == "refused")
            )
        ]


def _add(s, actor, department="zjj", **kw):
    args = {
        "campaign_code": "yanjiang-2020",
        "department_code": department,
        "phase_key": "self_check",
        "title": "本系统2018年度项目延伸自查",
        "deliverable": "报告",
        "due_on": D(2020, 6, 24),
    }
    return oi.add_item(s, actor=actor, at=AT, **{**args, **kw})


def test_a_department_adds_an_item_the_office_reviews_and_it_counts(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with uow_factory() as uow:
        item = _add(uow.session, actors["dept_zjj"])
        uow.commit()
    assert item.key.startswith("optional-") and item.status == "open" and item.department_code == "zjj"
    assert (item.phase_key, item.deliverable, item.due_on) == ("self_check", "report", D(2020, 6, 24))
    with uow_factory() as uow:
        s = uow.session
        mine = sub.list_assignments(s, actor=actors["dept_zjj"], campaign_code=code)
        assert item.assignment_id in {a.id for a in mine}
        handed = sub.submit(s, actor=actors["dept_zjj"], at=AT, assignment_id=item.assignment_id, text="延伸自查报告")
        assert handed.state == "pending"  # waiting for the office
        queue = sub.review_queue(s, actor=actors["office"], campaign_code=code, at=AT)
        assert item.assignment_id in {q.id for q in queue}  # reviewed by the office like any task
        row = sub.get_assignment(s, actor=actors["office"], assignment_id=item.assignment_id)[0]
        sub.accept(s, actor=actors["office"], at=AT, assignment_id=row.id, expected_version=row.version)
        uow.commit()
    with uow_factory() as uow:
        s = uow.session
        board = boards.department_assignments(s, actor=actors["dept_zjj"], campaign_code=code, department_code="zjj")
        assert "本系统2018年度项目延伸自查" in set(board["task"])
        assert [i.status for i in oi.list_items(s, actor=actors["leader"], campaign_code=code)] == ["accepted"]
        assert oi.list_items(s, actor=actors["dept_jyj"], campaign_code=code) == []  # its own only
        logged = s.scalar(select(AuditEntry).where(AuditEntry.action == "optional_item.add"))
        assert logged is not None and logged.actor == "dept_zjj" and logged.outcome == "ok"


def test_the_office_adds_for_a_department_others_may_not(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        item = _add(uow.session, actors["office"], department="jyzx", title="交易平台数据比对")
        uow.commit()
    assert item.department_code == "jyzx"
    for name in ("leader", "dept_jyj", "dept_jyzx"):
        with pytest.raises(Forbidden), uow_factory() as uow:
            _add(uow.session, actors[name], department="zjj")
    assert [a for a, _ in _refusals(uow_factory, "optional_item.add")] == ["leader", "dept_jyj", "dept_jyzx"]


def test_an_item_never_replaces_or_cancels_a_mandatory_one(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with pytest.raises(Conflict, match="不允许以自选事项清理整改取代本方案规定的事项整改"), uow_factory() as uow:
        _add(uow.session, actors["dept_zjj"], replaces="self_check_report")
    with pytest.raises(Conflict, match="方案规定的事项"), uow_factory() as uow:
        oi.withdraw_item(
            uow.session, actor=actors["dept_zjj"], at=AT, campaign_code=code, template_key="self_check_report"
        )
    with pytest.raises(Conflict, match="方案规定的事项"), uow_factory() as uow:
        oi.withdraw_item(
            uow.session, actor=actors["office"], at=AT, campaign_code=code, template_key="self_check_report"
        )
    assert len(_refusals(uow_factory, "optional_item.add")) == 1
    assert len(_refusals(uow_factory, "optional_item.withdraw")) == 2
    with uow_factory() as uow:
        s = uow.session
        mandatory = sub.list_assignments(s, actor=actors["dept_zjj"], campaign_code=code)
        assert all(a.status != "cancelled" for a in mandatory if a.template_key == "self_check_report")
        item = _add(s, actors["dept_zjj"])
        uow.commit()
    with pytest.raises(Forbidden), uow_factory() as uow:  # another department's item
        oi.withdraw_item(uow.session, actor=actors["dept_jyj"], at=AT, campaign_code=code, template_key=item.key)
    with uow_factory() as uow:
        withdrawn = oi.withdraw_item(
            uow.session, actor=actors["dept_zjj"], at=AT, campaign_code=code, template_key=item.key
        )
        uow.commit()
    assert withdrawn.status == "cancelled"


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"phase_key": "verify"}, "不允许添加自选事项"),
        ({"due_on": D(2020, 7, 3)}, "须在本阶段"),
        ({"department_code": "gafj"}, "不在阶段"),
        ({"deliverable": "视频"}, "报送形式"),
        ({"title": "   "}, "不能为空"),
    ],
)
def test_an_item_outside_what_the_phase_allows_is_refused(uow_factory, launched_campaign, actors, change, refusal):
    with pytest.raises(Invalid, match=refusal), uow_factory() as uow:
        _add(uow.session, actors["office"], **change)
    assert len(_refusals(uow_factory, "optional_item.add")) == 1


def test_a_department_adds_no_more_than_the_yaml_allows(uow_factory, launched_campaign, actors):
    most = launched_campaign.spec.phase("self_check").optional_items.max_per_department
    with uow_factory() as uow:
        for i in range(most):
            _add(uow.session, actors["dept_zjj"], title=f"自选事项{i}")
        uow.commit()
    with pytest.raises(Invalid, match=f"最多添加 {most} 项"), uow_factory() as uow:
        _add(uow.session, actors["dept_zjj"], title="再加一项")


def test_a_changed_yaml_leaves_added_items_alone(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        item = _add(uow.session, actors["dept_zjj"])
        uow.commit()
    spec = launched_campaign.spec
    changed = spec.model_copy(update={"title": spec.title + "（修订）"})
    with uow_factory() as uow:
        report = launch(uow.session, changed, actor=actors["office"], at=AT)
        uow.commit()
    assert not report.unchanged and report.assignments_removed == report.assignments_cancelled == 0
    with uow_factory() as uow:
        status = uow.session.scalar(select(Assignment.status).where(Assignment.id == item.assignment_id))
    assert status == "open"
