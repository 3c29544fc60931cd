"""Submissions and review: a department submits, the office accepts or returns; history is kept.

Review uses the assignment's optimistic lock (Assignment.version, the mapper's version_id_col):
two reviewers acting on one submission at once cannot both win, the second gets Conflict.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.access import Actor, Role, can_act_for_department, can_administer, can_read_department
from domain.assignment import ASSIGNMENT, SUBMISSION, UNFINISHED, AssignmentStatus, SubmissionState
from domain.delivery import OutboxKind
from domain.errors import Conflict, Invalid, NotFound
from domain.limits import LONG_TEXT_MAX
from domain.localtime import local_day
from domain.rules import on_time as rule_on_time
from domain.spec import SAMPLE_TEMPLATE_KEY
from services import attachments as att
from services.attachments import AttachmentDTO, Upload
from services.campaigns import get_campaign
from services.delivery.events import assignment_event
from services.guard import check, department_scope, fail, resolve
from services.supervision.acknowledge import sign_on_submit
from store import audit
from store.models import (
    Assignment,
    Attachment,
    Campaign,
    Department,
    ExtensionRequest,
    Phase,
    Problem,
    ProblemEvent,
    Project,
    Submission,
    TaskTemplate,
)

__all__ = [
    "CONFLICT_MESSAGE",
    "AssignmentDTO",
    "AttachmentDTO",
    "SubmissionDTO",
    "Upload",
    "accept",
    "get_assignment",
    "list_assignments",
    "previous_draft",
    "return_submission",
    "review_queue",
    "submit",
    "withdraw",
]

CONFLICT_MESSAGE = "该材料已被其他审核人处理，请刷新后再试"
MAX_ROWS = 5000


@dataclass(frozen=True)
class AssignmentDTO:
    id: int
    campaign_code: str
    template_key: str
    title: str
    deliverable: str
    department_code: str
    department_name: str
    phase_key: str
    phase_title: str
    period: str
    is_lead: bool
    opens_on: dt.date
    due_on: dt.date
    nominal_due_on: dt.date
    status: str
    overdue_days: int
    escalation_level: int
    review_required: bool
    on_time: bool | None
    version: int
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    # issue 13: 签收, and the first deadline when an approved extension moved due_on (else None)
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    original_due_on: dt.date | None = None


@dataclass(frozen=True)
class SubmissionDTO:
    id: int
    assignment_id: int
    seq: int
    submitted_by: str
    submitted_at: dt.datetime
    text: str
    rows: list[dict]
    state: str
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_note: str | None
    attachments: list[AttachmentDTO]
    late_reason: str | None = None  # 逾期原因


def _title():  # noqa: ANN202 - a SQL expression
    """A verification task names its project (its period is the project code): three sampled projects are
    three tasks a person tells apart, not one title three times."""
    named = TaskTemplate.title + "：" + func.coalesce(Project.name, Assignment.period)
    return case((TaskTemplate.key == SAMPLE_TEMPLATE_KEY, named), else_=TaskTemplate.title)


def _query():  # noqa: ANN202
    return (
        select(
            Assignment,
            Campaign.code,
            TaskTemplate.key,
            _title(),
            TaskTemplate.deliverable,
            Department.code,
            Department.name,
            Phase.key,
            Phase.title,
        )
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .join(Department, Department.id == Assignment.department_id)
        .join(Phase, Phase.id == Assignment.phase_id)
        .outerjoin(
            Project,
            and_(
                TaskTemplate.key == SAMPLE_TEMPLATE_KEY,
                Project.campaign_id == Assignment.campaign_id,
                Project.code == Assignment.period,
            ),
        )
    )


def _dto(row) -> AssignmentDTO:  # noqa: ANN001
    a, ccode, tkey, title, deliverable, dcode, dname, pkey, ptitle = row
    return AssignmentDTO(
        a.id,
        ccode,
        tkey,
        title,
        deliverable,
        dcode,
        dname,
        pkey,
        ptitle,
        a.period,
        bool(a.is_lead),
        a.opens_on,
        a.due_on,
        a.nominal_due_on,
        a.status,
        a.overdue_days,
        a.escalation_level,
        bool(a.review_required),
        a.on_time,
        a.version,
        a.submitted_at,
        a.accepted_at,
        a.acknowledged_at,
        a.acknowledged_by,
        a.original_due_on,
    )


def _load(session: Session, assignment_id: int, *, for_update: bool = False) -> tuple[Assignment, AssignmentDTO]:
    q = _query().where(Assignment.id == assignment_id)
    if for_update:  # a fresh read, and on PostgreSQL a row lock: concurrent reviewers queue up here
        q = q.with_for_update(of=Assignment).execution_options(populate_existing=True)
    row = session.execute(q).first()
    if row is None:
        raise NotFound(f"没有编号为 {assignment_id} 的任务")
    return row[0], _dto(row)


def _refresh(session: Session, assignment_id: int) -> AssignmentDTO:
    return _dto(session.execute(_query().where(Assignment.id == assignment_id)).one())


def _sub_dto(s: Submission, files: list[Attachment]) -> SubmissionDTO:
    return SubmissionDTO(
        s.id,
        s.assignment_id,
        s.seq,
        s.submitted_by,
        s.submitted_at,
        s.text,
        json.loads(s.rows_json or "[]"),
        s.state,
        s.reviewed_by,
        s.reviewed_at,
        s.review_note,
        [att.to_dto(f) for f in files],
        s.late_reason,
    )


# --- reading ----------------------------------------------------------------------------------


def list_assignments(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    status: str | None = None,
    overdue_only: bool = False,
    at: dt.datetime | None = None,
) -> list[AssignmentDTO]:
    """A department actor only ever gets its own; asking for another department is refused and audited."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="assignment.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="任务",
        reason="责任部门只能查看本部门的任务。",
    )
    check(
        department_code is None or can_read_department(actor, department_code, campaign_code),
        actor=actor,
        at=at,
        action="assignment.list",
        entity="department",
        entity_key=f"{campaign_code}/{department_code}",
        label="查看任务",
    )
    campaign = get_campaign(session, campaign_code)
    q = _query().where(Assignment.campaign_id == campaign.id)
    if department_code is not None:
        q = q.where(Department.code == department_code)
    if status is not None:
        q = q.where(Assignment.status == status)
    if overdue_only:
        q = q.where(Assignment.overdue_days > 0, Assignment.status.in_(UNFINISHED))
    q = q.order_by(Assignment.due_on, Department.code, TaskTemplate.key, Assignment.period)
    return [_dto(r) for r in session.execute(q)]


def _submissions(session: Session, assignment_id: int) -> list[SubmissionDTO]:
    subs = list(
        session.scalars(select(Submission).where(Submission.assignment_id == assignment_id).order_by(Submission.seq))
    )
    files: dict[int, list[Attachment]] = {}
    if subs:
        for f in session.scalars(
            select(Attachment).where(Attachment.submission_id.in_([s.id for s in subs])).order_by(Attachment.id)
        ):
            if f.submission_id is not None:
                files.setdefault(f.submission_id, []).append(f)
    return [_sub_dto(s, files.get(s.id, [])) for s in subs]


def get_assignment(
    session: Session, *, actor: Actor, assignment_id: int, at: dt.datetime | None = None
) -> tuple[AssignmentDTO, list[SubmissionDTO]]:
    actor = resolve(session, actor, at=at)
    try:
        _a, dto = _load(session, assignment_id)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action="assignment.read", entity="assignment", entity_key=str(assignment_id))
    check(
        can_read_department(actor, dto.department_code, dto.campaign_code),
        actor=actor,
        at=at,
        action="assignment.read",
        entity="assignment",
        entity_key=str(assignment_id),
        label=f"查看部门 {dto.department_code} 的任务",
        reason="责任部门只能查看本部门的任务。",
    )
    return dto, _submissions(session, assignment_id)


def review_queue(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
) -> list[AssignmentDTO]:
    actor = resolve(session, actor, at=at)
    check(
        actor.role in (Role.office, Role.leader, Role.system),
        actor=actor,
        at=at,
        action="review.queue",
        entity="campaign",
        entity_key=campaign_code,
        label="查看待审核材料",
        reason="只有牵头办公室审核材料。",
    )
    return list_assignments(session, actor=actor, campaign_code=campaign_code, status=AssignmentStatus.submitted.value)


def read_attachment(
    session: Session,
    *,
    actor: Actor,
    attachment_id: int,
    attachment_dir: Path | None = None,
    at: dt.datetime | None = None,
) -> tuple[AttachmentDTO, bytes]:
    """An attachment's bytes, for whoever may read the assignment it belongs to."""
    actor = resolve(session, actor, at=at)
    f = session.get(Attachment, attachment_id)
    owner = _attachment_owner(session, f) if f is not None else None
    if f is None or owner is None:
        fail(
            NotFound(f"没有编号为 {attachment_id} 的附件"),
            actor=actor,
            at=at,
            action="attachment.read",
            entity="attachment",
            entity_key=str(attachment_id),
        )
    department_code, campaign_code = owner
    check(
        can_read_department(actor, department_code, campaign_code),
        actor=actor,
        at=at,
        action="attachment.read",
        entity="attachment",
        entity_key=str(attachment_id),
        label=f"下载部门 {department_code} 的附件",
    )
    return att.to_dto(f), att.read_blob(attachment_dir, f.sha256)


def _attachment_owner(session: Session, f: Attachment) -> tuple[str, str] | None:
    """The department and campaign an attachment belongs to: through its submission, its 延期申请
    (issue 13), or its 销号 evidence (a problem event)."""
    if f.submission_id is not None or f.extension_request_id is not None:
        if f.submission_id is not None:
            assignment_id = session.scalar(select(Submission.assignment_id).where(Submission.id == f.submission_id))
        else:
            assignment_id = session.scalar(
                select(ExtensionRequest.assignment_id).where(ExtensionRequest.id == f.extension_request_id)
            )
        if assignment_id is None:
            return None
        _a, dto = _load(session, assignment_id)
        return dto.department_code, dto.campaign_code
    if f.problem_event_id is not None:
        row = session.execute(
            select(Department.code, Campaign.code)
            .join(Problem, Problem.department_id == Department.id)
            .join(ProblemEvent, ProblemEvent.problem_id == Problem.id)
            .join(Campaign, Campaign.id == Problem.campaign_id)
            .where(ProblemEvent.id == f.problem_event_id)
        ).first()
        return (row[0], row[1]) if row is not None else None
    return None


# --- changing ---------------------------------------------------------------------------------


def _may_hand_in(session: Session, actor: Actor, a: Assignment, dto: AssignmentDTO) -> bool:
    """The responsible department hands its work in; the coordinating office's own tasks (its
    department in the campaign, e.g. 区发改局) are handed in by office users (issue 13)."""
    if can_act_for_department(actor, dto.department_code, dto.campaign_code):
        return True
    return actor.role == Role.office and bool(
        session.scalar(select(Department.is_office).where(Department.id == a.department_id))
    )


def _clean_rows(rows: list[dict] | None) -> list[dict]:
    if rows is None:
        return []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise Invalid("表格数据应为若干行，每行是“列名: 值”的映射")
    if len(rows) > MAX_ROWS:
        raise Invalid(f"表格数据最多 {MAX_ROWS} 行")
    try:
        return json.loads(json.dumps(rows, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        raise Invalid("表格数据无法保存（含有不支持的值）") from None


def submit(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    assignment_id: int,
    text: str = "",
    rows: list[dict] | None = None,
    attachments: list[Upload] | tuple[Upload, ...] = (),
    attachment_dir: Path | None = None,
    late_reason: str = "",
    carry_attachment_ids: Sequence[int] = (),
) -> SubmissionDTO:
    """Hand work in. After the deadline the 逾期原因 (`late_reason`) is required. `carry_attachment_ids`:
    files of this assignment's earlier submissions handed in again (a returned form starts from them)."""
    actor = resolve(session, actor, at=at)
    key = str(assignment_id)
    try:
        a, dto = _load(session, assignment_id, for_update=True)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action="submission.submit", entity="assignment", entity_key=key)
    check(
        _may_hand_in(session, actor, a, dto),
        actor=actor,
        at=at,
        action="submission.submit",
        entity="assignment",
        entity_key=key,
        label=f"代部门 {dto.department_code} 报送材料",
        reason="只有该任务的责任部门可以报送。",
    )
    try:
        if a.status == AssignmentStatus.scheduled.value:
            raise Invalid(f"任务尚未开始（{dto.opens_on} 开始），暂不能报送")
        if a.status == AssignmentStatus.submitted.value:
            raise Invalid("材料已报送，正在等待牵头办公室审核，不能重复报送")
        if a.status == AssignmentStatus.accepted.value:
            raise Invalid("该任务已通过审核，无需再报送")
        if a.status == AssignmentStatus.cancelled.value:
            raise Invalid("该任务已撤销，不能报送")
        text = (text or "").strip()
        clean = _clean_rows(rows)
        files = att.check_uploads(attachments or ())
        carried = _carried(session, a.id, carry_attachment_ids)
        if not text and not clean and not files and not carried:
            raise Invalid("请填写报送内容、表格数据或上传附件（至少一项）")
        late = (late_reason or "").strip()
        if not rule_on_time(local_day(at), a.due_on) and not late:
            raise Invalid(f"已超过截止日期 {a.due_on}，请填写逾期原因")
        if len(late) > LONG_TEXT_MAX:
            raise Invalid(f"逾期原因最多 {LONG_TEXT_MAX} 个字")
        target = AssignmentStatus.submitted if a.review_required else AssignmentStatus.accepted
        if not ASSIGNMENT.allows(a.status, target):
            raise Invalid(f"该任务当前为「{ASSIGNMENT.label(a.status)}」，不能报送")
    except Invalid as exc:
        fail(exc, actor=actor, at=at, action="submission.submit", entity="assignment", entity_key=key)

    before = {"status": a.status, "version": a.version}
    seq = (session.scalar(select(func.max(Submission.seq)).where(Submission.assignment_id == a.id)) or 0) + 1
    sub = Submission(
        assignment_id=a.id,
        seq=seq,
        submitted_by=actor.username,
        submitted_at=at,
        text=text,
        rows_json=json.dumps(clean, ensure_ascii=False),
        state=SubmissionState.pending.value,
        late_reason=late or None,
    )
    session.add(sub)
    session.flush()
    stored = att.add_rows(session, files, submission_id=sub.id)
    stored += _carry(session, carried, sub.id)
    sign_on_submit(session, a, username=actor.username, at=at)
    a.submitted_at = at
    a.status = target.value
    if target == AssignmentStatus.accepted:  # no review: accepted as handed in
        sub.state, sub.reviewed_by, sub.reviewed_at = SubmissionState.accepted.value, actor.username, at
        a.accepted_at = at
        a.on_time = rule_on_time(local_day(at), a.due_on)
    try:
        session.flush()
    except StaleDataError:  # the unit of work rolls the whole request back
        fail(
            Conflict("该任务刚被其他人更新，请刷新后再试"),
            actor=actor,
            at=at,
            action="submission.submit",
            entity="assignment",
            entity_key=key,
        )
    att.store_blobs(attachment_dir, files)  # after the rows are in; an unreferenced blob is harmless
    audit.record(
        session,
        at=at,
        actor=actor,
        action="submission.submit",
        entity="assignment",
        entity_key=key,
        before=before,
        after={
            "status": a.status,
            "seq": seq,
            "rows": len(clean),
            "text_chars": len(text),
            "attachments": [{"filename": f.filename, "sha256": f.sha256, "size": len(f.data)} for f in files],
            "carried_attachments": [f.id for f in carried],
            "late_reason": late or None,
        },
    )
    return _sub_dto(sub, stored)


def _carried(session: Session, assignment_id: int, ids: Sequence[int]) -> list[Attachment]:
    """The earlier files of this assignment named by `ids` (anything else is refused)."""
    if not ids:
        return []
    found = list(
        session.scalars(
            select(Attachment)
            .join(Submission, Submission.id == Attachment.submission_id)
            .where(Submission.assignment_id == assignment_id, Attachment.id.in_(list(ids)))
            .order_by(Attachment.id)
        )
    )
    missing = sorted(set(ids) - {f.id for f in found})
    if missing:
        raise Invalid(f"附件 {'、'.join(map(str, missing))} 不属于该任务的历次报送")
    unique: dict[tuple[str, str], Attachment] = {}
    for f in found:
        unique.setdefault((f.sha256, f.filename), f)
    return list(unique.values())


def _carry(session: Session, carried: list[Attachment], submission_id: int) -> list[Attachment]:
    """New rows for files handed in again: the stored blob (by its digest) is shared."""
    rows = [
        Attachment(
            submission_id=submission_id,
            sha256=f.sha256,
            filename=f.filename,
            content_type=f.content_type,
            size=f.size,
        )
        for f in carried
    ]
    session.add_all(rows)
    session.flush()
    return rows


def previous_draft(
    session: Session, *, actor: Actor, assignment_id: int, at: dt.datetime | None = None
) -> SubmissionDTO | None:
    """What a returned (or withdrawn) assignment's form starts from: its latest submission's text,
    rows and files (None when nothing was handed in before)."""
    _dto, history = get_assignment(session, actor=actor, assignment_id=assignment_id, at=at)
    return history[-1] if history else None


def withdraw(session: Session, *, actor: Actor, at: dt.datetime, assignment_id: int) -> AssignmentDTO:
    """撤回: the department takes back a submission the office has not reviewed yet; the assignment is
    again the department's to hand in (办理中, or 已退回 when an earlier submission was returned)."""
    actor = resolve(session, actor, at=at)
    action, key = "submission.withdraw", str(assignment_id)
    try:
        a, dto = _load(session, assignment_id, for_update=True)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action=action, entity="assignment", entity_key=key)
    check(
        _may_hand_in(session, actor, a, dto),
        actor=actor,
        at=at,
        action=action,
        entity="assignment",
        entity_key=key,
        label=f"代部门 {dto.department_code} 撤回报送",
        reason="只有该任务的责任部门可以撤回。",
    )
    pending = session.scalar(
        select(Submission)
        .where(Submission.assignment_id == a.id, Submission.state == SubmissionState.pending.value)
        .order_by(Submission.seq.desc())
        .limit(1)
    )
    earlier_returned = session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.assignment_id == a.id, Submission.state == SubmissionState.returned.value)
    )
    target = AssignmentStatus.returned if earlier_returned else AssignmentStatus.open
    try:
        if a.status != AssignmentStatus.submitted or pending is None:
            raise Invalid(f"该任务当前为「{ASSIGNMENT.label(a.status)}」，没有待审核的报送可以撤回")
        if not ASSIGNMENT.allows(a.status, target) or not SUBMISSION.allows(pending.state, SubmissionState.withdrawn):
            raise Invalid("该报送不能撤回")
    except Invalid as exc:
        fail(exc, actor=actor, at=at, action=action, entity="assignment", entity_key=key)
    before = {"status": a.status, "version": a.version, "seq": pending.seq}
    a.status = target.value
    a.submitted_at = None
    try:
        session.flush()  # the office reviewing at the same moment: one of the two gets Conflict
    except StaleDataError:
        fail(Conflict(CONFLICT_MESSAGE), actor=actor, at=at, action=action, entity="assignment", entity_key=key)
    pending.state = SubmissionState.withdrawn.value
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity="assignment",
        entity_key=key,
        before=before,
        after={"status": a.status, "version": a.version, "seq": pending.seq},
    )
    return _refresh(session, assignment_id)


def _review(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    assignment_id: int,
    expected_version: int,
    verb: str,
    reason: str = "",
) -> AssignmentDTO:
    actor = resolve(session, actor, at=at)
    action = f"submission.{verb}"
    target = AssignmentStatus.accepted if verb == "accept" else AssignmentStatus.returned
    key = str(assignment_id)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action=action,
        entity="assignment",
        entity_key=key,
        label="审核材料" if verb == "accept" else "退回材料",
        reason="只有牵头办公室可以审核。",
    )
    try:
        a, _dto0 = _load(session, assignment_id, for_update=True)
        if a.version != expected_version:
            raise Conflict(CONFLICT_MESSAGE)
        if a.status != AssignmentStatus.submitted or not ASSIGNMENT.allows(a.status, target):
            raise Invalid(f"该任务当前为「{ASSIGNMENT.label(a.status)}」，没有待审核的材料")
        if verb == "return" and not (reason or "").strip():
            raise Invalid("退回时必须填写退回原因")
        pending = session.scalar(
            select(Submission)
            .where(Submission.assignment_id == a.id, Submission.state == SubmissionState.pending.value)
            .order_by(Submission.seq.desc())
            .limit(1)
        )
        if pending is None:
            current = session.scalar(select(Assignment.version).where(Assignment.id == assignment_id))
            if current != expected_version:  # another reviewer committed in between (SQLite has no row locks)
                raise Conflict(CONFLICT_MESSAGE)
            raise Invalid("没有待审核的材料")
    except (Conflict, Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action=action, entity="assignment", entity_key=key)

    before = {"status": a.status, "version": a.version, "on_time": a.on_time}
    a.status = target.value
    if target == AssignmentStatus.accepted:
        a.accepted_at = at
        a.on_time = rule_on_time(local_day(pending.submitted_at), a.due_on)
    try:
        session.flush()  # UPDATE … WHERE version = :seen; a concurrent winner leaves it matching nothing
    except StaleDataError:  # the unit of work rolls the whole request back
        fail(Conflict(CONFLICT_MESSAGE), actor=actor, at=at, action=action, entity="assignment", entity_key=key)
    pending.state = (
        SubmissionState.accepted if target == AssignmentStatus.accepted else SubmissionState.returned
    ).value
    pending.reviewed_by, pending.reviewed_at = actor.username, at
    pending.review_note = (reason or "").strip() or None
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity="assignment",
        entity_key=key,
        before=before,
        after={
            "status": a.status,
            "version": a.version,
            "on_time": a.on_time,
            "seq": pending.seq,
            "reason": pending.review_note,
        },
    )
    accepted = target == AssignmentStatus.accepted
    assignment_event(  # the department hears of the decision (issue 12)
        session,
        assignment_id=a.id,
        kind=OutboxKind.accepted if accepted else OutboxKind.returned,
        tag=ASSIGNMENT.label(target),
        event_on=local_day(at),
        key_suffix=str(pending.seq),
        action="材料已审核通过，本任务办结。" if accepted else "请按退回原因修改后重新提交。",
        facts=[("退回原因", pending.review_note or "")],
        actor=actor,
        at=at,
    )
    return _refresh(session, assignment_id)


def accept(
    session: Session, *, actor: Actor, at: dt.datetime, assignment_id: int, expected_version: int, note: str = ""
) -> AssignmentDTO:
    """Accept the pending submission; `note` is an optional review comment kept with it."""
    return _review(
        session,
        actor=actor,
        at=at,
        assignment_id=assignment_id,
        expected_version=expected_version,
        verb="accept",
        reason=note,
    )


def return_submission(
    session: Session, *, actor: Actor, at: dt.datetime, assignment_id: int, expected_version: int, reason: str
) -> AssignmentDTO:
    return _review(
        session,
        actor=actor,
        at=at,
        assignment_id=assignment_id,
        expected_version=expected_version,
        verb="return",
        reason=reason,
    )
