"""The screening reads an unchanged bid register once (issue 15: the weekly scans of a simulated campaign read it
again and again), and never a stale one: every write of the register — the planted demo register, a project
register import, a second write in another unit of work — sets a new stamp, and the next load reads the store."""

from __future__ import annotations

import datetime as dt

from services import projects
from services.campaigns import get_campaign, register_stamp
from services.risk import demo as risk_demo
from services.risk.register import load_register
from services.risk.screening import scan_of, settings_of

AT = dt.datetime(2020, 6, 15, 2, tzinfo=dt.UTC)
HEADER = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"


def _import_row(session, actor, code: str, row: str) -> None:
    """The office imports a project register of one row (a project's name and department changed)."""
    data = (HEADER + row).encode()
    projects.import_projects(session, actor=actor, at=AT, campaign_code=code, data=data, filename="项目.csv")


def _stamp(uow_factory, code: str) -> tuple[int, int | None]:
    with uow_factory() as uow:
        campaign = get_campaign(uow.session, code)
        return campaign.id, register_stamp(uow.session, campaign.id)


def test_an_unchanged_register_is_read_once_and_every_write_is_read_again(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    campaign_id, before = _stamp(uow_factory, code)
    assert before is None  # nothing written yet
    with uow_factory() as uow:
        assert risk_demo.plant_register(uow.session, code) > 0
        uow.commit()
    _, planted = _stamp(uow_factory, code)
    assert planted is not None
    with uow_factory() as uow:
        first = load_register(uow.session, campaign_id)
        settings = settings_of(get_campaign(uow.session, code))
    with uow_factory() as uow:
        again = load_register(uow.session, campaign_id)
    assert again is first  # the same register: not read again
    assert scan_of(again, settings) is scan_of(first, settings)  # nor scanned again

    project = first.projects[0]
    department = project.department_code
    renamed = f"{project.code},改名后的项目,{department},2019-03-01,100,,\n"
    with uow_factory() as uow:
        _import_row(uow.session, actors["office"], code, renamed)
        uow.commit()
    _, imported = _stamp(uow_factory, code)
    assert imported not in (None, planted)
    with uow_factory() as uow:
        fresh = load_register(uow.session, campaign_id)
    assert fresh is not first
    assert {p.code: p.name for p in fresh.projects}[project.code] == "改名后的项目"
    assert scan_of(fresh, settings) is not scan_of(first, settings)


def test_a_write_rolled_back_leaves_the_stamp_and_the_register_as_they_were(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with uow_factory() as uow:
        risk_demo.plant_register(uow.session, code)
        uow.commit()
    campaign_id, planted = _stamp(uow_factory, code)
    with uow_factory() as uow:
        kept = load_register(uow.session, campaign_id)
    first = kept.projects[0]
    row = f"{first.code},不会留下,{first.department_code},2019-03-01,1,,\n"
    with uow_factory() as uow:  # an import that is not committed (a dry run, a failure later in the request)
        _import_row(uow.session, actors["office"], code, row)
        inside = load_register(uow.session, campaign_id)  # the unit of work reads its own write
        assert {p.code: p.name for p in inside.projects}[first.code] == "不会留下"
    assert _stamp(uow_factory, code) == (campaign_id, planted)
    with uow_factory() as uow:
        assert load_register(uow.session, campaign_id) is kept
