"""The progress boards, from the rollup table (one row per department, phase and day, written by the
tick) and, for the lists, from the assignments: board, heat map, trend, overdue list, a department's
drill-down, and the 通报 lists.

The office and leaders read every department; a department actor reads its own department's rows
(its board row, its trend, its overdue work), and asking for another department's drill-down is refused.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.assignment import ASSIGNMENT, UNFINISHED, AssignmentStatus
from domain.department import DEPARTMENT_KIND
from domain.rollup import Counts, criticised, grade, praised, rate
from services.plan_shapes import progress_labels
from services.views.campaigns import escalation_names
from services.views.common import (
    Kinds,
    asked_department,
    campaign_id,
    frame,
    kinds_filter,
    own_department,
    reader,
    visible,
)
from store.models import Assignment, Campaign, Department, Phase, RollupSnapshot, TaskTemplate

R = RollupSnapshot
COUNT_COLUMNS = ["assigned", "submitted", "accepted", "on_time", "overdue", "escalation_level"]
NO_ESCALATION = "—"


def rollup_day(
    session: Session, *, actor: Actor, campaign_code: str, as_of: dt.date, at: dt.datetime | None = None
) -> dt.date | None:
    """The newest rollup snapshot on or before `as_of` (None before the first tick)."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    return session.scalar(select(func.max(R.as_of)).where(R.campaign_id == cid, R.as_of <= as_of))


def _counts(row: dict[str, object]) -> Counts:
    return Counts(*(int(row[c]) for c in COUNT_COLUMNS))  # type: ignore[call-overload]


def _with_rates(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        for col in ("completion", "on_time_rate", "grade"):
            df[col] = pd.Series(dtype=object)
        return df
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"], strict=False)]
    df["on_time_rate"] = [rate(o, a) for o, a in zip(df["on_time"], df["accepted"], strict=False)]
    df["grade"] = [grade(_counts(r)).value for r in df[COUNT_COLUMNS].to_dict("records")]
    return df


def department_board(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    day: dt.date | None,
    phase_key: str = "",
    kinds: Kinds = None,
    at: dt.datetime | None = None,
) -> pd.DataFrame:
    """One row per department from the rollup snapshot of `day` (phase '' = all phases)."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    df = frame(
        session,
        select(
            Department.code,
            Department.name,
            Department.kind,
            R.assigned,
            R.submitted,
            R.accepted,
            R.on_time,
            R.overdue,
            R.escalation_level,
        )
        .join(R, R.department_id == Department.id)
        .where(R.campaign_id == cid, R.as_of == day, R.phase_key == phase_key, kinds_filter(kinds), visible(actor))
        .order_by(Department.id),
    )
    df["kind_label"] = df["kind"].map(DEPARTMENT_KIND.label)
    return _with_rates(df)


def heatmap(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    day: dt.date | None,
    kinds: Kinds = None,
    at: dt.datetime | None = None,
) -> pd.DataFrame:
    """Department × phase: assigned, accepted, overdue and completion rate."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    df = frame(
        session,
        select(
            Department.code,
            Department.name,
            Phase.title.label("phase"),
            Phase.ordinal,
            R.assigned,
            R.accepted,
            R.overdue,
        )
        .join(R, R.department_id == Department.id)
        .join(Phase, and_(Phase.campaign_id == R.campaign_id, Phase.key == R.phase_key))
        .where(R.campaign_id == cid, R.as_of == day, R.phase_key != "", kinds_filter(kinds), visible(actor)),
    )
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"], strict=False)]
    return df


def trend(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    phase_key: str = "",
    kinds: Kinds = None,
    at: dt.datetime | None = None,
) -> pd.DataFrame:
    """Totals per rollup day (a department actor: its own department's)."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    q = select(
        R.as_of,
        func.sum(R.assigned).label("assigned"),
        func.sum(R.submitted).label("submitted"),
        func.sum(R.accepted).label("accepted"),
        func.sum(R.on_time).label("on_time"),
        func.sum(R.overdue).label("overdue"),
    ).where(R.campaign_id == cid, R.phase_key == phase_key)
    if kinds or own_department(actor) is not None:  # join departments only when a department column is asked about
        q = q.join(Department, Department.id == R.department_id).where(kinds_filter(kinds), visible(actor))
    df = frame(session, q.group_by(R.as_of).order_by(R.as_of))
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"], strict=False)]
    return df


def _assignment_rows():  # noqa: ANN202 - a Select with many columns
    return (
        select(
            Assignment.id,
            Department.code,
            Department.name,
            Phase.title.label("phase"),
            TaskTemplate.title.label("task"),
            Assignment.period,
            Assignment.due_on,
            Assignment.status,
            Assignment.overdue_days,
            Assignment.escalation_level,
            Assignment.on_time,
        )
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(Department, Department.id == Assignment.department_id)
        .join(Phase, Phase.id == Assignment.phase_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
    )


def overdue(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    phase_key: str = "",
    kinds: Kinds = None,
    limit: int = 500,
    at: dt.datetime | None = None,
) -> pd.DataFrame:
    """Unfinished overdue assignments (as of the last tick), worst first, with the escalation's name."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    q = _assignment_rows().where(
        Campaign.code == campaign_code,
        Assignment.status.in_(UNFINISHED),
        Assignment.overdue_days > 0,
        kinds_filter(kinds),
        visible(actor),
    )
    if phase_key:
        q = q.where(Phase.key == phase_key)
    df = frame(
        session,
        q.order_by(Assignment.escalation_level.desc(), Assignment.overdue_days.desc(), Department.code).limit(limit),
    )
    names = escalation_names(session, actor=actor, campaign_code=campaign_code, at=at)
    df["status_label"] = df["status"].map(ASSIGNMENT.label)
    df["escalation"] = df["escalation_level"].map(lambda lv: names.get(int(lv), NO_ESCALATION) if lv else NO_ESCALATION)
    return df


def department_assignments(
    session: Session, *, actor: Actor, campaign_code: str, department_code: str, at: dt.datetime | None = None
) -> pd.DataFrame:
    """A department's tasks (the drill-down); a department actor may ask for its own only."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    scope = asked_department(
        actor=actor,
        at=at,
        action="board.department_assignments",
        campaign_code=campaign_code,
        department_code=department_code,
        what="任务",
    )
    df = frame(
        session,
        _assignment_rows()
        .where(
            Campaign.code == campaign_code,
            Department.code == scope,
            Assignment.status != AssignmentStatus.cancelled.value,
        )
        .order_by(Assignment.due_on, TaskTemplate.key, Assignment.period),
    )
    df["status_label"] = df["status"].map(ASSIGNMENT.label)
    progress = progress_labels(session, df["id"])  # 1/2 for a counted task, 持续推进 for an ongoing duty
    df["progress"] = [progress.get(int(i), "") for i in df["id"]]
    return df


def bulletin_lists(
    session: Session, *, actor: Actor, campaign_code: str, day: dt.date | None, at: dt.datetime | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(praise, criticise) by domain.rollup's 通报 rules, from the rollup of `day`."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    board = department_board(session, actor=actor, campaign_code=campaign_code, day=day, at=at)
    if board.empty:
        return board, board
    counts = [_counts(r) for r in board[COUNT_COLUMNS].to_dict("records")]
    praise = board[[praised(c) for c in counts]]
    criticise = board[[criticised(c) for c in counts]].sort_values(["escalation_level", "overdue"], ascending=False)
    return praise, criticise
