"""延期申请: a department asks for a later deadline; the approver the YAML names (`extensions.approver`)
approves — possibly with an earlier date than asked — or rejects, with a reason.

Approval is applied exactly once: the decision is a conditional UPDATE of the still-pending request
(on PostgreSQL the row is locked until commit, on SQLite the write lock serialises the deciders), so
of two deciders at once one wins and the other gets Conflict, and a decided request cannot be decided
again. Only approval moves the assignment's effective deadline (`due_on`); the first deadline stays
as `original_due_on`. Overdue days, reminders and escalation follow the new deadline at the next tick
(they are computed from `due_on`); rungs already reached stay in the escalation history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain.access import Actor, Role, can_act_for_department, can_administer, can_read_department
from domain.assignment import ASSIGNMENT, UNFINISHED, AssignmentStatus
from domain.delivery import OutboxKind
from domain.errors import Conflict, Invalid, NotFound
from domain.extension import (
    APPROVER,
    COUNTED,
    EXTENSION,
    ExtensionApprover,
    ExtensionState,
    date_refusal,
    request_refusal,
)
from domain.limits import LONG_TEXT_MAX
from domain.localtime import local_day
from services import attachments as att
from services.attachments import AttachmentDTO, Upload
from services.campaigns import get_campaign, stored_spec
from services.delivery.events import assignment_event
from services.guard import check, department_scope, fail, resolve
from services.holidays import campaign_calendar
from services.supervision.common import load_assignment
from store import audit
from store.models import Assignment, Attachment, Department, ExtensionRequest, TaskTemplate

DECIDED_MESSAGE = "该延期申请已被处理（{state}），不能重复审批"


@dataclass(frozen=True)
class ExtensionDTO:
    id: int
    seq: int
    assignment_id: int
    campaign_code: str
    department_code: str
    department_name: str
    title: str
    period: str
    original_due_on: dt.date  # the assignment's first deadline
    due_before: dt.date  # its effective deadline when asked
    asked_until: dt.date
    reason: str
    state: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    approved_until: dt.date | None
    decision_reason: str | None
    attachments: list[AttachmentDTO]

    @property
    def state_label(self) -> str:
        return EXTENSION.label(self.state)


def _dtos(session: Session, campaign_code: str, where: Sequence) -> list[ExtensionDTO]:
    rows = session.execute(
        select(ExtensionRequest, Assignment, Department.code, Department.name, TaskTemplate.title)
        .join(Assignment, Assignment.id == ExtensionRequest.assignment_id)
        .join(Department, Department.id == Assignment.department_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(*where)
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
        .execution_options(populate_existing=True)  # a decision is a set-based UPDATE: read what it wrote
    ).all()
    files: dict[int, list[AttachmentDTO]] = {}
    if rows:
        ids = [r[0].id for r in rows]
        for f in session.scalars(
            select(Attachment).where(Attachment.extension_request_id.in_(ids)).order_by(Attachment.id)
        ):
            files.setdefault(f.extension_request_id or 0, []).append(att.to_dto(f))
    return [
        ExtensionDTO(
            r.id,
            r.seq,
            a.id,
            campaign_code,
            dcode,
            dname,
            title,
            a.period,
            a.original_due_on or r.due_before,
            r.due_before,
            r.asked_until,
            r.reason,
            r.state,
            r.requested_by,
            r.requested_at,
            r.decided_by,
            r.decided_at,
            r.approved_until,
            r.decision_reason,
            files.get(r.id, []),
        )
        for r, a, dcode, dname, title in rows
    ]


def _one(session: Session, campaign_code: str, request_id: int) -> ExtensionDTO:
    return _dtos(session, campaign_code, [ExtensionRequest.id == request_id])[0]


def _clean(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(f"请填写{what}")
    if len(text) > LONG_TEXT_MAX:
        raise Invalid(f"{what}最多 {LONG_TEXT_MAX} 个字")
    return text


def request_extension(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    assignment_id: int,
    until: dt.date,
    reason: str,
    attachments: Sequence[Upload] = (),
    attachment_dir: Path | None = None,
) -> ExtensionDTO:
    """A department asks to move its assignment's deadline to `until` (before or after the due day)."""
    actor = resolve(session, actor, at=at)
    action, key = "extension.request", str(assignment_id)
    try:
        loaded = load_assignment(session, assignment_id, for_update=True)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action=action, entity="assignment", entity_key=key)
    a = loaded.assignment
    check(
        can_act_for_department(actor, loaded.department_code, loaded.campaign_code),
        actor=actor,
        at=at,
        action=action,
        entity="assignment",
        entity_key=key,
        label=f"代部门 {loaded.department_code} 申请延期",
        reason="只有该任务的责任部门可以申请延期。",
    )
    # Hold the assignment (a no-op write: PostgreSQL's row lock, SQLite's write lock) so that two
    # requests at once queue here and the second sees the first as pending.
    session.execute(update(Assignment).where(Assignment.id == a.id).values(id=Assignment.id))
    spec = stored_spec(get_campaign(session, loaded.campaign_code))
    policy = spec.extensions
    try:
        if a.status not in UNFINISHED:
            raise Invalid(f"任务当前为「{ASSIGNMENT.label(a.status)}」，只有办理中或已退回的任务可以申请延期")
        text = _clean(reason, "延期理由")
        files = att.check_uploads(attachments or ())
        states = list(session.scalars(select(ExtensionRequest.state).where(ExtensionRequest.assignment_id == a.id)))
        why = request_refusal(
            asked_until=until,
            current_due=a.due_on,
            original_due=a.original_due_on or a.due_on,
            counted_requests=sum(1 for s in states if s in COUNTED),
            has_pending=ExtensionState.pending.value in states,
            max_per_assignment=policy.max_per_assignment,
            max_working_days=policy.max_working_days,
            cal=campaign_calendar(spec),
        )
        if why:
            raise Invalid(why)
    except Invalid as exc:
        fail(exc, actor=actor, at=at, action=action, entity="assignment", entity_key=key)
    seq = (
        session.scalar(select(func.max(ExtensionRequest.seq)).where(ExtensionRequest.assignment_id == a.id)) or 0
    ) + 1
    row = ExtensionRequest(
        campaign_id=a.campaign_id,
        assignment_id=a.id,
        seq=seq,
        requested_by=actor.username,
        requested_at=at,
        due_before=a.due_on,
        asked_until=until,
        reason=text,
        state=ExtensionState.pending.value,
    )
    session.add(row)
    session.flush()  # (assignment, seq) is unique; the lock above makes a second request wait, not collide
    session.add_all(
        Attachment(
            extension_request_id=row.id,
            sha256=f.sha256,
            filename=f.filename,
            content_type=f.content_type,
            size=len(f.data),
        )
        for f in files
    )
    session.flush()
    att.store_blobs(attachment_dir, files)
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity="extension_request",
        entity_key=str(row.id),
        after={
            "assignment": a.id,
            "seq": seq,
            "due_on": a.due_on.isoformat(),
            "asked_until": until.isoformat(),
            "reason": text,
            "attachments": [{"filename": f.filename, "sha256": f.sha256} for f in files],
        },
    )
    return _one(session, loaded.campaign_code, row.id)


def _may_decide(actor: Actor, approver: ExtensionApprover) -> bool:
    if approver == ExtensionApprover.leaders:
        return actor.role == Role.leader
    return can_administer(actor)


def decide_extension(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    request_id: int,
    approve: bool,
    reason: str,
    until: dt.date | None = None,
) -> ExtensionDTO:
    """Approve (optionally with an earlier date than asked) or reject a pending request, with a reason."""
    actor = resolve(session, actor, at=at)
    action, key = "extension.decide", str(request_id)
    req = session.get(ExtensionRequest, request_id, populate_existing=True)
    if req is None:
        fail(
            NotFound(f"没有编号为 {request_id} 的延期申请"),
            actor=actor,
            at=at,
            action=action,
            entity="extension_request",
            entity_key=key,
        )
    loaded = load_assignment(session, req.assignment_id, for_update=True)
    a = loaded.assignment
    spec = stored_spec(get_campaign(session, loaded.campaign_code))
    approver = spec.extensions.approver
    check(
        _may_decide(actor, approver),
        actor=actor,
        at=at,
        action=action,
        entity="extension_request",
        entity_key=key,
        label="审批延期申请",
        reason=f"本专项行动的延期申请由{APPROVER.label(approver)}审批。",
    )
    new_due: dt.date | None = None
    try:
        if req.state != ExtensionState.pending:
            raise Conflict(DECIDED_MESSAGE.format(state=EXTENSION.label(req.state)))
        text = _clean(reason, "审批意见")
        if approve:
            if a.status in (AssignmentStatus.accepted, AssignmentStatus.cancelled):
                raise Invalid(f"任务当前为「{ASSIGNMENT.label(a.status)}」，不再需要延期，请驳回")
            new_due = until or req.asked_until
            if new_due > req.asked_until:
                raise Invalid(f"批准的日期 {new_due} 不能晚于申请的日期 {req.asked_until}")
            why = date_refusal(
                new_due,
                a.due_on,
                a.original_due_on or a.due_on,
                spec.extensions.max_working_days,
                campaign_calendar(spec),
            )
            if why:
                raise Invalid(why)
        elif until is not None:
            raise Invalid("驳回时不需要日期")
    except (Conflict, Invalid) as exc:
        fail(exc, actor=actor, at=at, action=action, entity="extension_request", entity_key=key)
    target = ExtensionState.approved if approve else ExtensionState.rejected
    won = session.scalar(  # the one place a request is decided: only a still-pending row changes
        update(ExtensionRequest)
        .where(ExtensionRequest.id == req.id, ExtensionRequest.state == ExtensionState.pending.value)
        .values(
            state=target.value, decided_by=actor.username, decided_at=at, approved_until=new_due, decision_reason=text
        )
        .returning(ExtensionRequest.id)
        .execution_options(synchronize_session=False)
    )
    if won is None:
        state = session.scalar(select(ExtensionRequest.state).where(ExtensionRequest.id == req.id)) or ""
        fail(
            Conflict(DECIDED_MESSAGE.format(state=EXTENSION.label(state))),
            actor=actor,
            at=at,
            action=action,
            entity="extension_request",
            entity_key=key,
        )
    before = {"due_on": a.due_on.isoformat(), "original_due_on": a.original_due_on and a.original_due_on.isoformat()}
    if new_due is not None:
        session.execute(
            update(Assignment)
            .where(Assignment.id == a.id)
            .values(
                original_due_on=func.coalesce(Assignment.original_due_on, Assignment.due_on),
                due_on=new_due,
                version=Assignment.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        session.refresh(a)
    verdict = f"已批准，截止日期延至 {new_due}" if new_due else "未获批准（已驳回）"
    assignment_event(
        session,
        assignment_id=a.id,
        kind=OutboxKind.extension_decided,
        tag="延期申请",
        event_on=local_day(at),
        key_suffix=str(req.id),
        action=f"延期申请{verdict}。" + ("请按新的截止日期办理。" if new_due else "请按原截止日期办理。"),
        facts=[("申请延至", str(req.asked_until)), ("审批结果", EXTENSION.label(target)), ("审批意见", text)],
        actor=actor,
        at=at,
    )
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity="extension_request",
        entity_key=key,
        before={"state": ExtensionState.pending.value, **before},
        after={
            "state": target.value,
            "assignment": a.id,
            "approved_until": new_due and new_due.isoformat(),
            "due_on": a.due_on.isoformat(),
            "original_due_on": a.original_due_on and a.original_due_on.isoformat(),
            "reason": text,
        },
    )
    return _one(session, loaded.campaign_code, req.id)


def list_extensions(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    state: str | None = None,
    assignment_id: int | None = None,
    at: dt.datetime | None = None,
) -> list[ExtensionDTO]:
    """Oldest first. The office and leaders see all; a department its own only."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="extension.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="延期申请",
        reason="责任部门只能查看本部门的延期申请。",
    )
    check(
        department_code is None or can_read_department(actor, department_code, campaign_code),
        actor=actor,
        at=at,
        action="extension.list",
        entity="campaign",
        entity_key=campaign_code,
        label="查看延期申请",
    )
    campaign = get_campaign(session, campaign_code)
    where: list = [ExtensionRequest.campaign_id == campaign.id]
    if department_code is not None:
        where.append(Department.code == department_code)
    if state is not None:
        where.append(ExtensionRequest.state == state)
    if assignment_id is not None:
        where.append(ExtensionRequest.assignment_id == assignment_id)
    return _dtos(session, campaign_code, where)


def deadlines_as_of(session: Session, campaign_id: int, as_of: dt.date) -> dict[int, dt.date]:
    """The deadline each extended assignment had on `as_of` (a Beijing day): an extension approved after that
    day had not moved it yet, so a past day's score is the one that day had (assignment.due_on is the
    deadline now). No permission check: for services that checked their caller (the score)."""
    out: dict[int, dt.date] = {}
    rows = session.execute(
        select(
            ExtensionRequest.assignment_id,
            ExtensionRequest.due_before,
            ExtensionRequest.approved_until,
            ExtensionRequest.decided_at,
        )
        .where(ExtensionRequest.campaign_id == campaign_id, ExtensionRequest.state == ExtensionState.approved.value)
        .order_by(ExtensionRequest.assignment_id, ExtensionRequest.seq)
    )
    for assignment_id, due_before, approved_until, decided_at in rows:
        if decided_at is not None and approved_until is not None and local_day(decided_at) <= as_of:
            out[assignment_id] = approved_until
        else:
            out.setdefault(assignment_id, due_before)  # the first approval after that day: the deadline before it
    return out
