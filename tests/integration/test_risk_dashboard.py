"""The 大数据预警 page in the real Streamlit runtime (AppTest): the office and leaders see the flags, the collusion
network and the credit lists; a department sees only its own projects' flags and its 预警 leads."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from domain.lead import LeadSource
from services.leads import list_leads
from services.risk.demo import plant_register
from services.risk.screening import scan_campaign
from services.users import actor_for
from store.models import Campaign, Department
from store.uow import UnitOfWork
from tests.integration.test_dashboard_apptest import (  # noqa: F401 - fixtures and helpers of the dashboard tests
    dashboard_db,
    engine,
    login,
    open_page,
)

PAGE = "pages/risk.py"
SCAN_AT = dt.datetime(2020, 6, 29, 2, 0, tzinfo=dt.UTC)


def _planted(url: str, code: str) -> set[str]:
    """Plant and scan a register; returns the departments the scan handed 预警 leads to."""
    from domain.spec import CampaignSpec
    from services.campaigns import get_campaign, launch, stored_spec

    with UnitOfWork(url) as uow:
        s = uow.session
        data = stored_spec(get_campaign(s, code)).model_dump(mode="json")
        data["risk"] = {}
        office = actor_for(s, "office")
        launch(s, CampaignSpec.model_validate(data), actor=office, at=SCAN_AT, source_path=None)
        plant_register(s, code, projects=150, seed=9)
        scan_campaign(s, actor=office, at=SCAN_AT, campaign_code=code)
        leads = list_leads(s, actor=office, campaign_code=code, at=SCAN_AT)
        uow.commit()
    return {lead.department_code for lead in leads if lead.source == LeadSource.big_data and lead.department_code}


def _department_names(url: str, code: str) -> dict[str, str]:
    """The campaign's departments, code → name, as stored."""
    with UnitOfWork(url) as uow:
        rows = uow.session.execute(
            select(Department.code, Department.name).join(Campaign).where(Campaign.code == code)
        ).all()
    return dict(rows)


def test_office_and_leader_see_flags_network_and_credit(dashboard_db, launched_campaign):  # noqa: F811
    _planted(dashboard_db, launched_campaign.code)
    for user in ("office", "leader"):
        at = open_page(login(user), PAGE)
        assert at.title[0].value == "大数据预警"
        metrics = {m.label: m.value for m in at.metric}
        assert int(metrics["预警项目"]) > 0 and int(metrics["关联企业群"]) > 0
        assert [t.label for t in at.tabs] == ["预警项目", "关联企业网络", "规则命中率", "信用与黑名单"]
        assert len(at.dataframe) >= 3  # flags, groups, hit rates
        # Departments by name, never by code (issue 12).
        names = _department_names(dashboard_db, launched_campaign.code)
        shown = set(at.dataframe[0].value["部门"])
        assert shown and shown <= set(names.values()), shown


def test_a_department_sees_only_its_own_flags_and_leads(dashboard_db, launched_campaign):  # noqa: F811
    # Which departments the rings land on depends on the planted register: log in as one that got a lead.
    department = sorted(_planted(dashboard_db, launched_campaign.code))[0]
    at = open_page(login(f"dept_{department}"), PAGE)
    assert [t.label for t in at.tabs] == ["本部门预警", "预警线索"]
    flags = at.dataframe[0].value
    name = _department_names(dashboard_db, launched_campaign.code)[department]
    assert name != department
    assert len(flags) > 0 and set(flags["部门"]) == {name}  # its name, not its code (issue 12)
    leads = at.dataframe[1].value
    assert len(leads) > 0 and set(leads["承办部门"]) == {name}
