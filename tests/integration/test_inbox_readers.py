"""Who reads a message in-app is one rule in two forms: `Audiences.people` (Python, for the rows being
written) and `has_inbox_readers` (SQL, so the tick writes the text only of rows someone reads in-app,
issue 15). They agree on every outbox row of the simulated demo (departments, the office and the
leaders all have accounts there), and again after the accounts of one department, of the office and
of the leaders are disabled."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from services.campaigns import get_campaign
from services.delivery.audience import has_inbox_readers
from services.delivery.planning import load_plan
from store.models import Outbox, User
from store.uow import UnitOfWork


def _both_forms(engine: Engine) -> tuple[dict[int, bool], dict[int, bool]]:
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = get_campaign(s, "yanjiang-2020")
        plan = load_plan(s, campaign, campaign.last_tick_on, None)
        rows = list(s.scalars(select(Outbox).where(Outbox.campaign_id == campaign.id)))
        python = {o.id: any(p.username for p in plan.audiences.people(o)) for o in rows}
        readable = set(
            s.scalars(select(Outbox.id).where(Outbox.campaign_id == campaign.id, has_inbox_readers(campaign.id)))
        )
        return python, {o.id: o.id in readable for o in rows}


def test_the_sql_and_the_python_form_agree_on_every_row(demo_engine: Engine) -> None:
    python, sql = _both_forms(demo_engine)
    assert python == sql and python
    with UnitOfWork(demo_engine) as uow:
        uow.session.execute(
            update(User)
            .where(User.role.in_(("office", "leader")) | (User.department_code == "zjj"))
            .values(disabled=True)
        )
        uow.commit()
    python, sql = _both_forms(demo_engine)
    assert python == sql
    assert any(python.values()) and not all(python.values())  # rows with and without readers now
