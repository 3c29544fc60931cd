"""Thin Prefect tasks: open a unit of work, call services, commit, return plain data.

No retries here: these touch only the local database, where a retry would just repeat a bug.
Retries belong to I/O with the outside world (notification delivery).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from domain.access import Actor
from services import campaigns
from services.campaigns import LaunchReport
from store.sql import BULK_ROWS, LAUNCHED_TABLES, refresh_statistics
from store.uow import UnitOfWork
from tasks.collector import collector_paused

T = TypeVar("T")


def run_step(step: Callable[[Session], T], db_url: str) -> T:
    """One step in one unit of work, committed: what every task of the tick does."""
    with collector_paused(), UnitOfWork(db_url) as uow:
        result = step(uow.session)
        uow.commit()
        return result


# The step is a callable, so nothing is cached (a cache key would have to hash it).
@task(name="tick-step", task_run_name="{name}", cache_policy=NO_CACHE)
def tick_step(name: str, step: Callable[[Session], T], db_url: str) -> T:
    """A named tick step (services.ticking.tick names them: open-self_check-2020-06-23 …)."""
    return run_step(step, db_url)


@task(task_run_name="launch-{campaign}", cache_policy=NO_CACHE)
def launch_campaign(
    campaign: str, spec_sha256: str, actor: Actor, at: dt.datetime, source_path: str | None, dry_run: bool, db_url: str
) -> LaunchReport:
    with collector_paused(), UnitOfWork(db_url) as uow:
        spec = campaigns.stored_version(uow.session, campaign, spec_sha256)
        report = campaigns.launch(uow.session, spec, actor=actor, at=at, source_path=source_path)
        if dry_run:
            return report
        if report.assignments_added >= BULK_ROWS:
            refresh_statistics(uow.session, LAUNCHED_TABLES)
        uow.commit()
    return report
