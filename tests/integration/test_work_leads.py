"""Leads and cases: intake, confidentiality, assignment with a working-day limit, outcome, figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.access import Forbidden
from domain.errors import Invalid
from domain.lead import LEAD_OUTCOME, LeadMeasure, LeadOutcome
from services import leads as ld
from services.rollup_extras import add_work_counts
from services.ticking import write_rollup
from store.models import AuditEntry, Department, RollupSnapshot

UTC = dt.UTC
AT = dt.datetime(2020, 7, 3, 2, tzinfo=UTC)


def _intake(uow, actor, code, **kw):
    kw.setdefault("reporter_name", "李四")
    kw.setdefault("reporter_phone", "13800000000")
    return ld.intake_lead(
        uow.session,
        actor=actor,
        at=AT,
        campaign_code=code,
        source=kw.pop("source", "举报"),
        received_on=dt.date(2020, 7, 2),
        category="围标串标",
        summary="投标文件雷同",
        **kw,
    )


def test_lead_lifecycle_and_figures(uow_factory, launched_campaign, actors):
    code, office, dept = launched_campaign.code, actors["office"], actors["dept_zjj"]
    with uow_factory() as uow:
        lead = _intake(uow, office, code)
        assert lead.reporter_name == "李四"
        lead = ld.assign_lead(
            uow.session,
            actor=office,
            at=AT,
            lead_id=lead.id,
            expected_version=lead.version,
            department_code="zjj",
            working_days=10,
        )
        uow.commit()
    assert lead.status == "assigned" and lead.due_on == dt.date(2020, 7, 17)
    with uow_factory() as uow:
        seen = ld.get_lead(uow.session, actor=dept, lead_id=lead.id)
        assert seen.reporter_name is None and seen.reporter_phone is None  # confidential
        assert ld.get_lead(uow.session, actor=actors["leader"], lead_id=lead.id).reporter_name is None
        with pytest.raises(Forbidden):
            ld.get_lead(uow.session, actor=actors["dept_jyj"], lead_id=lead.id)
    with pytest.raises(Invalid, match="罚款"), uow_factory() as uow:
        ld.report_outcome(
            uow.session,
            actor=dept,
            at=AT,
            lead_id=lead.id,
            expected_version=lead.version,
            outcome="查实",
            measures=["列入黑名单"],
            fine_wan="12.5",
        )
    with pytest.raises(Forbidden), uow_factory() as uow:
        ld.report_outcome(
            uow.session, actor=actors["dept_jyj"], at=AT, lead_id=lead.id, expected_version=lead.version, outcome="不实"
        )
    with uow_factory() as uow:
        lead = ld.report_outcome(
            uow.session,
            actor=dept,
            at=AT,
            lead_id=lead.id,
            expected_version=lead.version,
            outcome="查实",
            measures=["罚款", "列入黑名单", "移送公安机关"],
            fine_wan="12.5",
            enterprises_involved=3,
            people_dealt_with=2,
        )
        with pytest.raises(Forbidden):
            ld.close_lead(uow.session, actor=dept, at=AT, lead_id=lead.id, expected_version=lead.version)
        uow.commit()
    with uow_factory() as uow:
        lead = ld.close_lead(uow.session, actor=office, at=AT, lead_id=lead.id, expected_version=lead.version)
        other = _intake(uow, office, code, source="大数据预警", reporter_name=None, reporter_phone=None)
        other = ld.assign_lead(
            uow.session,
            actor=office,
            at=AT,
            lead_id=other.id,
            expected_version=other.version,
            department_code="zjj",
            working_days=5,
        )
        ld.close_lead(
            uow.session, actor=office, at=AT, lead_id=other.id, expected_version=other.version, outcome="不实"
        )
        late = _intake(uow, office, code, source="上级交办")
        ld.assign_lead(
            uow.session,
            actor=office,
            at=AT,
            lead_id=late.id,
            expected_version=late.version,
            department_code="zjj",
            working_days=2,
        )
        uow.commit()
    assert lead.status == "closed" and lead.measures == ["罚款", "列入黑名单", "移送公安机关"]
    with uow_factory() as uow:
        figures = ld.lead_figures(uow.session, actor=actors["leader"], campaign_code=code)
        assert figures == ld.LeadFigures(3, 2, 1, 3, 2, Decimal("12.50"))
        assert ld.lead_figures(uow.session, actor=actors["dept_jyj"], campaign_code=code).received == 0
        assert [x.code for x in ld.list_leads(uow.session, actor=actors["dept_jyj"], campaign_code=code)] == []
        as_of = dt.date(2020, 7, 10)
        write_rollup(uow.session, code, as_of)
        add_work_counts(uow.session, code, as_of)
        total = uow.session.scalar(
            select(RollupSnapshot)
            .join(Department, Department.id == RollupSnapshot.department_id)
            .where(Department.code == "zjj", RollupSnapshot.phase_key == "", RollupSnapshot.as_of == as_of)
        )
        assert (total.leads_open, total.leads_closed, total.leads_overdue) == (1, 2, 1)
        dumped = " ".join(e.after_json or "" for e in uow.session.scalars(select(AuditEntry)))
        assert "李四" not in dumped and "13800000000" not in dumped  # the audit trail keeps the secret too


def test_only_office_takes_in_and_assigns(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    for who in ("leader", "dept_zjj"):
        with pytest.raises(Forbidden), uow_factory() as uow:
            _intake(uow, actors[who], code)
    with pytest.raises(Invalid, match="来源"), uow_factory() as uow:
        _intake(uow, actors["office"], code, source="小道消息")


def test_a_lead_found_partly_true_closes_with_measures_and_counts_as_substantiated(
    uow_factory, launched_campaign, actors
):
    """部分属实 (issue 14 item 5): reported with measures like 查实, closed as reported, counted as 查实 in the figures,
    read 部分属实 in a report's table; the audit keeps the outcome."""
    code, office, dept = launched_campaign.code, actors["office"], actors["dept_zjj"]
    with uow_factory() as uow:
        lead = _intake(uow, office, code)
        lead = ld.assign_lead(
            uow.session,
            actor=office,
            at=AT,
            lead_id=lead.id,
            expected_version=lead.version,
            department_code="zjj",
            working_days=10,
        )
        uow.commit()
    with pytest.raises(Invalid, match="部分属实"), uow_factory() as uow:  # the message lists every outcome
        ld.report_outcome(
            uow.session, actor=dept, at=AT, lead_id=lead.id, expected_version=lead.version, outcome="半真半假"
        )
    with uow_factory() as uow:
        lead = ld.report_outcome(
            uow.session,
            actor=dept,
            at=AT,
            lead_id=lead.id,
            expected_version=lead.version,
            outcome=LeadOutcome.partly.value,
            measures=[LeadMeasure.fine.value],
            fine_wan="3",
            enterprises_involved=1,
            people_dealt_with=1,
        )
        uow.commit()
    with uow_factory() as uow:
        lead = ld.close_lead(uow.session, actor=office, at=AT, lead_id=lead.id, expected_version=lead.version)
        uow.commit()
    assert (lead.status, lead.outcome, lead.measures) == ("closed", "部分属实", ["罚款"])
    assert LEAD_OUTCOME.label(lead.outcome) == "部分属实"
    with uow_factory() as uow:
        figures = ld.lead_figures(uow.session, actor=actors["leader"], campaign_code=code)
        assert figures == ld.LeadFigures(1, 1, 1, 1, 1, Decimal("3.00"))
        closes = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.report")).all()
        assert any("部分属实" in (e.after_json or "") for e in closes)
