"""The rollup table by department, as the CLI prints it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.rollup import Counts, Grade, completion_rate, grade, on_time_rate
from services.campaigns import get_campaign
from store.models import Assignment, Department, RollupSnapshot, TaskTemplate


@dataclass(frozen=True)
class DepartmentStatus:
    department_code: str
    department_name: str
    counts: Counts
    grade: Grade
    problems_open: int = 0
    problems_closed: int = 0
    projects_sampled: int = 0
    projects_supervised: int = 0
    leads_open: int = 0
    leads_closed: int = 0

    @property
    def completion(self) -> float:
        return completion_rate(self.counts)

    @property
    def on_time(self) -> float:
        return on_time_rate(self.counts)


@dataclass(frozen=True)
class ExtendedDeadline:
    """A task whose deadline an approved extension moved: both dates stay on record (原定期限 / 截止)."""

    department_name: str
    title: str
    period: str
    original_due_on: dt.date
    due_on: dt.date


def extended_deadlines(session: Session, campaign_code: str) -> list[ExtendedDeadline]:
    campaign = get_campaign(session, campaign_code)
    rows = session.execute(
        select(Department.name, TaskTemplate.title, Assignment.period, Assignment.original_due_on, Assignment.due_on)
        .join(Department, Department.id == Assignment.department_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.original_due_on.is_not(None))
        .order_by(Department.id, Assignment.original_due_on, Assignment.id)
    ).tuples()
    return [
        ExtendedDeadline(name, title, period, original, due) for name, title, period, original, due in rows if original
    ]


def latest_rollup_day(session: Session, campaign_code: str, as_of: dt.date | None = None) -> dt.date | None:
    campaign = get_campaign(session, campaign_code)
    q = select(func.max(RollupSnapshot.as_of)).where(RollupSnapshot.campaign_id == campaign.id)
    if as_of is not None:
        q = q.where(RollupSnapshot.as_of <= as_of)
    return session.scalar(q)


def department_status(session: Session, campaign_code: str, as_of: dt.date) -> list[DepartmentStatus]:
    campaign = get_campaign(session, campaign_code)
    rows = session.execute(
        select(Department.code, Department.name, RollupSnapshot)
        .join(RollupSnapshot, RollupSnapshot.department_id == Department.id)
        .where(RollupSnapshot.campaign_id == campaign.id, RollupSnapshot.as_of == as_of, RollupSnapshot.phase_key == "")
        .order_by(Department.id)
    ).all()
    out = []
    for code, name, r in rows:
        c = Counts(r.assigned, r.submitted, r.accepted, r.on_time, r.overdue, r.escalation_level, r.due)
        out.append(
            DepartmentStatus(
                code,
                name,
                c,
                grade(c),
                r.problems_open,
                r.problems_closed,
                r.projects_sampled,
                r.projects_supervised,
                r.leads_open,
                r.leads_closed,
            )
        )
    return out
