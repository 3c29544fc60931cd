"""Prefect flows for a campaign: launch, tick, simulate. They only compose tasks.

Each flow's edge (flows.runtime.flow_edge) resolves what was not passed — the database URL, the
day, the moment — from the settings; below it nothing reads the clock or the environment.

The one entry for each operation is in flows.entries (`run_tick`, `run_launch`): the CLI, the dashboard
and the benchmarks call them; the daily schedule calls the `tick` flow inside its own flow run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from prefect import flow
from sqlalchemy.orm import Session

from domain.access import SYSTEM, Actor
from flows.runtime import flow_edge
from services import ticking
from services.campaigns import LaunchReport
from services.simulation import SimulationTotals, simulated_moment
from services.ticking import StepRunner, TickSummary
from tasks import campaign_tasks as t
from tasks import work_tasks as w

T = TypeVar("T")

__all__ = ["TickSummary", "launch", "simulate", "tick"]


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
