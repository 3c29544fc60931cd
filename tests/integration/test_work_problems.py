"""Problem ledger: 销号 approve / reject / rebound, overdue, and the rollup counts."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select, update

from domain.access import Forbidden
from domain.errors import Conflict, Invalid, RowsRejected
from domain.problem import PROBLEM_CATEGORY, ProblemCategory
from services import imports
from services import leads as ld
from services import problems as pb
from services.attachments import Upload
from services.rollup_extras import add_work_counts
from services.ticking import write_rollup
from store.models import AuditEntry, Department, Lead, Problem, RollupSnapshot

UTC = dt.UTC
AT = dt.datetime(2020, 6, 10, 2, tzinfo=UTC)


def _record(uow, actor, code, dept="zjj", deadline=dt.date(2020, 6, 30), **kw):
    return pb.record_problem(
        uow.session,
        actor=actor,
        at=AT,
        campaign_code=code,
        department_code=dept,
        phase_key="self_check",
        category=kw.pop("category", "规避招标"),
        description="化整为零规避招标",
        handling_class="限时整改",
        deadline_on=deadline,
        project_code="YJ-2020-001",
        responsible_person="张三",
        measure="重新招标",
        **kw,
    )


def test_close_out_reject_approve_rebound(uow_factory, launched_campaign, actors, attachment_dir):
    code, dept, office = launched_campaign.code, actors["dept_zjj"], actors["office"]
    with uow_factory() as uow:
        p = _record(uow, dept, code)
        uow.commit()
    assert p.code == "WT-0001" and p.status == "open"
    with pytest.raises(Invalid, match="佐证"), uow_factory() as uow:
        pb.request_close(uow.session, actor=dept, at=AT, problem_id=p.id, expected_version=p.version)
    with pytest.raises(Forbidden), uow_factory() as uow:
        pb.request_close(
            uow.session, actor=actors["dept_jyj"], at=AT, problem_id=p.id, expected_version=p.version, evidence="冒名"
        )
    with uow_factory() as uow:
        p = pb.request_close(
            uow.session,
            actor=dept,
            at=AT,
            problem_id=p.id,
            expected_version=p.version,
            evidence="已重新招标",
            attachments=[Upload("整改报告.pdf", "application/pdf", b"%PDF-1.4 ok")],
            attachment_dir=attachment_dir,
        )
        uow.commit()
    assert p.status == "closing"
    with pytest.raises(Forbidden), uow_factory() as uow:
        pb.approve_close(uow.session, actor=dept, at=AT, problem_id=p.id, expected_version=p.version)
    with pytest.raises(Invalid, match="原因"), uow_factory() as uow:
        pb.reject_close(uow.session, actor=office, at=AT, problem_id=p.id, expected_version=p.version, reason="")
    with uow_factory() as uow:
        p = pb.reject_close(
            uow.session, actor=office, at=AT, problem_id=p.id, expected_version=p.version, reason="佐证不足"
        )
        uow.commit()
    assert p.status == "open"
    with uow_factory() as uow:
        p = pb.request_close(
            uow.session, actor=dept, at=AT, problem_id=p.id, expected_version=p.version, evidence="补充了合同"
        )
        p = pb.approve_close(
            uow.session,
            actor=office,
            at=dt.datetime(2020, 6, 15, 20, tzinfo=UTC),
            problem_id=p.id,
            expected_version=p.version,
        )
        uow.commit()
    assert p.status == "closed" and p.closed_on == dt.date(2020, 6, 16)  # Beijing date
    with pytest.raises(Conflict), uow_factory() as uow:
        pb.reopen_rebound(
            uow.session, actor=office, at=AT, problem_id=p.id, expected_version=p.version - 1, reason="回头看"
        )
    with uow_factory() as uow:
        p = pb.reopen_rebound(
            uow.session,
            actor=office,
            at=dt.datetime(2020, 9, 1, tzinfo=UTC),
            problem_id=p.id,
            expected_version=p.version,
            reason="回头看发现再次拆分标段",
        )
        uow.commit()
        dto, events = pb.get_problem(uow.session, actor=actors["leader"], problem_id=p.id)
    assert dto.status == "open" and dto.rebound and dto.closed_on is None
    assert [e.action for e in events] == ["found", "request_close", "reject", "request_close", "approve", "rebound"]
    assert events[1].attachments[0].filename == "整改报告.pdf"
    with uow_factory() as uow:
        refused = uow.session.scalars(select(AuditEntry.action).where(AuditEntry.outcome == "refused")).all()
    assert sorted(refused) == [
        "problem.approve",
        "problem.rebound",
        "problem.reject",
        "problem.request_close",
        "problem.request_close",
    ]


def test_record_rules_and_visibility(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with pytest.raises(Forbidden), uow_factory() as uow:
        _record(uow, actors["dept_jyj"], code, dept="zjj")
    with pytest.raises(Forbidden), uow_factory() as uow:
        _record(uow, actors["leader"], code)
    with pytest.raises(Invalid, match="类别"), uow_factory() as uow:
        _record(uow, actors["office"], code, category="乱填")
    with uow_factory() as uow:
        _record(uow, actors["office"], code, dept="zjj")
        _record(uow, actors["office"], code, dept="jyj")
        uow.commit()
        assert {
            p.department_code for p in pb.list_problems(uow.session, actor=actors["dept_jyj"], campaign_code=code)
        } == {"jyj"}
        assert len(pb.list_problems(uow.session, actor=actors["leader"], campaign_code=code)) == 2
        with pytest.raises(Forbidden):
            pb.list_problems(uow.session, actor=actors["dept_jyj"], campaign_code=code, department_code="zjj")


def test_rollup_counts_problems(engine, uow_factory, launched_campaign, actors):
    code, office = launched_campaign.code, actors["office"]
    with uow_factory() as uow:
        a = _record(uow, office, code, deadline=dt.date(2020, 6, 12))  # overdue on 6-20
        b = _record(uow, office, code, deadline=dt.date(2020, 6, 30))
        c = _record(uow, office, code, deadline=dt.date(2020, 6, 30))
        for opened in (b, c):
            closing = pb.request_close(
                uow.session,
                actor=actors["dept_zjj"],
                at=AT,
                problem_id=opened.id,
                expected_version=opened.version,
                evidence="ok",
            )
            closed = pb.approve_close(
                uow.session, actor=office, at=AT, problem_id=closing.id, expected_version=closing.version
            )
        pb.reopen_rebound(
            uow.session, actor=office, at=AT, problem_id=c.id, expected_version=closed.version, reason="反弹"
        )
        as_of = dt.date(2020, 6, 20)
        write_rollup(uow.session, code, as_of)
        add_work_counts(uow.session, code, as_of)
        uow.commit()
        zjj = uow.session.scalar(select(Department.id).where(Department.code == "zjj"))
        rows = {
            r.phase_key: r
            for r in uow.session.scalars(
                select(RollupSnapshot).where(RollupSnapshot.as_of == as_of, RollupSnapshot.department_id == zjj)
            )
        }
        total = rows[""]
        assert (total.problems_open, total.problems_closed, total.problems_overdue, total.problems_rebound) == (
            2,
            1,
            1,
            1,
        )
        assert rows["self_check"].problems_open == 2 and rows["mobilize"].problems_open == 0
    assert a.code != b.code


def _migration(name: str):
    path = Path(__file__).resolve().parents[2] / "store" / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0006_splits_the_retired_combined_category(engine, uow_factory, launched_campaign, actors):
    """Rows stored as 转包/违法分包 (written before the category was split) become 违法分包; others are untouched."""
    code, office = launched_campaign.code, actors["office"]
    with uow_factory() as uow:
        old = _record(uow, office, code, category="违法分包")
        kept = _record(uow, office, code, category="转包")
        lead = ld.intake_lead(
            uow.session,
            actor=office,
            at=AT,
            campaign_code=code,
            source="举报",
            received_on=dt.date(2020, 6, 9),
            category="规避招标",
            summary="拆分标段",
        )
        uow.commit()
    with engine.begin() as conn:  # what the service stored before the split
        conn.execute(update(Problem).where(Problem.id == old.id).values(category="转包/违法分包"))
        conn.execute(update(Lead).where(Lead.id == lead.id).values(category="转包/违法分包"))
    migration = _migration("0006_split_subcontract_category.py")
    assert (migration.revision, migration.down_revision) == ("0006", "0005")
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        migration.upgrade()
    with uow_factory() as uow:
        categories = dict(uow.session.execute(select(Problem.id, Problem.category)).all())
        assert categories == {old.id: "违法分包", kept.id: "转包"}
        assert uow.session.scalar(select(Lead.category).where(Lead.id == lead.id)) == "违法分包"
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        migration.downgrade()  # a no-op: 违法分包 is valid at every revision
    with uow_factory() as uow:
        assert uow.session.scalar(select(Problem.category).where(Problem.id == old.id)) == "违法分包"


def test_a_category_the_service_accepts_is_one_the_import_accepts(uow_factory, launched_campaign, actors):
    """Both ways: every word the problem service takes, a lead import takes (and stores the same), and back."""
    code, office = launched_campaign.code, actors["office"]
    words = [w for m in ProblemCategory for w in (m.value, PROBLEM_CATEGORY.label(m))] + ["串通投标", "转包/违法分包"]
    header = "线索编号,来源,收到日期,承办部门代码,问题类别,内容摘要\n"
    with uow_factory() as uow:
        stored_by_service = [_record(uow, office, code, category=w).category for w in words]
        body = "".join(f"XS-{i:03d},举报,2020-06-01,zjj,{w},某事\n" for i, w in enumerate(words, 1))
        imports.import_file(
            uow.session,
            actor=office,
            at=AT,
            campaign_code=code,
            kind="leads",
            data=(header + body).encode(),
            filename="leads.csv",
        )
        stored_by_import = [x.category for x in ld.list_leads(uow.session, actor=office, campaign_code=code)]
        uow.commit()
    assert stored_by_import == stored_by_service
    assert set(stored_by_service) <= {m.value for m in ProblemCategory}
    for word in ("乱填", "转包和违法分包以外"):
        with pytest.raises(Invalid, match="类别"), uow_factory() as uow:
            _record(uow, office, code, category=word)
        with pytest.raises(RowsRejected, match="问题类别"), uow_factory() as uow:
            imports.import_file(
                uow.session,
                actor=office,
                at=AT,
                campaign_code=code,
                kind="leads",
                data=(header + f"XS-900,举报,2020-06-01,zjj,{word},某事\n").encode(),
                filename="leads.csv",
            )
