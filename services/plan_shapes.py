"""The progress of counted tasks and ongoing duties, for the read models (issue 16).

A counted task (`count: N`) reads as the deliveries a department has handed in out of N (1/2); an ongoing
duty (`due: ongoing`) reads as 持续推进 with the day the department last handed in one of the recurring
reports the duty is reported through (`reported_in`). Callers have already checked who may read the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import limits
from domain.assignment import HANDED_IN, AssignmentStatus
from domain.errors import Invalid
from domain.localtime import local_day
from domain.progress import count_progress, ongoing_progress
from domain.spec import DELIVERABLE_LABELS, Deliverable
from services.campaigns import stored_spec
from services.holidays import campaign_calendar
from store.models import Assignment, Campaign, Phase, Submission, TaskTemplate


def progress_labels(session: Session, assignment_ids: Iterable[int]) -> dict[int, str]:
    """Assignment id -> its progress label ('' for a plain one-off task or a report)."""
    ids = [int(i) for i in assignment_ids]
    if not ids:
        return {}
    rows = session.execute(
        select(
            Assignment.id,
            Assignment.campaign_id,
            Assignment.template_id,
            Assignment.department_id,
            Assignment.ongoing,
            TaskTemplate.required_count,
            TaskTemplate.reported_in,
        )
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Assignment.id.in_(ids))
    ).all()
    out: dict[int, str] = {}
    for r in rows:
        if r.ongoing:
            out[r.id] = ongoing_progress(_last_reported(session, r.campaign_id, r.department_id, r.reported_in))
        elif r.required_count > 1:
            out[r.id] = count_progress(_handed_in(session, r.template_id, r.department_id), r.required_count)
        else:
            out[r.id] = ""
    return out


def _handed_in(session: Session, template_id: int, department_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Assignment.id)).where(
                Assignment.template_id == template_id,
                Assignment.department_id == department_id,
                Assignment.status.in_(HANDED_IN),
            )
        )
        or 0
    )


def _last_reported(session: Session, campaign_id: int, department_id: int, reported_in: str) -> dt.date | None:
    keys = [k for k in reported_in.split("、") if k]
    last = session.scalar(
        select(func.max(Submission.submitted_at))
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(
            TaskTemplate.campaign_id == campaign_id,
            TaskTemplate.key.in_(keys),
            Assignment.department_id == department_id,
            Assignment.status != AssignmentStatus.cancelled.value,
        )
    )
    return local_day(last) if last is not None else None


# --- work added beside the plan: 自选事项 (services.optional_items), meeting decisions (services.meetings) ----


def clean_text(value: str | None, what: str, longest: int, *, multiline: bool = False) -> str:
    """A text a user typed, stripped; Invalid (naming the field) when blank, too long or unsafe."""
    text = (value or "").strip()
    if not text or limits.is_blank(text):
        raise Invalid(f"{what}不能为空")
    if len(text) > longest:
        raise Invalid(f"{what}最多 {longest} 个字符（现为 {len(text)} 个）")
    problem = limits.unsafe_character(text, multiline=multiline)
    if problem:
        raise Invalid(f"{what}：{problem}")
    return text


def parse_deliverable(value: str) -> Deliverable:
    """A deliverable by its value (report) or its label (报告)."""
    for member, label in DELIVERABLE_LABELS.items():
        if value in (member.value, label):
            return member
    raise Invalid(f"报送形式「{value}」无效，可选：{'、'.join(DELIVERABLE_LABELS.values())}")


def phase_for_day(session: Session, campaign_id: int, day: dt.date) -> Phase:
    """The phase running on `day` (the latest started, as the plan attributes a report), else the last
    phase started before it, else the first."""
    phases = list(session.scalars(select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.ordinal)))
    running = [p for p in phases if p.start_on <= day <= p.end_on]
    started = running or [p for p in phases if p.start_on <= day]
    return max(started, key=lambda p: p.start_on) if started else phases[0]


@dataclass(frozen=True)
class AddedWork:
    template_id: int
    assignment_ids: tuple[int, ...]


def add_work(
    session: Session,
    *,
    campaign: Campaign,
    key: str,
    phase: Phase,
    title: str,
    deliverable: Deliverable,
    departments: list[tuple[int, bool]],
    due_on: dt.date,
    today: dt.date,
    proposed_by_id: int | None = None,
) -> AddedWork:
    """A template outside the YAML and one assignment per (department id, is lead), due `due_on` (rolled to a
    working day). It opens at once when its phase has begun, so it is worked, reviewed, reminded and escalated
    like any task; a changed YAML never touches it (domain.plan.from_the_yaml)."""
    cal = campaign_calendar(stored_spec(campaign))
    template = TaskTemplate(
        campaign_id=campaign.id,
        key=key,
        phase_id=phase.id,
        title=title,
        deliverable=deliverable.value,
        review_required=True,
        required_count=1,
        ongoing=False,
        reported_in="",
        proposed_by_id=proposed_by_id,
    )
    session.add(template)
    session.flush()
    opens_on = max(phase.start_on, today)
    rows = [
        Assignment(
            campaign_id=campaign.id,
            template_id=template.id,
            department_id=department_id,
            phase_id=phase.id,
            period="",
            is_lead=is_lead,
            opens_on=opens_on,
            due_on=cal.next_workday(due_on),
            nominal_due_on=due_on,
            review_required=True,
            status=(AssignmentStatus.open if opens_on <= today else AssignmentStatus.scheduled).value,
            overdue_days=0,
            escalation_level=0,
            ongoing=False,
        )
        for department_id, is_lead in departments
    ]
    session.add_all(rows)
    session.flush()
    return AddedWork(template.id, tuple(r.id for r in rows))
