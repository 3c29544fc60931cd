"""Thin Prefect tasks for department and office work done by the tick (verification sampling)."""

from __future__ import annotations

import datetime as dt

from prefect import task

from services import projects
from services.ticking import PhaseTick
from store.uow import UnitOfWork


@task(task_run_name="draw-samples-{campaign}-{as_of}")
def draw_samples(campaign: str, phase: PhaseTick, as_of: dt.date, db_url: str | None) -> int:
    """Verification phase: draw each department's sample once and create its verification assignments."""
    with UnitOfWork(db_url) as uow:
        n = projects.draw_verification_samples(uow.session, campaign, as_of)
        uow.commit()
        return n
