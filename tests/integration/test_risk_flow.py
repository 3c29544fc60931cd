"""The red-flag screening on the store, SQLite and PostgreSQL (issue 14): a planted register scanned into flags and
大数据预警 leads (exactly one per alerted project however often the scan or the tick runs), department scoping of
flags and leads, and the risk-weighted verification draw (ratio per department, risk picks, exact replay)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from domain.errors import Forbidden
from domain.lead import LeadSource
from domain.risk.policy import RiskSection
from domain.spec import CampaignSpec
from services.campaigns import launch
from services.leads import list_leads
from services.projects import list_draws, sampled_ratio, verify_draws
from services.risk.demo import plant_register
from services.risk.screening import collusion_network, hit_rates, list_flags, scan_campaign
from store.models import Lead, RiskAlert, SampleDraw
from store.uow import UnitOfWork
from tests.conftest import run_tick

SCAN_AT = dt.datetime(2020, 6, 2, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def risky(engine, launched_campaign, users):
    """The launched campaign re-applied with a `risk:` section and a planted register of 200 projects."""
    data = launched_campaign.spec.model_dump(mode="json")
    data["risk"] = {"lead_working_days": 7}
    spec = CampaignSpec.model_validate(data)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=_system(), at=SCAN_AT, source_path=None)
        bids = plant_register(uow.session, spec.id, projects=200, seed=5)
        uow.commit()
    assert bids > 1000
    return spec


def _system():
    from domain.access import SYSTEM

    return SYSTEM


def _scan(engine, actor, at=SCAN_AT):
    with UnitOfWork(engine) as uow:
        report = scan_campaign(uow.session, actor=actor, at=at, campaign_code="yanjiang-2020")
        uow.commit()
    return report


def _big_data_leads(engine) -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.scalar(select(func.count(Lead.id)).where(Lead.source == LeadSource.big_data.value))


def test_each_alerted_project_becomes_exactly_one_lead(engine, risky, actors):
    first = _scan(engine, actors["office"])
    assert first.alerts > 0 and len(first.new_leads) == first.alerts
    assert {s.rule_id for s in first.summary if s.flags} >= {"C40-MAC", "NET"}
    again = _scan(engine, actors["office"], SCAN_AT + dt.timedelta(hours=3))
    assert again.new_leads == () and again.alerts == first.alerts
    run_tick(engine, "yanjiang-2020", dt.date(2020, 6, 3))
    run_tick(engine, "yanjiang-2020", dt.date(2020, 6, 3))
    run_tick(engine, "yanjiang-2020", dt.date(2020, 6, 4))
    assert _big_data_leads(engine) == first.alerts
    with UnitOfWork(engine) as uow:
        alerts = uow.session.scalars(select(RiskAlert)).all()
        assert len(alerts) == first.alerts and all(a.lead_id for a in alerts)
        lead = uow.session.get(Lead, alerts[0].lead_id)
        assert lead.status == "assigned" and lead.department_id is not None
        assert "大数据预警" in lead.summary and "依据" in lead.summary
        # 7 working days from Tuesday 2 June 2020 (Dragon Boat Festival 25–26 June is later): Thursday 11 June
        assert lead.due_on == dt.date(2020, 6, 11)


def test_the_tick_dispatches_the_alerts_once(engine, risky, actors):
    run_tick(engine, "yanjiang-2020", dt.date(2020, 6, 2))
    made = _big_data_leads(engine)
    assert made > 0
    run_tick(engine, "yanjiang-2020", dt.date(2020, 6, 2))
    run_tick(engine, "yanjiang-2020", dt.date(2020, 6, 3))
    assert _scan(engine, actors["office"], SCAN_AT + dt.timedelta(days=2)).new_leads == ()
    assert _big_data_leads(engine) == made


def test_a_department_sees_only_its_own_flags_and_leads(engine, risky, actors):
    _scan(engine, actors["office"])
    with UnitOfWork(engine) as uow:
        every = list_flags(uow.session, actor=actors["office"], campaign_code="yanjiang-2020")
        departments = {f.department_code for f in every}
        assert len(departments) > 1
        own = list_flags(uow.session, actor=actors["dept_zjj"], campaign_code="yanjiang-2020")
        assert own and {f.department_code for f in own} == {"zjj"}
        assert len(own) < len(every)
        leads = list_leads(uow.session, actor=actors["dept_zjj"], campaign_code="yanjiang-2020")
        assert leads and {lead.department_code for lead in leads} == {"zjj"}
        with pytest.raises(Forbidden):
            list_flags(uow.session, actor=actors["dept_zjj"], campaign_code="yanjiang-2020", department_code="fgj")
    with UnitOfWork(engine) as uow, pytest.raises(Forbidden):
        collusion_network(uow.session, actor=actors["dept_zjj"], campaign_code="yanjiang-2020")
    with UnitOfWork(engine) as uow, pytest.raises(Forbidden):
        scan_campaign(uow.session, actor=actors["leader"], at=SCAN_AT, campaign_code="yanjiang-2020")
    with UnitOfWork(engine) as uow:
        groups = collusion_network(uow.session, actor=actors["leader"], campaign_code="yanjiang-2020")
        assert groups and all(len(g.members) >= 2 for g in groups)
        rates = hit_rates(uow.session, actor=actors["leader"], campaign_code="yanjiang-2020")
        assert rates and all(r.closed == 0 and r.rate is None for r in rates)


def test_risk_weighted_draw_meets_the_ratio_and_replays_exactly(engine, risky, actors):
    _scan(engine, actors["office"])
    run_tick(engine, "yanjiang-2020", dt.date(2020, 7, 1))  # the verify phase starts: the draw
    settings = RiskSection()
    with UnitOfWork(engine) as uow:
        s = uow.session
        draws = list_draws(s, actor=actors["office"], campaign_code="yanjiang-2020")
        assert draws and all(d.reasons for d in draws)
        for code, (sampled, supervised) in sampled_ratio(s, "yanjiang-2020").items():
            assert sampled >= 0.2 * supervised, code
        risk_picks = 0
        for d in draws:
            record = d.risk_record
            assert record is not None and record["method"] == "risk"
            high = {c for c, score in record["scores"].items() if score >= settings.draw_always_score}
            assert high <= set(d.sampled_codes)  # projects above the threshold are always drawn
            risk_picks += sum(1 for label, _ in d.reasons.values() if label == "风险必抽")
        assert risk_picks > 0
        assert all(ok for _dept, ok in verify_draws(s, actor=actors["office"], campaign_code="yanjiang-2020"))
        one = s.scalars(select(SampleDraw).order_by(SampleDraw.id)).first()
        picks = json.loads(one.risk_json)["picks"]
        assert all(p["reason"] in ("risk", "random") and "风险分" in p["why"] for p in picks)
    # a replay of a tampered record no longer matches: the check is real
    with UnitOfWork(engine) as uow:
        row = uow.session.scalars(select(SampleDraw).order_by(SampleDraw.id)).first()
        codes = json.loads(row.sampled_codes)
        row.sampled_codes = json.dumps(list(reversed(codes)) if len(codes) > 1 else [*codes, "X"])
        uow.commit()
    with UnitOfWork(engine) as uow:
        checks = verify_draws(uow.session, actor=actors["office"], campaign_code="yanjiang-2020")
        assert not all(ok for _d, ok in checks)
