"""Thin Prefect tasks for department and office work done outside the tick: the seeded model
of a day's activity that `campaign simulate` and the demo run before each day's tick."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NO_CACHE

from services import simulation
from services.simulation import DayActivity, WorkActivity
from store.uow import UnitOfWork


@task(task_run_name="enlist-simulated-people-{campaign}", cache_policy=NO_CACHE)
def enlist_people(campaign: str, at: dt.datetime, db_url: str) -> int:
    """The accounts the seeded model acts through (created once, by the system)."""
    with UnitOfWork(db_url) as uow:
        created = simulation.enlist_simulated_people(uow.session, campaign, at)
        uow.commit()
        return created


@task(task_run_name="simulate-{campaign}-{day}", cache_policy=NO_CACHE)
def simulate_day(campaign: str, day: dt.date, seed: int, db_url: str) -> tuple[DayActivity, WorkActivity]:
    """Everyone's work of one simulated day, in one transaction (before that day's tick)."""
    with UnitOfWork(db_url) as uow:
        activity = simulation.simulate_day(uow.session, campaign, day, seed)
        work = simulation.simulate_work(uow.session, campaign, day, seed)
        uow.commit()
        return activity, work
