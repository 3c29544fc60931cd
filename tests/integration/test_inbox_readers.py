"""Who reads a message in-app is one rule in two forms: `Audiences.people` (Python, for the rows being
written) and `has_inbox_readers` (SQL, so the tick writes the text only of rows someone reads in-app,
issue 15). They agree on every outbox row of the simulated demo (departments, the office and the
leaders all have accounts there), and again after the accounts of one department, of the office and
of the leaders are disabled."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine, delete, select, update

from domain.assignment import UNFINISHED
from domain.delivery import Channel, OutboxKind, OutboxState
from services.campaigns import get_campaign
from services.delivery import planning
from services.delivery.audience import has_inbox_readers
from services.delivery.in_app import deliver_in_app
from services.delivery.planning import load_plan
from services.simulation import simulated_moment
from store.models import Assignment, Outbox, OutboxDelivery, User
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


def _inbox(engine: Engine) -> list[tuple[str, ...]]:
    with engine.connect() as con:
        rows = con.execute(
            select(OutboxDelivery.dedupe_key, OutboxDelivery.recipient, OutboxDelivery.subject, OutboxDelivery.body)
            .where(OutboxDelivery.channel == Channel.inbox)
            .order_by(OutboxDelivery.id)
        )
        return [tuple(r) for r in rows]


def _deliver_again(engine: Engine, page: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[tuple[str, ...]]]:
    """Empty the inboxes and put every still-owed message in again, reading `page` owed rows at a time;
    returns the rows read and the inboxes."""
    monkeypatch.setattr(planning, "OWED_PAGE", page)
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = get_campaign(s, "yanjiang-2020")
        s.execute(delete(OutboxDelivery).where(OutboxDelivery.channel == Channel.inbox))
        s.execute(update(Outbox).values(in_app_on=None))
        day = campaign.last_tick_on
        report = deliver_in_app(s, campaign_code=campaign.code, day=day, at=simulated_moment(day), catch_up=True)
        uow.commit()
    return report.rows, _inbox(engine)


def _two_rungs_on_the_last_day(engine: Engine) -> int:
    """Every unfinished assignment reaches two rungs on the last day (two escalation rows each, owed to the
    department): its people are to be told once, of the higher. Returns the assignments."""
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = get_campaign(s, "yanjiang-2020")
        work = s.execute(
            select(Assignment.id, Assignment.department_id).where(
                Assignment.campaign_id == campaign.id, Assignment.status.in_(UNFINISHED)
            )
        ).all()
        for aid, did in work:
            for level in (1, 2):
                s.add(
                    Outbox(
                        campaign_id=campaign.id,
                        natural_key=f"esc:{level}:department:{aid}:test",
                        kind=OutboxKind.escalation.value,
                        assignment_id=aid,
                        department_id=did,
                        audience="department",
                        level=level,
                        created_on=campaign.last_tick_on,
                        state=OutboxState.pending.value,
                    )
                )
        uow.commit()
    return len(work)


def test_the_inboxes_are_the_same_read_a_few_rows_at_a_time(demo_engine: Engine, monkeypatch) -> None:
    """The tick reads the owed rows a page at a time (a national busy day owes millions) and writes each page
    before reading the next: what a person was told on an earlier page still keeps a second message about the
    same thread, kind and day out, and the inboxes come out the same, in the same order, as from one read."""
    assert _two_rungs_on_the_last_day(demo_engine) > 10
    rows, one_read = _deliver_again(demo_engine, 100_000, monkeypatch)
    told_twice = Counter((recipient, key.split(":")[-2]) for key, recipient, *_ in one_read if ":test" in key)
    assert told_twice and set(told_twice.values()) == {1}  # once per person and assignment: the higher rung
    assert all(":2:department:" in key for key, *_ in one_read if ":test" in key)
    assert rows > 70 and len(one_read) > rows  # ten pages and more below; more messages than rows (audiences)
    assert _deliver_again(demo_engine, 7, monkeypatch) == (rows, one_read)
