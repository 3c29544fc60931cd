"""Reconcile a campaign to a date, step by step, with set-based SQL.

Each step is idempotent on its own (natural keys + ON CONFLICT DO NOTHING, or updates that only
set values computed from the date), so re-running a tick, or resuming one killed half-way,
changes nothing that was already right. Rules are computed once per distinct due date in the
domain and applied to every assignment sharing that date in one statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, and_, case, cast, delete, distinct, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from domain.rules import reminder_due, rungs_reached, standing
from services import rollup_extras
from services.campaigns import get_campaign, stored_spec
from domain.errors import Invalid
from services.holidays import campaign_calendar
from domain.assignment import ACTIVE, AssignmentStatus, UNFINISHED
from store.models import (
    Assignment,
    Campaign,
    Escalation,
    Outbox,
    Phase,
    RollupSnapshot,
)
from store.sql import insert_ignoring_duplicates


@dataclass(frozen=True)
class PhaseTick:
    campaign_id: int
    phase_id: int
    key: str
    kind: str
    title: str
    state: str
    needs_work: bool


@dataclass(frozen=True)
class StepCounts:
    opened: int = 0
    overdue_updated: int = 0
    escalations: int = 0
    reminders: int = 0

    def __add__(self, o: "StepCounts") -> "StepCounts":
        return StepCounts(self.opened + o.opened, self.overdue_updated + o.overdue_updated,
                          self.escalations + o.escalations, self.reminders + o.reminders)


def _phase_state(start: dt.date, end: dt.date, as_of: dt.date) -> str:
    return "pending" if as_of < start else ("open" if as_of <= end else "closed")


def check_tick_date(session: Session, campaign_code: str, as_of: dt.date) -> None:
    """A campaign moves forward only: re-ticking its last day is fine, an earlier day is refused
    (escalations and reminders already recorded cannot be taken back)."""
    _refuse_earlier_day(get_campaign(session, campaign_code), as_of)


def _refuse_earlier_day(campaign: Campaign, as_of: dt.date) -> None:
    if campaign.last_tick_on is not None and as_of < campaign.last_tick_on:
        raise Invalid(f"专项行动 {campaign.code} 已推进到 {campaign.last_tick_on}，不能再推进到更早的日期 {as_of}")


def sync_phases(session: Session, campaign_code: str, as_of: dt.date) -> list[PhaseTick]:
    """Open and close phases for the date; say which phases have assignments to look after."""
    campaign = get_campaign(session, campaign_code)
    _refuse_earlier_day(campaign, as_of)
    out: list[PhaseTick] = []
    for phase in session.scalars(select(Phase).where(Phase.campaign_id == campaign.id).order_by(Phase.ordinal)):
        state = _phase_state(phase.start_on, phase.end_on, as_of)
        if phase.state != state:
            phase.state = state
        live = session.scalar(
            select(
                exists().where(
                    Assignment.phase_id == phase.id,
                    or_(
                        and_(Assignment.status == AssignmentStatus.scheduled.value, Assignment.opens_on <= as_of),
                        Assignment.status.in_(UNFINISHED),
                    ),
                )
            )
        )
        out.append(PhaseTick(campaign.id, phase.id, phase.key, phase.kind, phase.title, state, bool(live) or state == "open"))
    session.flush()
    return out


def open_assignments(session: Session, phase: PhaseTick, as_of: dt.date) -> int:
    return session.execute(
        update(Assignment)
        .where(
            Assignment.phase_id == phase.phase_id,
            Assignment.status == AssignmentStatus.scheduled.value,
            Assignment.opens_on <= as_of,
        )
        .values(status=AssignmentStatus.open.value)
        .execution_options(synchronize_session=False)
    ).rowcount


def _unfinished_due_dates(session: Session, phase: PhaseTick) -> list[dt.date]:
    return list(
        session.scalars(
            select(distinct(Assignment.due_on)).where(
                Assignment.phase_id == phase.phase_id, Assignment.status.in_(UNFINISHED)
            )
        )
    )


def _unfinished_on(phase: PhaseTick, due_on: dt.date):  # noqa: ANN202
    return (Assignment.phase_id == phase.phase_id, Assignment.due_on == due_on, Assignment.status.in_(UNFINISHED))


def mark_overdue(session: Session, phase: PhaseTick, as_of: dt.date, campaign_code: str) -> int:
    cal = campaign_calendar(stored_spec(get_campaign(session, campaign_code)))
    changed = 0
    for due_on in _unfinished_due_dates(session, phase):
        days = standing(due_on, as_of, cal).overdue_working_days
        changed += session.execute(
            update(Assignment)
            .where(*_unfinished_on(phase, due_on), Assignment.overdue_days != days)
            .values(overdue_days=days)
            .execution_options(synchronize_session=False)
        ).rowcount
    return changed


def record_escalations(session: Session, phase: PhaseTick, as_of: dt.date, campaign_code: str) -> int:
    spec = stored_spec(get_campaign(session, campaign_code))
    cal = campaign_calendar(spec)
    created = 0
    for due_on in _unfinished_due_dates(session, phase):
        days = standing(due_on, as_of, cal).overdue_working_days
        for rung in rungs_reached(days, spec.escalation):
            created += insert_ignoring_duplicates(
                session,
                Escalation.__table__,
                ["campaign_id", "assignment_id", "level", "name", "overdue_days", "reached_on"],
                select(Assignment.campaign_id, Assignment.id, literal(rung.level), literal(rung.name),
                       literal(days), literal(as_of)).where(*_unfinished_on(phase, due_on)),
                ["assignment_id", "level"],
            )
            for audience in rung.notify:
                key = literal(f"esc:{rung.level}:{audience.value}:", String) + cast(Assignment.id, String)
                insert_ignoring_duplicates(
                    session,
                    Outbox.__table__,
                    ["campaign_id", "natural_key", "kind", "assignment_id", "department_id", "audience", "level",
                     "created_on", "state"],
                    select(Assignment.campaign_id, key, literal("escalation"), Assignment.id, Assignment.department_id,
                           literal(audience.value), literal(rung.level), literal(as_of), literal("pending"))
                    .where(*_unfinished_on(phase, due_on)),
                    ["natural_key"],
                )
            session.execute(
                update(Assignment)
                .where(*_unfinished_on(phase, due_on), Assignment.escalation_level < rung.level)
                .values(escalation_level=rung.level)
                .execution_options(synchronize_session=False)
            )
    return created


def record_reminders(session: Session, phase: PhaseTick, as_of: dt.date, campaign_code: str) -> int:
    spec = stored_spec(get_campaign(session, campaign_code))
    cal = campaign_calendar(spec)
    created = 0
    for due_on in _unfinished_due_dates(session, phase):
        reminder = reminder_due(due_on, as_of, spec.reminders, cal)
        if reminder is None:
            continue
        key = literal(f"rem:{reminder.key}:", String) + cast(Assignment.id, String)
        created += insert_ignoring_duplicates(
            session,
            Outbox.__table__,
            ["campaign_id", "natural_key", "kind", "assignment_id", "department_id", "audience", "level",
             "created_on", "state"],
            select(Assignment.campaign_id, key, literal(reminder.kind), Assignment.id, Assignment.department_id,
                   literal("department"), literal(0), literal(as_of), literal("pending"))
            .where(*_unfinished_on(phase, due_on)),
            ["natural_key"],
        )
        session.execute(
            update(Assignment)
            .where(*_unfinished_on(phase, due_on),
                   or_(Assignment.last_reminder_on.is_(None), Assignment.last_reminder_on < as_of))
            .values(last_reminder_on=as_of)
            .execution_options(synchronize_session=False)
        )
    return created


def _count(cond) -> object:  # noqa: ANN001
    return func.sum(case((cond, 1), else_=0))


def write_rollup(session: Session, campaign_code: str, as_of: dt.date) -> int:
    """Counts per department × phase, plus a department total (phase_key ''), for the date."""
    campaign = get_campaign(session, campaign_code)
    session.execute(
        delete(RollupSnapshot).where(RollupSnapshot.campaign_id == campaign.id, RollupSnapshot.as_of == as_of)
    )
    counts = [
        _count(Assignment.status.in_(ACTIVE)),
        _count(Assignment.status.in_((AssignmentStatus.submitted.value, AssignmentStatus.accepted.value))),
        _count(Assignment.status == AssignmentStatus.accepted.value),
        _count(and_(Assignment.status == AssignmentStatus.accepted.value, Assignment.on_time.is_(True))),
        _count(and_(Assignment.status.in_(UNFINISHED), Assignment.overdue_days > 0)),
        # the standing escalation of work still outstanding; the history stays in `escalation`
        func.max(case((Assignment.status.in_(UNFINISHED), Assignment.escalation_level), else_=0)),
    ]
    columns = ["campaign_id", "as_of", "department_id", "phase_key",
               "assigned", "submitted", "accepted", "on_time", "overdue", "escalation_level"]
    written = 0
    per_phase = (
        select(Assignment.campaign_id, literal(as_of), Assignment.department_id, Phase.key, *counts)
        .join(Phase, Phase.id == Assignment.phase_id)
        .where(Assignment.campaign_id == campaign.id)
        .group_by(Assignment.campaign_id, Assignment.department_id, Phase.key)
    )
    totals = (
        select(Assignment.campaign_id, literal(as_of), Assignment.department_id, literal(""), *counts)
        .where(Assignment.campaign_id == campaign.id)
        .group_by(Assignment.campaign_id, Assignment.department_id)
    )
    for query in (per_phase, totals):
        written += insert_ignoring_duplicates(
            session, RollupSnapshot.__table__, columns, query,
            ["campaign_id", "as_of", "department_id", "phase_key"],
        )
    rollup_extras.add_work_counts(session, campaign_code, as_of)  # problems, projects, leads columns
    return written


def finish_tick(session: Session, campaign_code: str, as_of: dt.date) -> None:
    campaign = get_campaign(session, campaign_code)
    if campaign.last_tick_on is None or campaign.last_tick_on < as_of:
        campaign.last_tick_on = as_of


def tick_without_prefect(session: Session, campaign_code: str, as_of: dt.date) -> StepCounts:
    """Every step of flows.campaign_flows.tick in the caller's session, in the flow's order, for
    simulations, tests and benchmarks that need the tick's effect but not the engine. Ticks in
    production run as the flow (a task and a commit per step)."""
    from services.projects import draw_verification_samples  # projects does not depend on ticking

    counts = StepCounts()
    for phase in sync_phases(session, campaign_code, as_of):
        if not phase.needs_work:
            continue
        if phase.kind == "verification":
            draw_verification_samples(session, campaign_code, as_of)
        counts = counts + StepCounts(
            open_assignments(session, phase, as_of),
            mark_overdue(session, phase, as_of, campaign_code),
            record_escalations(session, phase, as_of, campaign_code),
            record_reminders(session, phase, as_of, campaign_code),
        )
    write_rollup(session, campaign_code, as_of)
    finish_tick(session, campaign_code, as_of)
    return counts
