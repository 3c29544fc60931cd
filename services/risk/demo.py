"""A bid register with planted collusion rings for the demo (issue 14 item 9): domain.risk.synthetic at demo scale,
its departments mapped onto the campaign's own, written straight into the store so the boards show flags, a
collusion network, leads and (once leads are found 查实) a blacklist."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.risk.register import Register
from domain.risk.synthetic import DEPARTMENTS, generate
from services.campaigns import get_campaign, stored_spec
from services.holidays import campaign_calendar
from services.risk.register import store_register
from services.risk.screening import scan_campaign
from store.models import Bid, Department

DEMO_PROJECTS = 300
DEMO_SEED = 14


def plant_register(
    session: Session, campaign_code: str, *, projects: int = DEMO_PROJECTS, seed: int = DEMO_SEED
) -> int:
    """Write the generated register into the campaign (projects already there are kept); returns bids written."""
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    # The regulators supervise tendering projects; a campaign without any gives them to every other department.
    owners = [d.code for d in spec.departments if d.kind == "industry_regulator"] or [
        d.code for d in spec.departments if d.code != spec.office
    ]
    ids = dict(
        session.execute(
            select(Department.code, Department.id).where(
                Department.campaign_id == campaign.id, Department.active.is_(True), Department.code.in_(owners)
            )
        )
        .tuples()
        .all()
    )
    if not ids:
        return 0
    targets = sorted(ids)
    mapping = {code: targets[i % len(targets)] for i, code in enumerate(DEPARTMENTS)}
    synthetic = generate(projects=projects, seed=seed).register
    register = Register.build(
        [dataclasses.replace(p, department_code=mapping[p.department_code]) for p in synthetic.projects],
        [b for bids in synthetic.bids_by_project.values() for b in bids],
        synthetic.evaluations.values(),
    )
    return store_register(session, campaign, register, ids)


def simulate_risk(session: Session, campaign_code: str, day: dt.date, at: dt.datetime, office: Actor) -> int:
    """The demo's 大数据预警 on a simulated working day: the register arrives on the first working day of 自查自纠,
    and the office scans it then and every Monday after (new 预警 become leads, which the simulation handles like
    any lead; the scan first brings the credit up to date, so leads found 查实 fill the blacklist). Returns the
    leads created."""
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    cal = campaign_calendar(spec)
    self_check = next((p for p in spec.phases if p.kind.value == "self_check"), None)
    if self_check is None or day < self_check.start or not cal.is_workday(day):
        return 0
    first = day == next(d for d in (self_check.start + dt.timedelta(n) for n in range(30)) if cal.is_workday(d))
    if first:
        plant_register(session, campaign_code)
    if not first and day.weekday() != 0:
        return 0
    if session.scalar(select(Bid.id).where(Bid.campaign_id == campaign.id).limit(1)) is None:
        return 0
    return len(scan_campaign(session, actor=office, at=at, campaign_code=campaign_code).new_leads)
