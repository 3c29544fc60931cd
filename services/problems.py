"""Problem ledger (问题台账 / 整改台账) with 销号 and 回头看.

open ──request_close (department, with evidence)──▶ closing ──approve (office, 销号)──▶ closed
  ▲                                                   │                                  │
  └───────────────reject (office, reason)─────────────┘                                  │
  └───────────────rebound (office, 回头看: the problem came back, counted as 反弹)────────┘

Every transition is optimistic-locked (Problem.version) and audited; refusals are audited too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.access import Actor, can_act_for_department, can_administer, can_read_department
from domain.delivery import OutboxKind
from domain.errors import Conflict, Invalid, NotFound
from domain.localtime import local_day
from domain.problem import (
    EVENT_MOVES,
    HANDLING_CLASS,
    PROBLEM,
    PROBLEM_CATEGORY,
    ProblemStatus,
)
from domain.problem import ProblemEvent as Event
from services import attachments as att
from services.attachments import AttachmentDTO, Upload
from services.campaigns import get_campaign, lock_counter, take_number
from services.delivery.events import department_event
from services.guard import check, department_scope, fail, resolve
from store import audit
from store.models import Attachment, Campaign, Department, Phase, Problem, ProblemEvent

STALE = "该问题已被他人更新，请刷新后再试"


@dataclass(frozen=True)
class ProblemDTO:
    id: int
    campaign_code: str
    code: str
    department_code: str
    department_name: str
    phase_key: str
    project_code: str | None
    category: str
    description: str
    responsible_person: str | None
    measure: str | None
    handling_class: str
    deadline_on: dt.date
    status: str
    rebound: bool
    found_on: dt.date
    closed_on: dt.date | None
    version: int


@dataclass(frozen=True)
class ProblemEventDTO:
    at: dt.datetime
    actor: str
    action: str
    note: str
    attachments: list[AttachmentDTO]


def _dto(p: Problem, campaign_code: str, dept: Department) -> ProblemDTO:
    return ProblemDTO(
        p.id,
        campaign_code,
        p.code,
        dept.code,
        dept.name,
        p.phase_key,
        p.project_code,
        p.category,
        p.description,
        p.responsible_person,
        p.measure,
        p.handling_class,
        p.deadline_on,
        p.status,
        bool(p.rebound),
        p.found_on,
        p.closed_on,
        p.version,
    )


def _load(session: Session, problem_id: int, *, for_update: bool = False) -> tuple[Problem, ProblemDTO]:
    q = (
        select(Problem, Department)
        .join(Department, Department.id == Problem.department_id)
        .where(Problem.id == problem_id)
    )
    if for_update:
        q = q.with_for_update(of=Problem).execution_options(populate_existing=True)
    row = session.execute(q).first()
    if row is None:
        raise NotFound(f"没有编号为 {problem_id} 的问题")
    p, dept = row
    code = session.execute(select(Campaign.code).where(Campaign.id == p.campaign_id)).scalar_one()
    return p, _dto(p, code, dept)


def _state(p: Problem) -> dict:
    return {
        "status": p.status,
        "rebound": bool(p.rebound),
        "version": p.version,
        "closed_on": str(p.closed_on) if p.closed_on else None,
    }


def _problem_code(session: Session, campaign_id: int, code: str | None) -> str:
    """The next free WT-nnnn, or the given code if it is free. Both hold the campaign's problem
    counter until commit, so two concurrent recorders never pick the same code (no IntegrityError)."""

    def taken(candidate: str) -> bool:
        q = select(Problem.id).where(Problem.campaign_id == campaign_id, Problem.code == candidate)
        return session.scalar(q) is not None

    if code is not None:
        lock_counter(session, campaign_id, "problem")
        if taken(code):
            raise Invalid(f"问题编号 {code} 已存在")
        return code
    existing = select(func.count(Problem.id)).where(Problem.campaign_id == campaign_id).scalar_subquery()
    while True:  # numbers taken by hand-given codes are skipped
        candidate = f"WT-{take_number(session, campaign_id, 'problem', existing):04d}"
        if not taken(candidate):
            return candidate


def record_problem(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    department_code: str,
    phase_key: str,
    category: str,
    description: str,
    handling_class: str,
    deadline_on: dt.date,
    found_on: dt.date | None = None,
    project_code: str | None = None,
    responsible_person: str | None = None,
    measure: str | None = None,
    code: str | None = None,
) -> ProblemDTO:
    """Office records problems of any department (verification, review); a department its own (self-check)."""
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/{code or '?'}"
    check(
        can_administer(actor) or can_act_for_department(actor, department_code, campaign_code),
        actor=actor,
        at=at,
        action="problem.record",
        entity="problem",
        entity_key=key,
        label=f"为部门 {department_code} 登记问题",
        reason="责任部门只能登记本部门的问题。",
    )
    try:
        campaign = get_campaign(session, campaign_code)
        dept = session.scalar(
            select(Department).where(Department.campaign_id == campaign.id, Department.code == department_code)
        )
        if dept is None:
            raise Invalid(f"部门代码 {department_code!r} 不在本专项行动中")
        if session.scalar(select(Phase.id).where(Phase.campaign_id == campaign.id, Phase.key == phase_key)) is None:
            raise Invalid(f"阶段 {phase_key!r} 不在本专项行动中")
        known_category = PROBLEM_CATEGORY.parse(category or "")
        if known_category is None:
            raise Invalid(f"问题类别「{category}」无效，可选：{'、'.join(PROBLEM_CATEGORY.choice_labels())}")
        known_handling = HANDLING_CLASS.parse(handling_class or "")
        if known_handling is None:
            raise Invalid(f"整改方式「{handling_class}」无效，可选：{'、'.join(HANDLING_CLASS.choice_labels())}")
        if not (description or "").strip():
            raise Invalid("问题描述不能为空")
        found = found_on or local_day(at)
        if deadline_on < found:
            raise Invalid("整改时限不能早于发现日期")
        code = _problem_code(session, campaign.id, code)
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="problem.record", entity="problem", entity_key=key)
    category, handling_class = known_category.value, known_handling.value
    p = Problem(
        campaign_id=campaign.id,
        code=code,
        department_id=dept.id,
        phase_key=phase_key,
        project_code=project_code or None,
        category=category,
        description=description.strip(),
        responsible_person=responsible_person or None,
        measure=measure or None,
        handling_class=handling_class,
        deadline_on=deadline_on,
        status=ProblemStatus.open.value,
        rebound=False,
        found_on=found,
        closed_on=None,
    )
    session.add(p)
    session.flush()
    session.add(
        ProblemEvent(problem_id=p.id, at=at, actor=actor.username, action=Event.found.value, note=description.strip())
    )
    session.flush()
    dto = _dto(p, campaign_code, dept)
    audit.record(
        session,
        at=at,
        actor=actor,
        action="problem.record",
        entity="problem",
        entity_key=f"{campaign_code}/{code}",
        after={
            "department": department_code,
            "category": category,
            "handling_class": handling_class,
            "deadline_on": str(deadline_on),
            "project_code": project_code,
        },
    )
    return dto


def list_problems(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    status: str | None = None,
    at: dt.datetime | None = None,
) -> list[ProblemDTO]:
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="problem.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="问题台账",
        reason="责任部门只能查看本部门的问题。",
    )
    campaign = get_campaign(session, campaign_code)
    q = (
        select(Problem, Department)
        .join(Department, Department.id == Problem.department_id)
        .where(Problem.campaign_id == campaign.id)
    )
    if department_code:
        q = q.where(Department.code == department_code)
    if status:
        q = q.where(Problem.status == status)
    return [_dto(p, campaign_code, d) for p, d in session.execute(q.order_by(Problem.code))]


def get_problem(
    session: Session, *, actor: Actor, problem_id: int, at: dt.datetime | None = None
) -> tuple[ProblemDTO, list[ProblemEventDTO]]:
    actor = resolve(session, actor, at=at)
    try:
        _p, dto = _load(session, problem_id)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action="problem.read", entity="problem", entity_key=str(problem_id))
    check(
        can_read_department(actor, dto.department_code, dto.campaign_code),
        actor=actor,
        at=at,
        action="problem.read",
        entity="problem",
        entity_key=f"{dto.campaign_code}/{dto.code}",
        label=f"查看部门 {dto.department_code} 的问题",
        reason="责任部门只能查看本部门的问题。",
    )
    events = list(
        session.scalars(select(ProblemEvent).where(ProblemEvent.problem_id == problem_id).order_by(ProblemEvent.id))
    )
    files: dict[int, list[Attachment]] = {}
    if events:
        for f in session.scalars(select(Attachment).where(Attachment.problem_event_id.in_([e.id for e in events]))):
            if f.problem_event_id is not None:
                files.setdefault(f.problem_event_id, []).append(f)
    return dto, [
        ProblemEventDTO(e.at, e.actor, e.action, e.note, [att.to_dto(f) for f in files.get(e.id, [])]) for e in events
    ]


def problem_ledger(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> list[tuple[ProblemDTO, list[ProblemEventDTO]]]:
    """Every problem with its full close-out history (for the 整改台账 export): two queries, not one per problem.

    Readers as for list_problems: office and leaders every department, a department its own only.
    """
    actor = resolve(session, actor, at=at)
    problems = list_problems(session, actor=actor, campaign_code=campaign_code, department_code=department_code, at=at)
    if not problems:
        return []
    ids = {p.id for p in problems}
    campaign_id = get_campaign(session, campaign_code).id
    # Joined on the campaign rather than IN (ids): a province-scale ledger stays within parameter limits.
    in_campaign = select(Problem.id).where(Problem.campaign_id == campaign_id)
    events: dict[int, list[ProblemEvent]] = {}
    for e in session.scalars(
        select(ProblemEvent)
        .where(ProblemEvent.problem_id.in_(in_campaign))
        .order_by(ProblemEvent.problem_id, ProblemEvent.id)
    ):
        if e.problem_id in ids:
            events.setdefault(e.problem_id, []).append(e)
    files: dict[int, list[Attachment]] = {}
    for f in session.scalars(
        select(Attachment)
        .join(ProblemEvent, ProblemEvent.id == Attachment.problem_event_id)
        .where(ProblemEvent.problem_id.in_(in_campaign))
    ):
        if f.problem_event_id is not None:
            files.setdefault(f.problem_event_id, []).append(f)
    return [
        (
            p,
            [
                ProblemEventDTO(e.at, e.actor, e.action, e.note, [att.to_dto(f) for f in files.get(e.id, [])])
                for e in events.get(p.id, [])
            ],
        )
        for p in problems
    ]


def _transition(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    problem_id: int,
    expected_version: int,
    verb: Event,
    office_only: bool,
    label: str,
    note: str,
    note_required: str | None,
    uploads: list[Upload] | tuple[Upload, ...] = (),
    attachment_dir: Path | None = None,
) -> ProblemDTO:
    actor = resolve(session, actor, at=at)
    action = f"problem.{verb.value}"
    source, target = EVENT_MOVES[verb]
    try:
        p, dto = _load(session, problem_id, for_update=True)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action=action, entity="problem", entity_key=str(problem_id))
    key = f"{dto.campaign_code}/{dto.code}"
    if office_only:
        allowed = can_administer(actor)
    else:  # the responsible department's own action
        allowed = can_act_for_department(actor, dto.department_code, dto.campaign_code)
    check(allowed, actor=actor, at=at, action=action, entity="problem", entity_key=key, label=label)
    try:
        if p.version != expected_version:
            raise Conflict(STALE)
        if p.status != source or not PROBLEM.allows(source, target):
            raise Invalid(f"该问题当前为「{PROBLEM.label(p.status)}」，不能{label}")
        note = (note or "").strip()
        files = att.check_uploads(uploads or ())
        if note_required and not note and not (verb == Event.request_close and files):
            raise Invalid(note_required)
    except (Conflict, Invalid) as exc:
        fail(exc, actor=actor, at=at, action=action, entity="problem", entity_key=key)
    before = _state(p)
    p.status = target.value
    if verb == Event.approve:
        p.closed_on = local_day(at)
    elif verb == Event.rebound:
        p.rebound, p.closed_on = True, None
    try:
        session.flush()
    except StaleDataError:  # the unit of work rolls the whole request back
        fail(Conflict(STALE), actor=actor, at=at, action=action, entity="problem", entity_key=key)
    event = ProblemEvent(problem_id=p.id, at=at, actor=actor.username, action=verb.value, note=note)
    session.add(event)
    session.flush()
    stored = att.add_rows(session, files, problem_event_id=event.id)
    att.store_blobs(attachment_dir, files)
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity="problem",
        entity_key=key,
        before=before,
        after={
            **_state(p),
            "note": note,
            "attachments": [{"filename": f.filename, "sha256": f.sha256} for f in stored],
        },
    )
    if verb in (Event.approve, Event.reject):  # the department hears of the 销号 decision (issue 12)
        department_event(
            session,
            department_id=p.department_id,
            kind=OutboxKind.closure_decided,
            tag=f"销号{'通过' if verb == Event.approve else '驳回'}",
            thread_key=f"problem:{p.id}",
            subject_line=f"问题 {dto.code} 的销号申请{'获批准' if verb == Event.approve else '被驳回'}",
            event_on=local_day(at),
            natural_key=f"evt:closure_decided:{p.id}:{event.id}",
            action="该问题已销号。" if verb == Event.approve else "请按驳回原因继续整改后重新申请销号。",
            facts=[
                ("问题编号", dto.code),
                ("当前状态", PROBLEM.label(p.status)),
                ("驳回原因", note if verb == Event.reject else ""),
            ],
            actor=actor,
            at=at,
        )
    return _load(session, problem_id)[1]


def request_close(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    problem_id: int,
    expected_version: int,
    evidence: str = "",
    attachments: list[Upload] | tuple[Upload, ...] = (),
    attachment_dir: Path | None = None,
) -> ProblemDTO:
    """The responsible department asks for 销号 with evidence (a description, attachments or both)."""
    return _transition(
        session,
        actor=actor,
        at=at,
        problem_id=problem_id,
        expected_version=expected_version,
        verb=Event.request_close,
        office_only=False,
        label="申请销号",
        note=evidence,
        note_required="申请销号须提供整改佐证（说明或附件）",
        uploads=attachments,
        attachment_dir=attachment_dir,
    )


def approve_close(
    session: Session, *, actor: Actor, at: dt.datetime, problem_id: int, expected_version: int, note: str = ""
) -> ProblemDTO:
    return _transition(
        session,
        actor=actor,
        at=at,
        problem_id=problem_id,
        expected_version=expected_version,
        verb=Event.approve,
        office_only=True,
        label="审核销号",
        note=note,
        note_required=None,
    )


def reject_close(
    session: Session, *, actor: Actor, at: dt.datetime, problem_id: int, expected_version: int, reason: str
) -> ProblemDTO:
    return _transition(
        session,
        actor=actor,
        at=at,
        problem_id=problem_id,
        expected_version=expected_version,
        verb=Event.reject,
        office_only=True,
        label="驳回销号申请",
        note=reason,
        note_required="驳回销号申请时必须填写原因",
    )


def reopen_rebound(
    session: Session, *, actor: Actor, at: dt.datetime, problem_id: int, expected_version: int, reason: str
) -> ProblemDTO:
    """回头看: a closed problem has come back; it reopens and is counted as a rebound (反弹)."""
    return _transition(
        session,
        actor=actor,
        at=at,
        problem_id=problem_id,
        expected_version=expected_version,
        verb=Event.rebound,
        office_only=True,
        label="回头看重新打开（反弹）",
        note=reason,
        note_required="认定反弹时必须填写回头看发现的情况",
    )
