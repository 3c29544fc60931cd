"""Reconcile a campaign to a date, step by step, with set-based SQL — and the one composition of
those steps (`tick`).

Each step is idempotent on its own (natural keys + ON CONFLICT DO NOTHING, or updates that only
set values computed from the date), so re-running a tick, or resuming one killed half-way,
changes nothing that was already right. Rules are computed once per distinct due date in the
domain and applied to every assignment sharing that date in one statement.

`tick(run, ...)` is the only place the steps are put in order. `run` decides how one named step
is executed: the Prefect flow (flows.campaign_flows) runs each as a named task in its own unit of
work; the tests run each in a unit of work of their own. A step that changed something writes one
audit entry (counts and a digest of the affected ids) in its own transaction, and every tick
writes one entry for itself.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Executable,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from domain.access import Actor, can_administer
from domain.assignment import ACTIVE, UNFINISHED, AssignmentStatus
from domain.calendar import WorkingCalendar
from domain.delivery import OutboxKind
from domain.errors import Invalid
from domain.rules import reminder_due, rungs_reached, standing
from services import rollup_extras
from services.campaigns import get_campaign, stored_spec
from services.delivery.events import owe_set
from services.delivery.in_app import deliver_in_app
from services.duban import issue_dubans
from services.guard import check, resolve
from services.holidays import campaign_calendar
from services.projects import draw_verification_samples
from services.risk.screening import risk_tick
from services.scoring import write_scores
from services.supervision.acknowledge import owe_acknowledge_reminders
from store import audit
from store.models import (
    Assignment,
    AuditEntry,
    Campaign,
    Escalation,
    Phase,
    RollupSnapshot,
)
from store.sql import (
    BULK_ROWS,
    OF_CAMPAIGN,
    ON_DAY,
    TICKED_TABLES,
    campaign_day,
    chosen_by,
    insert_ignoring_duplicates,
    insert_select_ignoring,
    refresh_statistics,
    run_counting_inserted,
    table_of,
)

T = TypeVar("T")
# The steps' updates are Core statements on the table: they return a column of ids for the audit digest, and
# the ORM's bulk-update path costs ~0.1 s more per 60,000 rows for nothing (no objects are loaded or kept).
_ASSIGNMENT = table_of(Assignment)


class StepRunner(Protocol):
    """Runs one named tick step against a session and returns its result (committing it)."""

    def __call__(self, name: str, step: Callable[[Session], T], /) -> T: ...


@dataclass(frozen=True)
class PhaseTick:
    campaign_id: int
    phase_id: int
    key: str
    kind: str
    title: str
    state: str
    needs_work: bool
    draws_samples: bool = False  # the YAML's sampling.phase names this phase (not inferred from its kind)


@dataclass(frozen=True)
class StepCounts:
    opened: int = 0
    overdue_updated: int = 0
    escalations: int = 0
    reminders: int = 0
    samples_drawn: int = 0

    def __add__(self, o: StepCounts) -> StepCounts:
        return StepCounts(
            self.opened + o.opened,
            self.overdue_updated + o.overdue_updated,
            self.escalations + o.escalations,
            self.reminders + o.reminders,
            self.samples_drawn + o.samples_drawn,
        )


@dataclass(frozen=True)
class TickSummary:
    campaign: str
    as_of: dt.date
    phases: dict[str, str] = field(default_factory=dict)  # key -> state
    counts: StepCounts = StepCounts()
    rollup_rows: int = 0
    unchanged: bool = False  # a re-tick with nothing recorded since the last tick (repeat_of_last_tick)


@dataclass(frozen=True)
class TickContext:
    """Who ticks which campaign to which day, and when (for the audit entries)."""

    campaign_code: str
    as_of: dt.date
    actor: Actor
    at: dt.datetime


def _phase_state(start: dt.date, end: dt.date, as_of: dt.date) -> str:
    return "pending" if as_of < start else ("open" if as_of <= end else "closed")


def check_tick_date(session: Session, campaign_code: str, as_of: dt.date) -> None:
    """A campaign moves forward only: re-ticking its last day is fine, an earlier day is refused
    (escalations and reminders already recorded cannot be taken back)."""
    _refuse_earlier_day(get_campaign(session, campaign_code), as_of)


def _refuse_earlier_day(campaign: Campaign, as_of: dt.date) -> None:
    if campaign.last_tick_on is not None and as_of < campaign.last_tick_on:
        raise Invalid(f"专项行动 {campaign.code} 已推进到 {campaign.last_tick_on}，不能再推进到更早的日期 {as_of}")


def _audit_step(session: Session, ctx: TickContext, step: str, ids: list[int], **details: object) -> None:
    if not ids and not details.get("changed"):
        return
    details.pop("changed", None)
    audit.record(
        session,
        at=ctx.at,
        actor=ctx.actor,
        action=f"tick.{step}",
        entity="campaign",
        entity_key=ctx.campaign_code,
        after={"as_of": ctx.as_of.isoformat(), "count": len(ids), "ids_sha256": audit.ids_digest(ids), **details},
    )


TICK_ACTION = "campaign.tick"  # the check, and the entry a finished tick writes last


def _may_tick(session: Session, ctx: TickContext) -> Campaign:
    """The acting user may tick (the office, or the system), and the day is not before the last one."""
    actor = resolve(session, ctx.actor, at=ctx.at)
    check(
        can_administer(actor),
        actor=actor,
        at=ctx.at,
        action=TICK_ACTION,
        entity="campaign",
        entity_key=ctx.campaign_code,
        label="推进专项行动",
    )
    campaign = get_campaign(session, ctx.campaign_code)
    _refuse_earlier_day(campaign, ctx.as_of)
    return campaign


def repeat_of_last_tick(session: Session, ctx: TickContext) -> TickSummary | None:
    """A re-tick of the campaign's last day with nothing recorded since that tick finished: the newest
    entry of the audit (every change and every refusal is one) is that tick's own. Every step would
    find its work done, so the tick is recorded again, as unchanged, and nothing else is read or
    written. Anything recorded since (a submission, an account, another campaign's tick), or a tick
    that did not finish, makes it a full tick. Returns None then."""
    campaign = _may_tick(session, ctx)
    if campaign.last_tick_on != ctx.as_of:
        return None
    newest = session.execute(
        select(AuditEntry.action, AuditEntry.entity_key, AuditEntry.outcome, AuditEntry.after_json)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if newest is None or (newest.action, newest.entity_key, newest.outcome) != (TICK_ACTION, ctx.campaign_code, "ok"):
        return None
    last = json.loads(newest.after_json or "{}")
    if last.get("as_of") != ctx.as_of.isoformat():
        return None
    phases: dict[str, str] = last.get("phases", {})
    rows = int(last.get("rollup_rows", 0))
    _record_tick(session, ctx, phases, StepCounts(), rows, unchanged=True)
    return TickSummary(ctx.campaign_code, ctx.as_of, phases, StepCounts(), rows, unchanged=True)


def sync_phases(session: Session, ctx: TickContext) -> list[PhaseTick]:
    """Open and close phases for the date; say which phases have assignments to look after."""
    campaign = _may_tick(session, ctx)
    spec = stored_spec(campaign)
    as_of = ctx.as_of
    out: list[PhaseTick] = []
    moved: dict[str, str] = {}
    moved_ids: list[int] = []
    for phase in session.scalars(select(Phase).where(Phase.campaign_id == campaign.id).order_by(Phase.ordinal)):
        state = _phase_state(phase.start_on, phase.end_on, as_of)
        if phase.state != state:
            moved[phase.key] = f"{phase.state}→{state}"
            moved_ids.append(phase.id)
            phase.state = state
        live = _has_live_work(session, phase.id, as_of)
        out.append(
            PhaseTick(
                campaign.id,
                phase.id,
                phase.key,
                phase.kind,
                phase.title,
                state,
                bool(live) or state == "open",
                spec.draws_samples(phase.key),
            )
        )
    session.flush()
    _audit_step(session, ctx, "phases", moved_ids, phases=moved)
    return out


def _has_live_work(session: Session, phase_id: int, as_of: dt.date) -> bool:
    """Whether the phase has open or returned work, or work due to open by `as_of`. Two index lookups (the
    unfinished rows; the earliest opening day of the scheduled ones), never a scan of the table: one EXISTS
    over both conditions was planned as a sequential scan, which for a phase whose work all opens later reads
    every assignment of every campaign."""
    if session.scalar(_ANY_UNFINISHED, {"phase_id": phase_id}):
        return True
    first_opening = session.scalar(_FIRST_OPENING, {"phase_id": phase_id})
    return first_opening is not None and first_opening <= as_of


def open_assignments(session: Session, ctx: TickContext, phase: PhaseTick) -> int:
    ids = list(
        session.scalars(
            update(_ASSIGNMENT)
            .where(
                _ASSIGNMENT.c.phase_id == phase.phase_id,
                _ASSIGNMENT.c.status == AssignmentStatus.scheduled.value,
                _ASSIGNMENT.c.opens_on <= ctx.as_of,
            )
            .values(status=AssignmentStatus.open.value)
            .returning(_ASSIGNMENT.c.id)
        )
    )
    _audit_step(session, ctx, "open", ids, phase=phase.key)
    return len(ids)


# Built once (construction and SQLAlchemy's cache key are memoized on the object): these run for every phase on
# every tick, ~2,700 times in a simulated campaign, and building them cost more than running them.
_UNFINISHED_DUE_DATES = select(distinct(Assignment.due_on)).where(
    Assignment.phase_id == bindparam("phase_id"), Assignment.status.in_(UNFINISHED), Assignment.ongoing.is_(False)
)
_ANY_UNFINISHED = select(
    exists().where(Assignment.phase_id == bindparam("phase_id"), Assignment.status.in_(UNFINISHED))
)
_FIRST_OPENING = select(func.min(Assignment.opens_on)).where(
    Assignment.phase_id == bindparam("phase_id"), Assignment.status == AssignmentStatus.scheduled.value
)


def _unfinished_due_dates(session: Session, phase: PhaseTick) -> list[dt.date]:
    return list(session.scalars(_UNFINISHED_DUE_DATES, {"phase_id": phase.phase_id}))


def _unfinished_due_in(phase: PhaseTick, due_dates: list[dt.date]):  # noqa: ANN202
    # An ongoing duty's due_on is how long it lasts, not a deadline: it is never overdue, escalated or reminded.
    return (
        _ASSIGNMENT.c.phase_id == phase.phase_id,
        _ASSIGNMENT.c.due_on.in_(due_dates),
        _ASSIGNMENT.c.status.in_(UNFINISHED),
        _ASSIGNMENT.c.ongoing.is_(False),
    )


# The rules are worked out in Python once per distinct due date; each step then writes every due date it
# concerns in one statement, the per-date values chosen by a CASE on due_on (store.sql.chosen_by): a handful of
# statements a phase whatever the number of deadlines (issue 15: ~75 a phase at 500 departments before).


def _days_overdue(session: Session, phase: PhaseTick, as_of: dt.date, cal: WorkingCalendar) -> dict[dt.date, int]:
    """Working days overdue on `as_of`, for each due date the phase still has unfinished work on."""
    return {due: standing(due, as_of, cal).overdue_working_days for due in _unfinished_due_dates(session, phase)}


def _set_per_due_date(
    session: Session,
    phase: PhaseTick,
    column: str,
    values: dict[dt.date, int],
    *,
    where: Callable[[ColumnElement[int], ColumnElement[int]], ColumnElement[bool]],
) -> list[int]:
    """Set `column` of the phase's unfinished work due on each date to that date's value, on the rows where
    `where(column, value)` holds (so a re-tick writes nothing), in one statement; returns the ids written."""
    if not values:
        return []
    value = chosen_by(_ASSIGNMENT.c.due_on, values)
    target = _ASSIGNMENT.c[column]
    return list(
        session.scalars(
            update(_ASSIGNMENT)
            .where(*_unfinished_due_in(phase, list(values)), where(target, value))
            .values({column: value})
            .returning(_ASSIGNMENT.c.id)
        )
    )


def mark_overdue(session: Session, ctx: TickContext, phase: PhaseTick) -> int:
    cal = campaign_calendar(stored_spec(get_campaign(session, ctx.campaign_code)))
    days = _days_overdue(session, phase, ctx.as_of, cal)
    ids = _set_per_due_date(session, phase, "overdue_days", days, where=operator.ne)
    _audit_step(session, ctx, "overdue", ids, phase=phase.key)
    return len(ids)


def _owe_messages(
    session: Session,
    phase: PhaseTick,
    due_dates: list[dt.date],
    as_of: dt.date,
    *,
    natural_key: ColumnElement[str],
    kind: OutboxKind,
    audience: str,
    level: int,
    still_owed: ColumnElement[bool],
) -> int:
    """One outbox row per unfinished assignment of the phase due on one of `due_dates` that `still_owed`
    selects (the rows this step has not marked done yet, so a re-tick of the day reads no more than it must;
    natural key: the prefix `natural_key` gives the row + the assignment id, so nothing is owed twice); returns
    the rows added."""
    return owe_set(
        session,
        natural_key=natural_key + cast(_ASSIGNMENT.c.id, String),
        kind=kind.value,
        campaign_id=_ASSIGNMENT.c.campaign_id,
        assignment_id=_ASSIGNMENT.c.id,
        department_id=_ASSIGNMENT.c.department_id,
        audience=audience,
        level=level,
        event_on=as_of,
        chases=False,  # the tick's kinds chase by their kind (domain.delivery.CHASING_KINDS)
        where=and_(*_unfinished_due_in(phase, due_dates), still_owed),
    )


def record_escalations(session: Session, ctx: TickContext, phase: PhaseTick) -> int:
    """New rungs of the escalation ladder, and their notifications, rung by rung up the ladder for every due date
    that reached the rung; then each assignment's level raised once, to the highest rung its due date reached.
    The audit digest is over the assignments raised (the rows whose escalation level this step changed)."""
    spec = stored_spec(get_campaign(session, ctx.campaign_code))
    cal = campaign_calendar(spec)
    as_of = ctx.as_of
    days = _days_overdue(session, phase, as_of, cal)
    rungs = {due: rungs_reached(n, spec.escalation) for due, n in days.items()}
    created = 0
    for rung in spec.escalation:  # the ladder's order: a row reaching two rungs today gets both, lower first
        reached = {due: days[due] for due, reached_rungs in rungs.items() if rung in reached_rungs}
        if not reached:
            continue
        dues = list(reached)
        # Below the rung until this step raises it: a re-tick of the day selects nothing here.
        below = _ASSIGNMENT.c.escalation_level < rung.level
        created += insert_ignoring_duplicates(
            session,
            table_of(Escalation),
            ["campaign_id", "assignment_id", "level", "name", "overdue_days", "reached_on"],
            select(
                _ASSIGNMENT.c.campaign_id,
                _ASSIGNMENT.c.id,
                literal(rung.level),
                literal(rung.name),
                chosen_by(_ASSIGNMENT.c.due_on, reached),
                literal(as_of),
            ).where(*_unfinished_due_in(phase, dues), below),
            ["assignment_id", "level"],
        )
        for audience in rung.notify:
            _owe_messages(
                session,
                phase,
                dues,
                as_of,
                natural_key=literal(f"esc:{rung.level}:{audience.value}:", String),
                kind=OutboxKind.escalation,
                audience=audience.value,
                level=rung.level,
                still_owed=below,
            )
    # One update a row, after the rungs' rows are written (each selected the rows still below its own level):
    # raising a row rung by rung wrote it once per rung, and on PostgreSQL every write after the first in one
    # transaction re-runs the row's four foreign-key checks (3.6 s of a 10.7 s step at 2,000 departments).
    top = {due: max(r.level for r in reached) for due, reached in rungs.items() if reached}
    raised = _set_per_due_date(session, phase, "escalation_level", top, where=operator.lt)
    _audit_step(session, ctx, "escalate", raised, phase=phase.key, escalations=created, changed=created > 0)
    return created


def record_reminders(session: Session, ctx: TickContext, phase: PhaseTick) -> int:
    """Reminders planned for the day (the outbox rows the delivery sends), one statement per kind of reminder
    for all the due dates it falls on today (each date's own key, chosen by a CASE). The audit digest is over
    the assignments stamped as reminded today."""
    spec = stored_spec(get_campaign(session, ctx.campaign_code))
    cal = campaign_calendar(spec)
    as_of = ctx.as_of
    by_kind: dict[str, dict[dt.date, str]] = {}  # kind -> due date -> the natural key's prefix
    for due_on in _unfinished_due_dates(session, phase):
        reminder = reminder_due(due_on, as_of, spec.reminders, cal)
        if reminder is not None:
            by_kind.setdefault(reminder.kind, {})[due_on] = f"rem:{reminder.key}:"
    # Not yet reminded today until this step stamps it: a re-tick of the day selects nothing here.
    unstamped = or_(_ASSIGNMENT.c.last_reminder_on.is_(None), _ASSIGNMENT.c.last_reminder_on < as_of)
    created = 0
    for kind, prefixes in sorted(by_kind.items()):
        created += _owe_messages(
            session,
            phase,
            list(prefixes),
            as_of,
            natural_key=chosen_by(_ASSIGNMENT.c.due_on, prefixes, String()),
            kind=OutboxKind(kind),
            audience="department",
            level=0,
            still_owed=unstamped,
        )
    stamped: list[int] = []
    if by_kind:
        reminded = [due for prefixes in by_kind.values() for due in prefixes]
        stamped = list(
            session.scalars(
                update(_ASSIGNMENT)
                .where(*_unfinished_due_in(phase, reminded), unstamped)
                .values(last_reminder_on=as_of)
                .returning(_ASSIGNMENT.c.id)
            )
        )
    _audit_step(session, ctx, "remind", stamped, phase=phase.key, reminders=created, changed=created > 0)
    return created


def remind_unsigned(session: Session, ctx: TickContext) -> int:
    """签收提醒: once per assignment still unsigned after the YAML's `acknowledge_within_working_days`."""
    ids = owe_acknowledge_reminders(session, ctx.campaign_code, ctx.as_of)
    _audit_step(session, ctx, "acknowledge", ids)
    return len(ids)


def draw_samples(session: Session, ctx: TickContext, phase: PhaseTick) -> int:
    """重点核查: each department's sample (drawn once; services.projects audits each draw)."""
    return draw_verification_samples(session, ctx.campaign_code, ctx.as_of)


def _count(cond) -> object:  # noqa: ANN001
    return func.sum(case((cond, 1), else_=0))


# The rollup INSERT … SELECTs' columns, in the order their SELECTs list them.
_ROLLUP_COLUMNS = [*rollup_extras.ROLLUP_KEY, *rollup_extras.TASK_COUNTS, "due"]
_DELETE_ROLLUP = delete(RollupSnapshot).where(RollupSnapshot.campaign_id == OF_CAMPAIGN, RollupSnapshot.as_of == ON_DAY)


@cache
def _rollup_inserts(dialect: str) -> tuple[Executable, Executable]:
    """The rollup's two INSERT … SELECTs (per department × phase; per department, phase_key ''), built once per
    database: their construction cost more than running them for a campaign of a few hundred assignments."""
    counts = [
        _count(Assignment.status.in_(ACTIVE)),
        _count(Assignment.status.in_((AssignmentStatus.submitted.value, AssignmentStatus.accepted.value))),
        _count(Assignment.status == AssignmentStatus.accepted.value),
        _count(and_(Assignment.status == AssignmentStatus.accepted.value, Assignment.on_time.is_(True))),
        _count(and_(Assignment.status.in_(UNFINISHED), Assignment.overdue_days > 0)),
        # the standing escalation of work still outstanding; the history stays in `escalation`
        func.max(case((Assignment.status.in_(UNFINISHED), Assignment.escalation_level), else_=0)),
        # work whose deadline has come: the rest is 未到期, neutral on the boards (domain.grading)
        _count(and_(Assignment.status.in_(ACTIVE), Assignment.due_on <= ON_DAY)),
    ]
    per_phase = (
        select(Assignment.campaign_id, ON_DAY, Assignment.department_id, Phase.key, *counts)
        .join(Phase, Phase.id == Assignment.phase_id)
        .where(Assignment.campaign_id == OF_CAMPAIGN)
        .group_by(Assignment.campaign_id, Assignment.department_id, Phase.key)
    )
    totals = (
        select(Assignment.campaign_id, ON_DAY, Assignment.department_id, literal(""), *counts)
        .where(Assignment.campaign_id == OF_CAMPAIGN)
        .group_by(Assignment.campaign_id, Assignment.department_id)
    )
    table = table_of(RollupSnapshot)
    return (
        insert_select_ignoring(dialect, table, _ROLLUP_COLUMNS, per_phase, rollup_extras.ROLLUP_KEY),
        insert_select_ignoring(dialect, table, _ROLLUP_COLUMNS, totals, rollup_extras.ROLLUP_KEY),
    )


def write_rollup(session: Session, campaign_code: str, as_of: dt.date) -> int:
    """Counts per department × phase, plus a department total (phase_key ''), for the date."""
    campaign = get_campaign(session, campaign_code)
    params = campaign_day(campaign.id, as_of)
    session.execute(_DELETE_ROLLUP, params)
    written = sum(
        run_counting_inserted(session, stmt, params) for stmt in _rollup_inserts(session.get_bind().dialect.name)
    )
    rollup_extras.add_work_counts(session, campaign_code, as_of)  # problems, projects, leads columns
    return written


def finish_tick(session: Session, ctx: TickContext, phases: list[PhaseTick], counts: StepCounts) -> int:
    """The rollup for the day, the campaign's last tick day, and the tick's own audit entry."""
    rows = write_rollup(session, ctx.campaign_code, ctx.as_of)
    campaign = get_campaign(session, ctx.campaign_code)
    if campaign.last_tick_on is None or campaign.last_tick_on < ctx.as_of:
        campaign.last_tick_on = ctx.as_of
    _record_tick(session, ctx, {p.key: p.state for p in phases}, counts, rows)
    return rows


def _record_tick(
    session: Session,
    ctx: TickContext,
    phases: dict[str, str],
    counts: StepCounts,
    rows: int,
    *,
    unchanged: bool = False,
) -> None:
    """The tick's own audit entry: the last thing a finished tick writes (repeat_of_last_tick reads it)."""
    after: dict[str, object] = {
        "as_of": ctx.as_of.isoformat(),
        "phases": phases,
        "opened": counts.opened,
        "overdue_updated": counts.overdue_updated,
        "escalations": counts.escalations,
        "reminders": counts.reminders,
        "samples_drawn": counts.samples_drawn,
        "rollup_rows": rows,
    }
    if unchanged:
        after["unchanged"] = True
    audit.record(
        session,
        at=ctx.at,
        actor=ctx.actor,
        action=TICK_ACTION,
        entity="campaign",
        entity_key=ctx.campaign_code,
        after=after,
    )


# --------------------------------------------------------------------------- the one composition


def in_session(session: Session) -> StepRunner:
    """Run every step in the caller's session (the caller commits once): for a tick inside a
    larger transaction, e.g. a benchmark's set-up. The flow commits each step on its own instead."""

    def run(name: str, step: Callable[[Session], T], /) -> T:
        return step(session)

    return run


def tick(run: StepRunner, campaign_code: str, as_of: dt.date, *, actor: Actor, at: dt.datetime) -> TickSummary:
    """Every step of a tick, in order: phases, then for each phase with work to look after its
    sample draw (重点核查), opening, overdue, escalation and reminders, then the rollup and the
    tick's record. Phases with nothing to do cost no step at all."""
    ctx = TickContext(campaign_code, as_of, actor, at)
    repeated = run(f"unchanged-{campaign_code}-{as_of}", partial(repeat_of_last_tick, ctx=ctx))
    if repeated is not None:
        return repeated
    phases = run(f"phases-{campaign_code}-{as_of}", partial(sync_phases, ctx=ctx))
    # Issue 14: 预警分办 before the draw, so a verification draw weighs the day's risk scores.
    run(f"risk-{campaign_code}-{as_of}", partial(risk_tick, campaign_code=campaign_code, actor=actor, at=at))
    counts = StepCounts()
    for phase in phases:
        if not phase.needs_work:
            continue
        drawn = 0
        if phase.draws_samples:
            drawn = run(f"draw-samples-{phase.key}-{as_of}", partial(draw_samples, ctx=ctx, phase=phase))
        counts = counts + StepCounts(
            run(f"open-{phase.key}-{as_of}", partial(open_assignments, ctx=ctx, phase=phase)),
            run(f"overdue-{phase.key}-{as_of}", partial(mark_overdue, ctx=ctx, phase=phase)),
            run(f"escalate-{phase.key}-{as_of}", partial(record_escalations, ctx=ctx, phase=phase)),
            run(f"remind-{phase.key}-{as_of}", partial(record_reminders, ctx=ctx, phase=phase)),
            drawn,
        )
    unsigned = run(f"acknowledge-{campaign_code}-{as_of}", partial(remind_unsigned, ctx=ctx))  # 签收提醒, issue 13
    counts = counts + StepCounts(reminders=unsigned)
    # 督办单 for the rungs reached, then the day's 考核评分 (issue 13)
    run(
        f"duban-{campaign_code}-{as_of}",
        partial(issue_dubans, campaign_code=campaign_code, as_of=as_of, actor=actor, at=at),
    )
    run(
        f"score-{campaign_code}-{as_of}",
        partial(write_scores, campaign_code=campaign_code, as_of=as_of, actor=actor, at=at),
    )
    # In-app messages reach the inboxes on their day (issue 12); e-mail and webhooks keep their schedule.
    run(f"inbox-{campaign_code}-{as_of}", partial(deliver_in_app, campaign_code=campaign_code, day=as_of, at=at))
    rows = run(f"rollup-{campaign_code}-{as_of}", partial(finish_tick, ctx=ctx, phases=phases, counts=counts))
    if counts.opened + counts.overdue_updated + counts.escalations + counts.reminders >= BULK_ROWS:
        run(f"statistics-{campaign_code}-{as_of}", partial(refresh_statistics, tables=TICKED_TABLES))
    return TickSummary(campaign_code, as_of, {p.key: p.state for p in phases}, counts, rows)
