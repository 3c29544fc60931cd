"""签收: a department signs for an opened assignment (who, when) — one or several at once — and the
tick reminds once when an assignment is still unsigned `acknowledge_within_working_days` after it
opened. `unsigned_late` counts, for any day, the assignments not signed in time (the score reads it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, and_, cast, distinct, func, literal, or_, select, update
from sqlalchemy.orm import Session

from domain.access import Actor, can_act_for_department
from domain.assignment import AssignmentStatus
from domain.delivery import OutboxKind
from domain.errors import Invalid, NotFound
from domain.localtime import local_midnight
from services.campaigns import stored_spec
from services.delivery.events import owe_set
from services.guard import check, fail, resolve
from services.holidays import campaign_calendar
from services.supervision.common import load_assignment
from store import audit
from store.models import Assignment, Campaign, Outbox
from store.sql import chosen_by

# An assignment that has opened and was not cancelled can be signed for.
SIGNABLE: tuple[str, ...] = (
    AssignmentStatus.open.value,
    AssignmentStatus.submitted.value,
    AssignmentStatus.returned.value,
    AssignmentStatus.accepted.value,
)


@dataclass(frozen=True)
class Signed:
    assignment_id: int
    acknowledged_at: dt.datetime
    acknowledged_by: str
    already: bool  # signed before this call (nothing changed)


def sign(session: Session, *, actor: Actor, at: dt.datetime, assignment_ids: list[int]) -> list[Signed]:
    """Sign for each assignment (the department's own, opened); all or none. Signing twice is no
    change: the first signature stays."""
    actor = resolve(session, actor, at=at)
    if not assignment_ids:
        fail(
            Invalid("请至少指定一项任务"),
            actor=actor,
            at=at,
            action="assignment.sign",
            entity="assignment",
            entity_key="",
        )
    out: list[Signed] = []
    for assignment_id in dict.fromkeys(assignment_ids):
        key = str(assignment_id)
        try:
            loaded = load_assignment(session, assignment_id, for_update=True)
        except NotFound as exc:
            fail(exc, actor=actor, at=at, action="assignment.sign", entity="assignment", entity_key=key)
        a = loaded.assignment
        check(
            can_act_for_department(actor, loaded.department_code, loaded.campaign_code),
            actor=actor,
            at=at,
            action="assignment.sign",
            entity="assignment",
            entity_key=key,
            label=f"代部门 {loaded.department_code} 签收任务",
            reason="只有该任务的责任部门可以签收。",
        )
        if a.status not in SIGNABLE:
            why = f"任务尚未开始（{a.opens_on} 开始）" if a.status == AssignmentStatus.scheduled else "任务已撤销"
            fail(
                Invalid(f"任务 {assignment_id}「{loaded.label}」不能签收：{why}"),
                actor=actor,
                at=at,
                action="assignment.sign",
                entity="assignment",
                entity_key=key,
            )
        if a.acknowledged_at is not None:
            out.append(Signed(a.id, a.acknowledged_at, a.acknowledged_by or "", True))
            continue
        # A set-based update that only signs an unsigned row: two clicks at once sign once.
        done = session.scalar(
            update(Assignment)
            .where(Assignment.id == a.id, Assignment.acknowledged_at.is_(None))
            .values(acknowledged_at=at, acknowledged_by=actor.username)
            .returning(Assignment.id)
            .execution_options(synchronize_session=False)
        )
        session.refresh(a)
        out.append(Signed(a.id, a.acknowledged_at or at, a.acknowledged_by or actor.username, done is None))
        if done is not None:
            audit.record(
                session,
                at=at,
                actor=actor,
                action="assignment.sign",
                entity="assignment",
                entity_key=key,
                before={"acknowledged_at": None},
                after={"acknowledged_at": at.isoformat(), "acknowledged_by": actor.username},
            )
    return out


def sign_on_submit(session: Session, assignment: Assignment, *, username: str, at: dt.datetime) -> None:
    """Handing work in is also receipt: an unsigned assignment counts as signed when first submitted."""
    if assignment.acknowledged_at is None:
        assignment.acknowledged_at, assignment.acknowledged_by = at, username


def _deadline(opens_on: dt.date, within: int, cal) -> dt.date:  # noqa: ANN001
    return cal.add_workdays(opens_on, within)


def unsigned_late(session: Session, campaign_id: int, as_of: dt.date) -> dict[int, int]:
    """Per department id: the assignments not signed for within the YAML's working days, as of
    `as_of` (signed late, or still unsigned past the limit). Empty when the YAML sets no limit.
    Reproducible for a past day: a signature after `as_of` counts as not yet given. Counted in SQL
    per distinct opening day (each has one signing deadline)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return {}
    spec = stored_spec(campaign)
    within = spec.acknowledge_within_working_days
    if within is None:
        return {}
    cal = campaign_calendar(spec)
    opened = and_(
        Assignment.campaign_id == campaign_id,
        Assignment.status.in_(SIGNABLE),
        Assignment.opens_on <= as_of,
    )
    deadlines = {
        opens_on: due
        for opens_on in session.scalars(select(distinct(Assignment.opens_on)).where(opened))
        if (due := _deadline(opens_on, within, cal)) < as_of  # else: still within the time to sign
    }
    if not deadlines:
        return {}
    # Signed in time = before the Beijing midnight that ends the signing deadline (which is before as_of).
    ends = {opens_on: local_midnight(due + dt.timedelta(days=1)) for opens_on, due in deadlines.items()}
    in_time = chosen_by(Assignment.opens_on, ends, Assignment.acknowledged_at.type)
    return dict(
        session.execute(
            select(Assignment.department_id, func.count())
            .where(
                opened,
                Assignment.opens_on.in_(list(deadlines)),
                or_(Assignment.acknowledged_at.is_(None), Assignment.acknowledged_at >= in_time),
            )
            .group_by(Assignment.department_id)
        )
        .tuples()
        .all()
    )


def owe_acknowledge_reminders(session: Session, campaign_code: str, as_of: dt.date) -> list[int]:
    """The tick's step: one reminder (kind acknowledge) for each unfinished assignment
    still unsigned after the YAML's working days; returns the assignments newly reminded."""
    campaign = session.scalar(select(Campaign).where(Campaign.code == campaign_code))
    if campaign is None:
        return []
    spec = stored_spec(campaign)
    within = spec.acknowledge_within_working_days
    if within is None:
        return []
    cal = campaign_calendar(spec)
    unsigned = and_(
        Assignment.campaign_id == campaign.id,
        Assignment.acknowledged_at.is_(None),
        Assignment.status.in_((AssignmentStatus.open.value, AssignmentStatus.returned.value)),
    )
    opened = list(session.scalars(select(distinct(Assignment.opens_on)).where(unsigned, Assignment.opens_on <= as_of)))
    late_opened = [d for d in opened if _deadline(d, within, cal) < as_of]
    if not late_opened:
        return []
    already = select(Outbox.assignment_id).where(
        Outbox.campaign_id == campaign.id, Outbox.kind == OutboxKind.acknowledge.value
    )
    owed = and_(unsigned, Assignment.opens_on.in_(late_opened), Assignment.id.not_in(already))
    targets = list(session.scalars(select(Assignment.id).where(owed).order_by(Assignment.id)))
    # Once per assignment (natural key evt:acknowledge:<id>:once), as one set; the delivery writes the text.
    owe_set(
        session,
        natural_key=literal(f"evt:{OutboxKind.acknowledge.value}:") + cast(Assignment.id, String) + literal(":once"),
        kind=OutboxKind.acknowledge.value,
        campaign_id=Assignment.campaign_id,
        assignment_id=Assignment.id,
        department_id=Assignment.department_id,
        level=0,
        event_on=as_of,
        chases=True,  # it chases the signature: stale once the work is handed in
        where=owed,
    )
    return targets
