"""A bid register with planted collusion rings for the demo (issue 14 item 9): domain.risk.synthetic at demo scale,
its departments mapped onto the campaign's own, written straight into the store so the boards show flags, a
collusion network, leads and (once leads are found 查实) a blacklist."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.risk.register import Register
from domain.risk.synthetic import DEPARTMENTS, generate
from services.campaigns import get_campaign, stored_spec
from services.risk.register import store_register
from store.models import Department

DEMO_PROJECTS = 300
DEMO_SEED = 14


def plant_register(
    session: Session, campaign_code: str, *, projects: int = DEMO_PROJECTS, seed: int = DEMO_SEED
) -> int:
    """Write the generated register into the campaign (projects already there are kept); returns bids written."""
    campaign = get_campaign(session, campaign_code)
    office = stored_spec(campaign).office
    ids = dict(
        session.execute(
            select(Department.code, Department.id).where(
                Department.campaign_id == campaign.id, Department.active.is_(True), Department.code != office
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
