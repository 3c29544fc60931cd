"""Problem ledger: 销号 approve / reject / rebound, overdue, and the rollup counts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from domain.access import Forbidden
from services import problems as pb
from services.attachments import Upload
from domain.errors import Conflict, Invalid
from services.rollup_extras import add_work_counts
from services.ticking import write_rollup
from store.models import AuditEntry, Department, RollupSnapshot

UTC = dt.timezone.utc
AT = dt.datetime(2020, 6, 10, 2, tzinfo=UTC)


def _record(uow, actor, code, dept="zjj", deadline=dt.date(2020, 6, 30), **kw):
    return pb.record_problem(uow.session, actor=actor, at=AT, campaign_code=code, department_code=dept,
                             phase_key="self_check", category=kw.pop("category", "规避招标"),
                             description="化整为零规避招标", handling_class="限时整改", deadline_on=deadline,
                             project_code="YJ-2020-001", responsible_person="张三", measure="重新招标", **kw)


def test_close_out_reject_approve_rebound(uow_factory, launched_campaign, actors, attachment_dir):
    code, dept, office = launched_campaign.code, actors["dept_zjj"], actors["office"]
    with uow_factory() as uow:
        p = _record(uow, dept, code)
        uow.commit()
    assert p.code == "WT-0001" and p.status == "open"
    with uow_factory() as uow, pytest.raises(Invalid, match="佐证"):
        pb.request_close(uow.session, actor=dept, at=AT, problem_id=p.id, expected_version=p.version)
    with uow_factory() as uow, pytest.raises(Forbidden):
        pb.request_close(uow.session, actor=actors["dept_jyj"], at=AT, problem_id=p.id, expected_version=p.version,
                         evidence="冒名")
    with uow_factory() as uow:
        p = pb.request_close(uow.session, actor=dept, at=AT, problem_id=p.id, expected_version=p.version,
                             evidence="已重新招标",
                             attachments=[Upload("整改报告.pdf", "application/pdf", b"%PDF-1.4 ok")],
                             attachment_dir=attachment_dir)
        uow.commit()
    assert p.status == "closing"
    with uow_factory() as uow, pytest.raises(Forbidden):
        pb.approve_close(uow.session, actor=dept, at=AT, problem_id=p.id, expected_version=p.version)
    with uow_factory() as uow, pytest.raises(Invalid, match="原因"):
        pb.reject_close(uow.session, actor=office, at=AT, problem_id=p.id, expected_version=p.version, reason="")
    with uow_factory() as uow:
        p = pb.reject_close(uow.session, actor=office, at=AT, problem_id=p.id, expected_version=p.version,
                            reason="佐证不足")
        uow.commit()
    assert p.status == "open"
    with uow_factory() as uow:
        p = pb.request_close(uow.session, actor=dept, at=AT, problem_id=p.id, expected_version=p.version,
                             evidence="补充了合同")
        p = pb.approve_close(uow.session, actor=office, at=dt.datetime(2020, 6, 15, 20, tzinfo=UTC), problem_id=p.id,
                             expected_version=p.version)
        uow.commit()
    assert p.status == "closed" and p.closed_on == dt.date(2020, 6, 16)  # Beijing date
    with uow_factory() as uow, pytest.raises(Conflict):
        pb.reopen_rebound(uow.session, actor=office, at=AT, problem_id=p.id, expected_version=p.version - 1,
                          reason="回头看")
    with uow_factory() as uow:
        p = pb.reopen_rebound(uow.session, actor=office, at=dt.datetime(2020, 9, 1, tzinfo=UTC), problem_id=p.id,
                              expected_version=p.version, reason="回头看发现再次拆分标段")
        uow.commit()
        dto, events = pb.get_problem(uow.session, actor=actors["leader"], problem_id=p.id)
    assert dto.status == "open" and dto.rebound and dto.closed_on is None
    assert [e.action for e in events] == ["found", "request_close", "reject", "request_close", "approve", "rebound"]
    assert events[1].attachments[0].filename == "整改报告.pdf"
    with uow_factory() as uow:
        refused = uow.session.scalars(select(AuditEntry.action).where(AuditEntry.outcome == "refused")).all()
    assert sorted(refused) == ["problem.approve", "problem.rebound", "problem.reject", "problem.request_close",
                               "problem.request_close"]


def test_record_rules_and_visibility(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with uow_factory() as uow, pytest.raises(Forbidden):
        _record(uow, actors["dept_jyj"], code, dept="zjj")
    with uow_factory() as uow, pytest.raises(Forbidden):
        _record(uow, actors["leader"], code)
    with uow_factory() as uow, pytest.raises(Invalid, match="类别"):
        _record(uow, actors["office"], code, category="乱填")
    with uow_factory() as uow:
        _record(uow, actors["office"], code, dept="zjj")
        _record(uow, actors["office"], code, dept="jyj")
        uow.commit()
        assert {p.department_code for p in pb.list_problems(uow.session, actor=actors["dept_jyj"],
                                                            campaign_code=code)} == {"jyj"}
        assert len(pb.list_problems(uow.session, actor=actors["leader"], campaign_code=code)) == 2
        with pytest.raises(Forbidden):
            pb.list_problems(uow.session, actor=actors["dept_jyj"], campaign_code=code, department_code="zjj")


def test_rollup_counts_problems(engine, uow_factory, launched_campaign, actors):
    code, office = launched_campaign.code, actors["office"]
    with uow_factory() as uow:
        a = _record(uow, office, code, deadline=dt.date(2020, 6, 12))  # overdue on 6-20
        b = _record(uow, office, code, deadline=dt.date(2020, 6, 30))
        c = _record(uow, office, code, deadline=dt.date(2020, 6, 30))
        for p in (b, c):
            p = pb.request_close(uow.session, actor=actors["dept_zjj"], at=AT, problem_id=p.id,
                                 expected_version=p.version, evidence="ok")
            p = pb.approve_close(uow.session, actor=office, at=AT, problem_id=p.id, expected_version=p.version)
        pb.reopen_rebound(uow.session, actor=office, at=AT, problem_id=c.id, expected_version=p.version, reason="反弹")
        as_of = dt.date(2020, 6, 20)
        write_rollup(uow.session, code, as_of)
        add_work_counts(uow.session, code, as_of)
        uow.commit()
        zjj = uow.session.scalar(select(Department.id).where(Department.code == "zjj"))
        rows = {r.phase_key: r for r in uow.session.scalars(select(RollupSnapshot).where(
            RollupSnapshot.as_of == as_of, RollupSnapshot.department_id == zjj))}
        total = rows[""]
        assert (total.problems_open, total.problems_closed, total.problems_overdue,
                total.problems_rebound) == (2, 1, 1, 1)
        assert rows["self_check"].problems_open == 2 and rows["mobilize"].problems_open == 0
    assert a.code != b.code
