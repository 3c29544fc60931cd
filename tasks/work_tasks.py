"""Thin Prefect tasks for department and office work done outside the tick: the seeded model
of a day's activity, and that day's tick, as `campaign simulate` and the demo run them."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from domain.access import SYSTEM
from services import simulation, ticking
from services.simulation import DayActivity, WorkActivity
from store.db import shared_engine
from store.uow import UnitOfWork, unit_per_step
from tasks.collector import collector_paused


@task(task_run_name="enlist-simulated-people-{campaign}", cache_policy=NO_CACHE)
def enlist_people(campaign: str, at: dt.datetime, db_url: str) -> int:
    """The accounts the seeded model acts through (created once, by the system)."""
    with UnitOfWork(db_url) as uow:
        created = simulation.enlist_simulated_people(uow.session, campaign, at)
        uow.commit()
        return created


def simulate_and_tick(engine: Engine, campaign: str, day: dt.date, seed: int) -> tuple[DayActivity, WorkActivity]:
    """One simulated day: everyone's work (services.simulation) in one transaction, then the day's tick
    (the one composition, services.ticking.tick), each step committed on its own as the tick flow does."""
    with collector_paused():
        with UnitOfWork(engine) as uow:
            activity = simulation.simulate_day(uow.session, campaign, day, seed)
            work = simulation.simulate_work(uow.session, campaign, day, seed)
            uow.commit()
        ticking.tick(unit_per_step(engine), campaign, day, actor=SYSTEM, at=simulation.simulated_moment(day))
    return activity, work


@task(task_run_name="simulate-{campaign}-{day}", cache_policy=NO_CACHE)
def simulate_day(campaign: str, day: dt.date, seed: int, db_url: str) -> tuple[DayActivity, WorkActivity]:
    """One simulated day as one task run. A task run per tick step would cost the engine ~17 runs a day,
    more than the day's own work; a single `campaign tick` keeps its steps as named runs."""
    return simulate_and_tick(shared_engine(db_url), campaign, day, seed)
