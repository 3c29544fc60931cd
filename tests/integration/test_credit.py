"""Credit (量化记分) and blacklist on SQLite and PostgreSQL (issue 14 item 6): 预警 leads found 查实 give points to
the bidders, the agent and the experts behind them, a 列入黑名单 measure blacklists, points expire, every change is
audited with the records behind it, the blacklist exports as .xlsx, and a watched bidder raises its projects' risk."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from domain.credit import Standing
from domain.errors import Forbidden
from domain.lead import LeadMeasure, LeadOutcome, LeadSource
from services.credit import blacklist_xlsx, list_credit, refresh_credit
from services.leads import close_lead, list_leads
from services.risk.screening import CREDIT_RULE, list_flags, scan_campaign
from store.models import AuditEntry, EvaluationExpert, RiskAlert
from store.uow import UnitOfWork
from tests.integration.test_risk_flow import SCAN_AT, risky  # noqa: F401 - the planted campaign fixture

CODE = "yanjiang-2020"
CLOSE_AT = SCAN_AT + dt.timedelta(days=3)


def _close_some_leads(engine, office, measures_for_first=(LeadMeasure.blacklist.value,)):
    """Close two 预警 leads 查实 (the first with `measures_for_first`) and one 不实; returns their codes."""
    with UnitOfWork(engine) as uow:
        leads = [
            lead
            for lead in list_leads(uow.session, actor=office, campaign_code=CODE)
            if lead.source == LeadSource.big_data.value
        ]
        assert len(leads) >= 3
        picked = leads[:3]
        for i, lead in enumerate(picked):
            close_lead(
                uow.session,
                actor=office,
                at=CLOSE_AT,
                lead_id=lead.id,
                expected_version=lead.version,
                outcome=LeadOutcome.unfounded.value if i == 2 else LeadOutcome.confirmed.value,
                measures=list(measures_for_first) if i == 0 else [],
                enterprises_involved=1 if i < 2 else 0,
            )
        uow.commit()
    return [lead.code for lead in picked]


def test_confirmed_leads_give_points_blacklist_and_explain_themselves(engine, risky, actors):  # noqa: F811
    office = actors["office"]
    with UnitOfWork(engine) as uow:
        scan_campaign(uow.session, actor=office, at=SCAN_AT, campaign_code=CODE)
        uow.commit()
    codes = _close_some_leads(engine, office)
    with UnitOfWork(engine) as uow:
        first = refresh_credit(uow.session, actor=office, at=CLOSE_AT, campaign_code=CODE)
        uow.commit()
    assert first.new_events > 0 and first.changes
    with UnitOfWork(engine) as uow:
        again = refresh_credit(uow.session, actor=office, at=CLOSE_AT, campaign_code=CODE)
        uow.commit()
    assert again.new_events == 0 and again.changes == ()  # idempotent
    with UnitOfWork(engine) as uow:
        s = uow.session
        entries = list_credit(s, actor=actors["leader"], campaign_code=CODE)
        blacklisted = list_credit(s, actor=actors["dept_zjj"], campaign_code=CODE, blacklist_only=True)
        assert blacklisted and all(e.standing == Standing.blacklist for e in blacklisted)
        assert all(any(r.source == codes[0] for r in e.records) for e in blacklisted)
        assert not any(any(r.source == codes[2] for r in e.records) for e in entries)  # 不实 gives nothing
        watched = [e for e in entries if e.standing == Standing.watch]
        assert watched and all(e.points >= 10 for e in watched)
        experts = [e for e in entries if e.kind == "expert"]
        assert all(e.rating in ("A", "B", "C", "D") for e in experts)
        book = openpyxl.load_workbook(io.BytesIO(blacklist_xlsx(s, actor=office, campaign_code=CODE)))
        assert book.sheetnames == ["黑名单（联合惩戒）", "记分记录"]
        assert book.worksheets[0].max_row == len(blacklisted) + 1
        assert codes[0] in {row[4] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
        standing = s.scalars(select(AuditEntry).where(AuditEntry.action == "credit.standing")).all()
        assert standing and all(json.loads(a.after_json)["records"] for a in standing)
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "credit.event")).first() is not None
    with UnitOfWork(engine) as uow, pytest.raises(Forbidden):
        refresh_credit(uow.session, actor=actors["dept_zjj"], at=CLOSE_AT, campaign_code=CODE)
    # two years on, the points have expired: back to normal, audited
    later = CLOSE_AT + dt.timedelta(days=731)
    with UnitOfWork(engine) as uow:
        expired = refresh_credit(uow.session, actor=office, at=later, campaign_code=CODE)
        uow.commit()
    assert expired.changes
    with UnitOfWork(engine) as uow:
        assert list_credit(uow.session, actor=office, campaign_code=CODE, blacklist_only=True) == []


def test_experts_of_confirmed_projects_are_rated_and_c_d_listed_for_suspension(engine, risky, actors):  # noqa: F811
    office = actors["office"]
    data = risky.model_dump(mode="json")
    data["risk"] = {"credit": {"expert_points": 10, "expert_rating_c": 10, "expert_rating_d": 20}}
    from domain.spec import CampaignSpec
    from services.campaigns import launch

    with UnitOfWork(engine) as uow:
        launch(uow.session, CampaignSpec.model_validate(data), actor=office, at=SCAN_AT, source_path=None)
        scan_campaign(uow.session, actor=office, at=SCAN_AT, campaign_code=CODE)
        uow.commit()
    with UnitOfWork(engine) as uow:  # every alerted project had 专家甲 on its committee
        alerted = uow.session.scalars(select(RiskAlert.project_id).order_by(RiskAlert.id)).all()
        uow.session.add_all([EvaluationExpert(project_id=p, expert="专家甲") for p in alerted])
        uow.commit()
    _close_some_leads(engine, office, measures_for_first=())
    with UnitOfWork(engine) as uow:
        refresh_credit(uow.session, actor=office, at=CLOSE_AT, campaign_code=CODE)
        uow.commit()
    with UnitOfWork(engine) as uow:
        experts = {e.code: e for e in list_credit(uow.session, actor=office, campaign_code=CODE) if e.kind == "expert"}
    assert experts["专家甲"].points == 20 and experts["专家甲"].rating == "D" and experts["专家甲"].suspended
    assert set(experts) == {"专家甲"}  # experts of no confirmed project get no entry


def test_a_watched_bidder_raises_the_risk_of_its_projects(engine, risky, actors):  # noqa: F811
    office = actors["office"]
    with UnitOfWork(engine) as uow:
        scan_campaign(uow.session, actor=office, at=SCAN_AT, campaign_code=CODE)
        uow.commit()
    _close_some_leads(engine, office, measures_for_first=())
    later = CLOSE_AT + dt.timedelta(hours=1)
    with UnitOfWork(engine) as uow:
        report = scan_campaign(uow.session, actor=office, at=later, campaign_code=CODE)  # refreshes credit first
        uow.commit()
    assert any(s.rule_id == CREDIT_RULE and s.flags for s in report.summary)
    with UnitOfWork(engine) as uow:
        flagged = list_flags(uow.session, actor=office, campaign_code=CODE)
        assert any(CREDIT_RULE in f.rules for f in flagged)
        # still one 预警 per project
        alerts = uow.session.scalars(select(RiskAlert.project_id)).all()
        assert len(alerts) == len(set(alerts))


def test_hit_rates_per_rule_reach_the_board_and_the_monthly_report(engine, risky, actors):  # noqa: F811
    from services.reports import report_data
    from services.risk.screening import hit_rates

    office = actors["office"]
    with UnitOfWork(engine) as uow:
        scan_campaign(uow.session, actor=office, at=SCAN_AT, campaign_code=CODE)
        uow.commit()
    _close_some_leads(engine, office, measures_for_first=())
    with UnitOfWork(engine) as uow:
        rates = hit_rates(uow.session, actor=actors["leader"], campaign_code=CODE, at=CLOSE_AT)
        closed = [r for r in rates if r.closed]
        assert closed and sum(r.confirmed for r in rates) >= 2
        assert all(r.rate == r.confirmed / r.closed for r in closed)
        data = report_data(
            uow.session, actor=office, campaign_code=CODE, period="2020-06", department_code=None, at=CLOSE_AT
        )
        table = next(rows for title, _headers, rows in data.tables() if title == "大数据预警规则命中情况表")
        assert {row.rule_id for row in table} == {r.rule_id for r in rates}
        department = report_data(
            uow.session, actor=office, campaign_code=CODE, period="2020-06", department_code="zjj", at=CLOSE_AT
        )
        assert "大数据预警规则命中情况表" not in [title for title, _h, _r in department.tables()]


def test_a_lead_found_partly_true_scores_like_a_confirmed_one_and_is_a_hit(engine, risky, actors):  # noqa: F811
    """部分属实 counts in full as 查实: the bidders get the YAML's confirmed_lead_points and the rules that raised the
    预警 count it as a hit (documented in services/credit.py, services/risk/screening.py, domain/lead.py)."""
    from services.risk.screening import hit_rates

    office = actors["office"]
    with UnitOfWork(engine) as uow:
        scan_campaign(uow.session, actor=office, at=SCAN_AT, campaign_code=CODE)
        lead = next(
            x
            for x in list_leads(uow.session, actor=office, campaign_code=CODE)
            if x.source == LeadSource.big_data.value
        )
        close_lead(
            uow.session,
            actor=office,
            at=CLOSE_AT,
            lead_id=lead.id,
            expected_version=lead.version,
            outcome=LeadOutcome.partly.value,
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        refresh_credit(uow.session, actor=office, at=CLOSE_AT, campaign_code=CODE)
        uow.commit()
    with UnitOfWork(engine) as uow:
        entries = list_credit(uow.session, actor=office, campaign_code=CODE)
        bidders = [e for e in entries if e.kind == "bidder" and any(r.source == lead.code for r in e.records)]
        assert bidders and all(
            r.points == 10 and "部分属实" in r.reason for e in bidders for r in e.records if r.source == lead.code
        )
        rates = [r for r in hit_rates(uow.session, actor=actors["leader"], campaign_code=CODE, at=CLOSE_AT) if r.closed]
        assert rates and all(r.confirmed == r.closed == 1 and r.rate == 1 for r in rates)
