"""The progress boards, from the rollup table (one row per department, phase and day, written by the
tick) and, for the lists, from the assignments: board, heat map, trend, overdue list, a department's
drill-down and its reasons ("why"), and the 通报 lists.

Every board reads one day: `board_day`, the campaign's last tick day (the day the assignments'
overdue counts and escalations are computed for), and says so. Grades are domain.grading's one
rule everywhere: work not yet due is 未到期 (neutral), a cell with nothing assigned is 未布置
(blank, with that reason), a department with no supervised projects has no 核查比例 (无监管项目).

The office and leaders read every department; a department actor reads its own department's rows
(its board row, its trend, its overdue work), and asking for another department's drill-down is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.assignment import ASSIGNMENT, UNFINISHED, AssignmentStatus, SubmissionState
from domain.department import DEPARTMENT_KIND
from domain.extension import EXTENSION
from domain.grading import GRADE_REASONS
from domain.localtime import local_day
from domain.rollup import Counts, criticised, grade, praised, rate
from services.campaigns import get_campaign
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
from store.models import (
    Assignment,
    Campaign,
    Department,
    Escalation,
    ExtensionRequest,
    Phase,
    RollupSnapshot,
    Submission,
    TaskTemplate,
    User,
)

R = RollupSnapshot
COUNT_COLUMNS = ["assigned", "submitted", "accepted", "on_time", "overdue", "escalation_level", "due"]
NO_ESCALATION = "—"
NO_PROJECTS = "无监管项目"


@dataclass(frozen=True)
class BoardDay:
    """The one "as of" of every board: the campaign's last tick day and the rollup read for it."""

    ticked_on: dt.date | None  # the campaign's last tick day (None: never ticked)
    rollup_on: dt.date | None  # the snapshot the boards read (the tick day's, or the newest before it)

    @property
    def text(self) -> str:
        if self.ticked_on is None:
            return "尚未巡检，暂无进度数据"
        return f"数据截至 {self.ticked_on}（最近一次巡检）"


def simulated(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> bool:
    """A campaign run by the simulation (`campaign simulate`, the demo): its departments act through
    the simulated accounts services.simulation.enlist_simulated_people makes (sim-<code>). Only such
    a campaign may be ticked past today (the dashboard asks to confirm)."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    return bool(
        session.scalar(select(exists().where(User.campaign_code == campaign_code, User.username.like("sim-%"))))
    )


def board_day(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> BoardDay:
    """The day every board reads: the campaign's last tick day (not the viewer's today, which may be
    before or after it), with the rollup snapshot of that day."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    campaign = get_campaign(session, campaign_code)
    if campaign.last_tick_on is None:
        return BoardDay(None, None)
    day = session.scalar(
        select(func.max(R.as_of)).where(R.campaign_id == campaign.id, R.as_of <= campaign.last_tick_on)
    )
    return BoardDay(campaign.last_tick_on, day)


def rollup_day(
    session: Session, *, actor: Actor, campaign_code: str, as_of: dt.date, at: dt.datetime | None = None
) -> dt.date | None:
    """The newest rollup snapshot on or before `as_of` (None before the first tick)."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    return session.scalar(select(func.max(R.as_of)).where(R.campaign_id == cid, R.as_of <= as_of))


def _counts(row: dict[str, object]) -> Counts:
    return Counts(*(int(row[c]) for c in COUNT_COLUMNS))  # type: ignore[call-overload]


def _grades(df: pd.DataFrame) -> pd.DataFrame:
    """`grade` (domain.grading's label) and `grade_reason` for counted rows."""
    grades = [grade(_counts(r)) for r in df[COUNT_COLUMNS].to_dict("records")]
    df["grade"] = [g.value for g in grades]
    df["grade_reason"] = [GRADE_REASONS[g] for g in grades]
    return df


def _with_rates(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        for col in ("completion", "on_time_rate", "grade", "grade_reason", "not_due", "sampled_ratio", "sampled_text"):
            df[col] = pd.Series(dtype=object)
        return df
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"], strict=False)]
    df["on_time_rate"] = [rate(o, a) for o, a in zip(df["on_time"], df["accepted"], strict=False)]
    df["not_due"] = (df["assigned"] - df["due"]).clip(lower=0)
    df = _grades(df)
    if "projects_supervised" in df:
        df["sampled_ratio"] = [
            rate(s, n) if n else None for s, n in zip(df["projects_sampled"], df["projects_supervised"], strict=False)
        ]
        df["sampled_text"] = [f"{r * 100:.1f}%" if r is not None else NO_PROJECTS for r in df["sampled_ratio"]]
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
            R.due,
            R.projects_supervised,
            R.projects_sampled,
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
    departments: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Department × phase, every pair (a pair with nothing assigned is 未布置, not 0 %): assigned,
    due, accepted, overdue, completion, and the cell's grade with its reason. `departments` (codes): only
    those rows — the board shows a chosen few, and a national campaign's full grid is ~200,000 cells."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    chosen = Department.code.in_(departments) if departments is not None else true()
    cells = frame(
        session,
        select(
            Department.code,
            Department.name,
            Phase.title.label("phase"),
            Phase.ordinal,
            R.assigned,
            R.submitted,
            R.accepted,
            R.on_time,
            R.overdue,
            R.escalation_level,
            R.due,
        )
        .join(R, R.department_id == Department.id)
        .join(Phase, and_(Phase.campaign_id == R.campaign_id, Phase.key == R.phase_key))
        .where(R.campaign_id == cid, R.as_of == day, R.phase_key != "", kinds_filter(kinds), visible(actor), chosen),
    )
    grid = frame(
        session,
        select(Department.code, Department.name, Phase.title.label("phase"), Phase.ordinal)
        .join(Phase, Phase.campaign_id == Department.campaign_id)
        .where(Department.campaign_id == cid, kinds_filter(kinds), visible(actor), chosen)
        .order_by(Department.id, Phase.ordinal),
    )
    df = grid.merge(cells, on=["code", "name", "phase", "ordinal"], how="left")
    for col in COUNT_COLUMNS:
        df[col] = df[col].fillna(0).astype(int)
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"], strict=False)]
    return (
        _grades(df) if not df.empty else df.assign(grade=pd.Series(dtype=object), grade_reason=pd.Series(dtype=object))
    )


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
        .add_columns(Assignment.original_due_on)  # an approved extension's first deadline stays on record
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


@dataclass(frozen=True)
class DepartmentWhy:
    """Why a department stands where it does: its overdue work with days, returns with reasons,
    escalations, extensions and the 逾期原因 it gave (the drill-down's answer)."""

    overdue: pd.DataFrame  # task, phase, period, due_on, overdue_days, escalation
    returns: pd.DataFrame  # task, period, seq, returned_on, reason, status_label (now)
    escalations: pd.DataFrame  # task, period, name, level, reached_on, overdue_days, status_label (now)
    extensions: pd.DataFrame  # task, period, due_before, asked_until, reason, state_label, approved_until, decision
    late_reasons: pd.DataFrame  # task, period, due_on, submitted_on, late_reason

    @property
    def empty(self) -> bool:
        return all(f.empty for f in (self.overdue, self.returns, self.escalations, self.extensions, self.late_reasons))


def _task_columns():  # noqa: ANN202 - the columns naming an assignment in every list
    return (TaskTemplate.title.label("task"), Assignment.period, Assignment.due_on)


def _days(df: pd.DataFrame, column: str, into: str) -> pd.DataFrame:
    """A UTC instant column as the Beijing day it happened (what a person reads)."""
    df[into] = [local_day(v.to_pydatetime()) if pd.notna(v) else None for v in pd.to_datetime(df[column], utc=True)]
    return df


def department_why(
    session: Session, *, actor: Actor, campaign_code: str, department_code: str, at: dt.datetime | None = None
) -> DepartmentWhy:
    """The reasons behind a department's grade; a department actor may ask for its own only."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    scope = asked_department(
        actor=actor,
        at=at,
        action="board.department_why",
        campaign_code=campaign_code,
        department_code=department_code,
        what="任务",
    )
    cid = campaign_id(session, campaign_code)
    dept = select(Department.id).where(Department.campaign_id == cid, Department.code == scope).scalar_subquery()
    mine = (Assignment.campaign_id == cid, Assignment.department_id == dept)
    names = escalation_names(session, actor=actor, campaign_code=campaign_code, at=at)

    overdue = frame(
        session,
        select(*_task_columns(), Phase.title.label("phase"), Assignment.overdue_days, Assignment.escalation_level)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .join(Phase, Phase.id == Assignment.phase_id)
        .where(*mine, Assignment.status.in_(UNFINISHED), Assignment.overdue_days > 0)
        .order_by(Assignment.overdue_days.desc(), Assignment.due_on),
    )
    overdue["escalation"] = [
        names.get(int(lv), NO_ESCALATION) if lv else NO_ESCALATION for lv in overdue["escalation_level"]
    ]

    returns = frame(
        session,
        select(
            *_task_columns(),
            Submission.seq,
            Submission.reviewed_at,
            Submission.review_note.label("reason"),
            Assignment.status,
        )
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(*mine, Submission.state == SubmissionState.returned.value)
        .order_by(Submission.reviewed_at.desc()),
    )
    returns = _days(returns, "reviewed_at", "returned_on")
    returns["status_label"] = returns["status"].map(ASSIGNMENT.label)

    escalations = frame(
        session,
        select(
            *_task_columns(),
            Escalation.name,
            Escalation.level,
            Escalation.reached_on,
            Escalation.overdue_days,
            Assignment.status,
        )
        .join(Assignment, Assignment.id == Escalation.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(*mine)
        .order_by(Escalation.reached_on.desc(), Escalation.level.desc()),
    )
    escalations["status_label"] = escalations["status"].map(ASSIGNMENT.label)

    extensions = frame(
        session,
        select(
            *_task_columns(),
            ExtensionRequest.due_before,
            ExtensionRequest.asked_until,
            ExtensionRequest.reason,
            ExtensionRequest.state,
            ExtensionRequest.approved_until,
            ExtensionRequest.decision_reason,
        )
        .join(Assignment, Assignment.id == ExtensionRequest.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(*mine)
        .order_by(ExtensionRequest.requested_at.desc()),
    )
    extensions["state_label"] = extensions["state"].map(EXTENSION.label)

    late = frame(
        session,
        select(*_task_columns(), Submission.submitted_at, Submission.late_reason)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(*mine, Submission.late_reason.is_not(None), Submission.late_reason != "")
        .order_by(Submission.submitted_at.desc()),
    )
    late = _days(late, "submitted_at", "submitted_on")
    return DepartmentWhy(overdue, returns, escalations, extensions, late)
