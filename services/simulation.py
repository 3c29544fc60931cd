"""A seeded model of departments and the office, for `campaign simulate` and the demo.

Departments are prompt, late or silent; each assignment's submission day follows from the seed
and its natural key, so a simulation is reproducible. Everything goes through the same services
the dashboard uses (submit, accept, return), so a simulated campaign is an ordinary campaign.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, Role
from domain.calendar import WorkingCalendar
from services import submissions
from services.campaigns import get_campaign, stored_spec
from services.holidays import campaign_calendar
from store.models import Assignment, AssignmentStatus, Department, Submission, TaskTemplate

OFFICE_ACTOR_NAME = "sim-office"


def _unit(seed: int, *parts: object) -> float:
    digest = hashlib.sha256("|".join([str(seed), *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class DayActivity:
    submitted: int = 0
    accepted: int = 0
    returned: int = 0


def profile(seed: int, department_code: str) -> str:
    u = _unit(seed, "profile", department_code)
    return "prompt" if u < 0.55 else ("late" if u < 0.85 else "silent")


def planned_submission_day(
    seed: int, department_code: str, key: str, due_on: dt.date, cal: WorkingCalendar
) -> dt.date | None:
    kind = profile(seed, department_code)
    u = _unit(seed, "submit", department_code, key)
    if kind == "silent" and u < 0.6:
        return None
    if kind == "prompt" or (kind == "late" and u < 0.3):
        back = int(u * 5)  # 0..4 working days early
        day = due_on
        for _ in range(back):
            day -= dt.timedelta(days=1)
            while not cal.is_workday(day):
                day -= dt.timedelta(days=1)
        return day
    return cal.add_workdays(due_on, 1 + int(u * 8))  # 1..8 working days late


def _local_noon(day: dt.date) -> dt.datetime:
    # 10:00 Beijing time on the simulated day, stored as UTC.
    return dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=dt.timezone.utc)


def simulate_day(session: Session, campaign_code: str, day: dt.date, seed: int) -> DayActivity:
    """Departments submit what their profile says is due today; the office reviews yesterday's work."""
    campaign = get_campaign(session, campaign_code)
    cal = campaign_calendar(stored_spec(campaign))
    if not cal.is_workday(day):
        return DayActivity()
    at = _local_noon(day)
    rows = session.execute(
        select(Assignment.id, Assignment.status, Assignment.due_on, Assignment.period, Department.code,
               TaskTemplate.key, TaskTemplate.title)
        .join(Department, Department.id == Assignment.department_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.status.in_(
            (AssignmentStatus.open.value, AssignmentStatus.returned.value, AssignmentStatus.submitted.value)))
        .order_by(Assignment.id)
    ).all()
    office = Actor(OFFICE_ACTOR_NAME, Role.office, None, "办公室（模拟）")
    submitted = accepted = returned = 0
    for r in rows:
        key = f"{r.key}/{r.period}"
        if r.status == AssignmentStatus.submitted.value:
            last = session.scalar(select(Submission.submitted_at).where(Submission.assignment_id == r.id)
                                  .order_by(Submission.seq.desc()).limit(1))
            if last is not None and last.date() < day:  # reviewed the next working day
                version = session.get(Assignment, r.id).version
                attempts = session.scalar(select(Submission.seq).where(Submission.assignment_id == r.id)
                                          .order_by(Submission.seq.desc()).limit(1)) or 1
                if attempts == 1 and _unit(seed, "return", r.code, key) < 0.15:
                    submissions.return_submission(session, actor=office, at=at, assignment_id=r.id,
                                                  expected_version=version, reason="材料不完整，请补充整改台账中的整改措施和完成时限。")
                    returned += 1
                else:
                    submissions.accept(session, actor=office, at=at, assignment_id=r.id, expected_version=version)
                    accepted += 1
            continue
        planned = planned_submission_day(seed, r.code, key, r.due_on, cal)
        if r.status == AssignmentStatus.returned.value:
            planned = day  # returned work comes back promptly
        if planned is None or planned > day:
            continue
        actor = Actor(f"sim-{r.code}", Role.department, r.code, f"{r.code}（模拟）")
        submissions.submit(session, actor=actor, at=at, assignment_id=r.id,
                           text=f"{r.title}：已按要求完成，详见附表。（模拟数据）")
        submitted += 1
    return DayActivity(submitted, accepted, returned)
