"""Prefect flows for a campaign: launch, tick, simulate. They only compose tasks.

Each flow's edge (flows.runtime.flow_edge) resolves what was not passed — the database URL, the
day, the moment — from the settings; below it nothing reads the clock or the environment.

`run_tick` and `run_launch` are the one entry for each operation: the CLI, the dashboard and the
benchmarks call them; the daily schedule calls the `tick` flow inside its own flow run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from prefect import flow
from sqlalchemy.orm import Session

from domain.access import SYSTEM, Actor
from domain.spec import CampaignSpec
from flows.runtime import embedded_engine, flow_edge, flow_settings
from services import campaigns, ticking
from services.campaigns import LaunchReport
from services.simulation import SimulationTotals, simulated_moment
from services.ticking import StepRunner, TickSummary
from settings import Settings
from store.uow import UnitOfWork
from tasks import campaign_tasks as t
from tasks import work_tasks as w

T = TypeVar("T")

__all__ = ["TickSummary", "launch", "run_launch", "run_tick", "simulate", "tick"]


def prefect_steps(db_url: str) -> StepRunner:
    """Each tick step as a named task run of the current flow run, committed on its own."""

    def run(name: str, step: Callable[[Session], T], /) -> T:
        return t.tick_step(name, step, db_url)

    return run


@flow(name="launch-campaign", flow_run_name="launch-{campaign}")
def launch(
    campaign: str,
    spec_sha256: str,
    at: dt.datetime | None = None,
    actor: Actor = SYSTEM,
    source_path: str | None = None,
    dry_run: bool = False,
    db_url: str | None = None,
) -> LaunchReport:
    """Launch or reconcile `campaign` on the spec kept under `spec_sha256` (services.campaigns.store_spec):
    parameters stay small at any campaign size."""
    url, _, moment = flow_edge(db_url, None, at)
    return t.launch_campaign(campaign, spec_sha256, actor, moment, source_path, dry_run, url)


@flow(name="tick-campaign", flow_run_name="tick-{campaign}-{as_of}")
def tick(
    campaign: str,
    as_of: dt.date | None = None,
    db_url: str | None = None,
    actor: Actor = SYSTEM,
    at: dt.datetime | None = None,
) -> TickSummary:
    url, day, moment = flow_edge(db_url, as_of, at)
    return ticking.tick(prefect_steps(url), campaign, day, actor=actor, at=moment)


@flow(name="simulate-campaign", flow_run_name="simulate-{campaign}-{start}-{until}")
def simulate(
    campaign: str,
    start: dt.date,
    until: dt.date,
    seed: int = 7,
    db_url: str | None = None,
    on_day: Callable[[dt.date], None] | None = None,
) -> SimulationTotals:
    """Every day from `start` to `until`, all in this one flow run: the seeded departments' and office's
    work, then the day's tick, as one task run per day (simulate-<campaign>-<day>)."""
    url, _, _ = flow_edge(db_url, until, simulated_moment(until))
    w.enlist_people(campaign, simulated_moment(start), url)
    totals = SimulationTotals()
    day = start
    while day <= until:
        activity, work = w.simulate_day(campaign, day, seed, url)
        totals = totals.add(activity, work)
        if on_day is not None:
            on_day(day)
        day += dt.timedelta(days=1)
    return totals


# --------------------------------------------------------------------------- the entries


def run_tick(
    campaign: str,
    as_of: dt.date,
    *,
    settings_or_db_url: Settings | str,
    actor: Actor = SYSTEM,
    at: dt.datetime | None = None,
) -> TickSummary:
    """Tick one campaign to `as_of` as `actor` (the CLI: SYSTEM; the dashboard's 巡检: the office
    user) on the embedded engine. A refused day is a message before any flow run starts."""
    settings = flow_settings(settings_or_db_url)
    with UnitOfWork(settings.db_url) as uow:
        ticking.check_tick_date(uow.session, campaign, as_of)
    with embedded_engine():
        return tick(campaign, as_of, settings.db_url, actor, at or settings.now())


def run_launch(
    spec: CampaignSpec,
    *,
    settings_or_db_url: Settings | str,
    actor: Actor = SYSTEM,
    at: dt.datetime | None = None,
    source_path: str | None = None,
    dry_run: bool = False,
) -> LaunchReport:
    """Launch a campaign, or apply a changed spec to it, as `actor` (checked and audited by
    services.campaigns.launch) through the launch flow on the embedded engine. The spec is stored
    first and the flow gets its digest, so any spec that fits the database launches."""
    settings = flow_settings(settings_or_db_url)
    moment = at or settings.now()
    with UnitOfWork(settings.db_url) as uow:
        digest = campaigns.store_spec(uow.session, spec, actor=actor, at=moment)
        uow.commit()
    with embedded_engine():
        return launch(spec.id, digest, moment, actor, source_path, dry_run, settings.db_url)
