"""The seeded department/office model behind `campaign simulate` and the demo: reproducible, and it
works only through the services, so every change it makes is permitted and audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from domain.access import SYSTEM
from services.campaigns import launch
from services.risk.demo import DEMO_PROJECTS
from services.simulation import enlist_simulated_people, simulate_day, simulate_work
from services.spec_files import load_spec
from store.models import (
    AuditEntry,
    Lead,
    Problem,
    ProblemEvent,
    Project,
    RollupSnapshot,
    SampleDraw,
)
from store.uow import UnitOfWork
from tests.conftest import LAUNCH_AT, SPEC_PATH, run_tick

UNTIL = dt.date(2020, 7, 15)


def _simulate(engine, seed: int, until: dt.date = UNTIL) -> None:
    spec = load_spec(SPEC_PATH)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT, source_path=None)
        enlist_simulated_people(uow.session, spec.id, LAUNCH_AT)
        uow.commit()
    day = spec.start
    while day <= until:
        with UnitOfWork(engine) as uow:
            simulate_day(uow.session, spec.id, day, seed)
            simulate_work(uow.session, spec.id, day, seed)
            uow.commit()
        run_tick(engine, spec.id, day)
        day += dt.timedelta(days=1)


def _ledger(engine) -> list[tuple]:
    with UnitOfWork(engine) as uow:
        s = uow.session
        return [
            *s.execute(
                select(Problem.code, Problem.category, Problem.status, Problem.found_on, Problem.closed_on).order_by(
                    Problem.code
                )
            ).all(),
            *s.execute(select(Lead.code, Lead.status, Lead.outcome, Lead.fine_wan).order_by(Lead.code)).all(),
            *s.execute(select(Project.code, Project.sampled).order_by(Project.code)).all(),
        ]


def test_simulated_campaign_has_register_ledger_and_leads_counted_in_the_rollup(engine):
    _simulate(engine, seed=7)
    with UnitOfWork(engine) as uow:
        s = uow.session
        projects = s.scalar(select(func.count(Project.id)))
        sampled = s.scalar(select(func.count(Project.id)).where(Project.sampled.is_(True)))
        assert projects > 0 and sampled >= 0.2 * projects
        regulators = [d for d in load_spec(SPEC_PATH).departments if d.kind == "industry_regulator"]
        assert s.scalar(select(func.count(SampleDraw.id))) == len(regulators) > 0  # one draw per regulator
        statuses = dict(s.execute(select(Problem.status, func.count()).group_by(Problem.status)).all())
        assert statuses.get("closed", 0) > 0 and statuses.get("open", 0) + statuses.get("closing", 0) > 0
        assert (
            s.scalar(select(func.count(ProblemEvent.id)).where(ProblemEvent.action == "approve")) == statuses["closed"]
        )
        assert s.scalar(select(func.count(Lead.id)).where(Lead.status == "closed")) > 0
        totals = s.execute(
            select(
                func.sum(RollupSnapshot.problems_closed),
                func.sum(RollupSnapshot.projects_sampled),
                func.sum(RollupSnapshot.leads_closed),
            ).where(RollupSnapshot.as_of == UNTIL, RollupSnapshot.phase_key == "")
        ).one()
        assert totals == (
            statuses["closed"],
            sampled,
            s.scalar(select(func.count(Lead.id)).where(Lead.status == "closed")),
        )
        actors = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("problem.%"))))
        assert "sim-office" in actors and any(a.startswith("sim-") and a != "sim-office" for a in actors)


def test_same_seed_same_campaign(engine, tmp_path):
    from store.db import make_engine
    from store.migrate import upgrade

    other = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    upgrade(other)
    _simulate(engine, seed=3)
    _simulate(other, seed=3)
    assert _ledger(engine) == _ledger(other)


def test_the_simulate_flow_runs_the_same_days_in_one_flow_run(prefect_harness, tmp_path):
    """`campaign simulate` / the demo: the same model and the same tick composition, all days in one
    flow run, end in the same campaign as the steps run directly."""
    from flows.campaign_flows import run_launch, simulate
    from store.db import make_engine
    from store.migrate import upgrade

    until = dt.date(2020, 6, 5)
    direct, flowed = (make_engine(f"sqlite:///{tmp_path / name}") for name in ("direct.db", "flow.db"))
    for engine in (direct, flowed):
        upgrade(engine)
    _simulate(direct, seed=5, until=until)
    spec = load_spec(SPEC_PATH)
    url = flowed.url.render_as_string(hide_password=False)
    run_launch(spec, settings_or_db_url=url, at=LAUNCH_AT, source_path=None, dry_run=False)
    days: list[dt.date] = []
    totals = simulate(spec.id, spec.start, until, 5, url, on_day=days.append)
    assert days == [spec.start + dt.timedelta(days=i) for i in range((until - spec.start).days + 1)]
    assert _ledger(flowed) == _ledger(direct)
    with UnitOfWork(flowed) as uow:
        # the simulated departments' imports, plus the bid register the demo plants for screening (issue 14)
        assert totals.projects + DEMO_PROJECTS == uow.session.scalar(select(func.count(Project.id)))
        assert totals.projects > 0
        last = uow.session.scalar(select(func.max(RollupSnapshot.as_of)))
    assert last == until
