"""The demo's 大数据预警 (issue 14 item 9): the planted register arrives with 自查自纠 and the office's scans turn its
rings into flags, a collusion network and 预警 leads, once each; leads found 查实 put bidders on the blacklist.

SQLite only: a walk of the demo's screening days re-run on PostgreSQL tested no database behaviour (the
screening's own tests, tests/integration/test_risk_flow.py and test_risk_cli.py, run on both)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.access import Actor, Role
from domain.lead import LeadMeasure, LeadOutcome, LeadSource
from services.credit import list_credit
from services.leads import close_lead, list_leads
from services.risk.demo import simulate_risk
from services.risk.screening import collusion_network, list_flags
from services.simulation import OFFICE_ACTOR_NAME, enlist_simulated_people, simulated_moment
from store.uow import UnitOfWork

CODE = "yanjiang-2020"
OFFICE = Actor(OFFICE_ACTOR_NAME, Role.office, None, "办公室（模拟）")


def _day(engine, day: dt.date) -> int:
    with UnitOfWork(engine) as uow:
        made = simulate_risk(uow.session, CODE, day, simulated_moment(day), OFFICE)
        uow.commit()
    return made


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_demo_register_shows_flags_a_network_leads_and_a_blacklist(engine, launched_campaign, actors):
    with UnitOfWork(engine) as uow:
        enlist_simulated_people(uow.session, CODE, launched_campaign.at)
        uow.commit()
    assert _day(engine, dt.date(2020, 5, 29)) == 0  # before 自查自纠: nothing yet
    made = _day(engine, dt.date(2020, 6, 1))  # the first working day of 自查自纠
    assert made > 0
    assert _day(engine, dt.date(2020, 6, 2)) == 0  # no scan on a Tuesday
    assert _day(engine, dt.date(2020, 6, 8)) == 0  # Monday's scan: the same 预警, no second lead
    with UnitOfWork(engine) as uow:
        s = uow.session
        assert list_flags(s, actor=actors["leader"], campaign_code=CODE)
        assert collusion_network(s, actor=actors["leader"], campaign_code=CODE)
        lead = next(
            x for x in list_leads(s, actor=actors["office"], campaign_code=CODE) if x.source == LeadSource.big_data
        )
        close_lead(
            s,
            actor=actors["office"],
            at=simulated_moment(dt.date(2020, 6, 10)),
            lead_id=lead.id,
            expected_version=lead.version,
            outcome=LeadOutcome.confirmed.value,
            measures=[LeadMeasure.blacklist.value],
            enterprises_involved=2,
        )
        uow.commit()
    _day(engine, dt.date(2020, 6, 15))  # the next Monday's scan brings the credit up to date
    with UnitOfWork(engine) as uow:
        assert list_credit(uow.session, actor=actors["leader"], campaign_code=CODE, blacklist_only=True)
