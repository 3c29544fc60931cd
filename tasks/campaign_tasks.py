"""Thin Prefect tasks: open a unit of work, call one service, commit, return plain data.

No retries here: these touch only the local database, where a retry would just repeat a bug.
Retries belong to I/O with the outside world (notification delivery).
"""

from __future__ import annotations

import datetime as dt

from prefect import task

from domain.access import Actor
from domain.spec import CampaignSpec
from services import campaigns, ticking
from services.campaigns import LaunchReport
from services.ticking import PhaseTick, StepCounts
from store.uow import UnitOfWork


@task(task_run_name="launch-{spec.id}")
def launch_campaign(spec: CampaignSpec, actor: Actor, at: dt.datetime, source_path: str | None,
                    dry_run: bool, db_url: str | None) -> LaunchReport:
    with UnitOfWork(db_url) as uow:
        report = campaigns.launch(uow.session, spec, actor=actor, at=at, source_path=source_path)
        if not dry_run:
            uow.commit()
        return report


@task(task_run_name="phases-{campaign}-{as_of}")
def sync_phases(campaign: str, as_of: dt.date, db_url: str | None) -> list[PhaseTick]:
    with UnitOfWork(db_url) as uow:
        phases = ticking.sync_phases(uow.session, campaign, as_of)
        uow.commit()
        return phases


@task(task_run_name="open-{phase.key}-{as_of}")
def open_assignments(phase: PhaseTick, as_of: dt.date, db_url: str | None) -> int:
    with UnitOfWork(db_url) as uow:
        n = ticking.open_assignments(uow.session, phase, as_of)
        uow.commit()
        return n


@task(task_run_name="overdue-{phase.key}-{as_of}")
def mark_overdue(campaign: str, phase: PhaseTick, as_of: dt.date, db_url: str | None) -> int:
    with UnitOfWork(db_url) as uow:
        n = ticking.mark_overdue(uow.session, phase, as_of, campaign)
        uow.commit()
        return n


@task(task_run_name="escalate-{phase.key}-{as_of}")
def record_escalations(campaign: str, phase: PhaseTick, as_of: dt.date, db_url: str | None) -> int:
    with UnitOfWork(db_url) as uow:
        n = ticking.record_escalations(uow.session, phase, as_of, campaign)
        uow.commit()
        return n


@task(task_run_name="remind-{phase.key}-{as_of}")
def record_reminders(campaign: str, phase: PhaseTick, as_of: dt.date, db_url: str | None) -> int:
    with UnitOfWork(db_url) as uow:
        n = ticking.record_reminders(uow.session, phase, as_of, campaign)
        uow.commit()
        return n


@task(task_run_name="rollup-{campaign}-{as_of}")
def write_rollup(campaign: str, as_of: dt.date, db_url: str | None) -> int:
    with UnitOfWork(db_url) as uow:
        n = ticking.write_rollup(uow.session, campaign, as_of)
        ticking.finish_tick(uow.session, campaign, as_of)
        uow.commit()
        return n


__all__ = ["StepCounts"]
