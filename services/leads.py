"""Leads and cases (线索 / 案件): intake, assignment with a working-day limit, outcome, closure.

received ──assign (office)──▶ assigned ──report_outcome (assigned department)──▶ reported ──close (office)──▶ closed
The office may also close an assigned lead directly, giving the outcome itself.
Reporter identities (举报人) are returned to the office only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.access import Actor, Role, can_act_for_department, can_administer, can_read_confidential
from domain.delivery import OutboxKind
from domain.errors import Conflict, Invalid, NotFound
from domain.lead import LEAD, LEAD_MEASURE, LEAD_SOURCE, SUBSTANTIATED, LeadMeasure, LeadOutcome, LeadStatus
from domain.localtime import local_day
from domain.problem import PROBLEM_CATEGORY
from services.campaigns import get_campaign, lock_counter, stored_spec, take_number
from services.delivery.events import department_event
from services.guard import check, department_scope, fail, resolve
from services.holidays import campaign_calendar
from store import audit
from store.models import Campaign, Department, Lead

STALE = "该线索已被他人更新，请刷新后再试"


@dataclass(frozen=True)
class LeadDTO:
    id: int
    campaign_code: str
    code: str
    source: str
    received_on: dt.date
    project_code: str | None
    category: str
    summary: str
    reporter_name: str | None  # None unless the reader is the office
    reporter_phone: str | None
    department_code: str | None
    due_on: dt.date | None
    status: str
    outcome: str | None
    enterprises_involved: int
    people_dealt_with: int
    fine_wan: Decimal
    measures: list[str]
    closed_on: dt.date | None
    version: int


@dataclass(frozen=True)
class LeadFigures:
    """The figures the seed reports quote: leads handled, enterprises, people, fines (万元)."""

    received: int
    closed: int
    substantiated: int
    enterprises_involved: int
    people_dealt_with: int
    fine_wan: Decimal


def _dto(lead: Lead, campaign_code: str, dept_code: str | None, actor: Actor) -> LeadDTO:
    secret = can_read_confidential(actor)
    return LeadDTO(
        lead.id,
        campaign_code,
        lead.code,
        lead.source,
        lead.received_on,
        lead.project_code,
        lead.category,
        lead.summary,
        lead.reporter_name if secret else None,
        lead.reporter_phone if secret else None,
        dept_code,
        lead.due_on,
        lead.status,
        lead.outcome,
        lead.enterprises_involved,
        lead.people_dealt_with,
        Decimal(str(lead.fine_wan or 0)),
        [m for m in (lead.measures or "").split("、") if m],
        lead.closed_on,
        lead.version,
    )


def _load(session: Session, lead_id: int, *, for_update: bool = False) -> tuple[Lead, str, str | None]:
    q = (
        select(Lead, Campaign.code, Department.code)
        .join(Campaign, Campaign.id == Lead.campaign_id)
        .outerjoin(Department, Department.id == Lead.department_id)
        .where(Lead.id == lead_id)
    )
    if for_update:
        q = q.with_for_update(of=Lead).execution_options(populate_existing=True)
    row = session.execute(q).first()
    if row is None:
        raise NotFound(f"没有编号为 {lead_id} 的线索")
    return row[0], row[1], row[2]


def _state(lead: Lead, dept_code: str | None) -> dict:
    return {
        "status": lead.status,
        "department": dept_code,
        "due_on": str(lead.due_on) if lead.due_on else None,
        "outcome": lead.outcome,
        "measures": lead.measures,
        "fine_wan": str(lead.fine_wan or 0),
        "enterprises": lead.enterprises_involved,
        "people": lead.people_dealt_with,
        "version": lead.version,
    }


def _lead_code(session: Session, campaign_id: int, code: str | None) -> str:
    """The next free XS-nnnn, or the given code if it is free. Both hold the campaign's lead counter
    until commit, so two concurrent intakes never pick the same code (no IntegrityError)."""

    def taken(candidate: str) -> bool:
        return (
            session.scalar(select(Lead.id).where(Lead.campaign_id == campaign_id, Lead.code == candidate)) is not None
        )

    if code is not None:
        lock_counter(session, campaign_id, "lead")
        if taken(code):
            raise Invalid(f"线索编号 {code} 已存在")
        return code
    existing = select(func.count(Lead.id)).where(Lead.campaign_id == campaign_id).scalar_subquery()
    while True:  # numbers taken by hand-given codes are skipped
        candidate = f"XS-{take_number(session, campaign_id, 'lead', existing):04d}"
        if not taken(candidate):
            return candidate


def intake_lead(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    source: str,
    received_on: dt.date,
    category: str,
    summary: str,
    project_code: str | None = None,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    code: str | None = None,
) -> LeadDTO:
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/{code or '?'}"
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="lead.intake",
        entity="lead",
        entity_key=key,
        label="受理线索",
        reason="线索由牵头办公室统一受理。",
    )
    try:
        campaign = get_campaign(session, campaign_code)
        known_source = LEAD_SOURCE.parse(source or "")
        if known_source is None:
            raise Invalid(f"线索来源「{source}」无效，可选：{'、'.join(LEAD_SOURCE.choice_labels())}")
        if not (summary or "").strip() or not (category or "").strip():
            raise Invalid("线索的问题类别和内容摘要不能为空")
        known_category = PROBLEM_CATEGORY.parse(category)
        if known_category is None:
            raise Invalid(f"问题类别「{category}」无效，可选：{'、'.join(PROBLEM_CATEGORY.choice_labels())}")
        if received_on > local_day(at):
            raise Invalid("收到日期不能晚于今天")
        code = _lead_code(session, campaign.id, code)
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="lead.intake", entity="lead", entity_key=key)
    source, category = known_source.value, known_category.value
    lead = Lead(
        campaign_id=campaign.id,
        code=code,
        source=source,
        received_on=received_on,
        project_code=project_code or None,
        category=category,
        summary=summary.strip(),
        reporter_name=reporter_name or None,
        reporter_phone=reporter_phone or None,
        status=LeadStatus.received.value,
        enterprises_involved=0,
        people_dealt_with=0,
        fine_wan=0,
        measures="",
    )
    session.add(lead)
    session.flush()
    # The audit trail is readable by more people than the office: reporter identity stays out of it.
    audit.record(
        session,
        at=at,
        actor=actor,
        action="lead.intake",
        entity="lead",
        entity_key=f"{campaign_code}/{code}",
        after={
            "source": source,
            "category": category,
            "received_on": str(received_on),
            "reporter": "（保密）" if reporter_name or reporter_phone else None,
        },
    )
    return _dto(lead, campaign_code, None, actor)


def list_leads(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    status: str | None = None,
    at: dt.datetime | None = None,
) -> list[LeadDTO]:
    """Office and leaders see every lead; a department only those assigned to it."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="lead.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="线索",
        reason="责任部门只能查看交办本部门的线索。",
    )
    campaign = get_campaign(session, campaign_code)
    q = (
        select(Lead, Department.code)
        .outerjoin(Department, Department.id == Lead.department_id)
        .where(Lead.campaign_id == campaign.id)
    )
    if department_code:
        q = q.where(Department.code == department_code)
    if status:
        q = q.where(Lead.status == status)
    return [_dto(lead, campaign_code, d, actor) for lead, d in session.execute(q.order_by(Lead.code))]


def get_lead(session: Session, *, actor: Actor, lead_id: int, at: dt.datetime | None = None) -> LeadDTO:
    actor = resolve(session, actor, at=at)
    try:
        lead, ccode, dcode = _load(session, lead_id)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action="lead.read", entity="lead", entity_key=str(lead_id))
    allowed = actor.role != Role.department or (dcode is not None and can_act_for_department(actor, dcode, ccode))
    check(
        allowed,
        actor=actor,
        at=at,
        action="lead.read",
        entity="lead",
        entity_key=f"{ccode}/{lead.code}",
        label="查看未交办本部门的线索",
        reason="责任部门只能查看交办本部门的线索。",
    )
    return _dto(lead, ccode, dcode, actor)


def _change(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    lead_id: int,
    expected_version: int,
    action: str,
    label: str,
    allowed_fn: Callable[[Actor, str | None, str], bool],
    target: LeadStatus,
    apply: Callable[[Lead, str], str | None],
) -> LeadDTO:
    """Load and lock the lead, check the actor, the version and that LEAD allows the move to `target`;
    apply the change and audit it. allowed_fn(actor, department, campaign) says who may."""
    actor = resolve(session, actor, at=at)
    try:
        lead, ccode, dcode = _load(session, lead_id, for_update=True)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action=action, entity="lead", entity_key=str(lead_id))
    key = f"{ccode}/{lead.code}"
    check(
        allowed_fn(actor, dcode, ccode), actor=actor, at=at, action=action, entity="lead", entity_key=key, label=label
    )
    try:
        if lead.version != expected_version:
            raise Conflict(STALE)
        if not LEAD.allows(lead.status, target):
            raise Invalid(f"该线索当前为「{LEAD.label(lead.status)}」，不能{label}")
        before = _state(lead, dcode)
        dcode = apply(lead, ccode) or dcode
    except (Conflict, Invalid) as exc:
        fail(exc, actor=actor, at=at, action=action, entity="lead", entity_key=key)
    try:
        session.flush()
    except StaleDataError:  # the unit of work rolls the whole request back
        fail(Conflict(STALE), actor=actor, at=at, action=action, entity="lead", entity_key=key)
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity="lead",
        entity_key=key,
        before=before,
        after=_state(lead, dcode),
    )
    return _dto(lead, ccode, dcode, actor)


def assign_lead(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    lead_id: int,
    expected_version: int,
    department_code: str,
    working_days: int,
) -> LeadDTO:
    """Hand a lead to a department with a limit in working days from the day it is assigned."""

    def apply(lead: Lead, ccode: str) -> str:
        if not isinstance(working_days, int) or working_days < 1 or working_days > 250:
            raise Invalid("办理时限应为 1–250 个工作日")
        campaign = get_campaign(session, ccode)
        dept = session.scalar(
            select(Department).where(Department.campaign_id == campaign.id, Department.code == department_code)
        )
        if dept is None:
            raise Invalid(f"部门代码 {department_code!r} 不在本专项行动中")
        cal = campaign_calendar(stored_spec(campaign))
        lead.department_id, lead.status = dept.id, LeadStatus.assigned.value
        lead.due_on = cal.add_workdays(local_day(at), working_days)
        department_event(  # the department hears of the lead it is to handle (issue 12)
            session,
            department_id=dept.id,
            kind=OutboxKind.lead_assigned,
            tag=LEAD.label(LeadStatus.assigned),
            thread_key=f"lead:{lead.id}",
            subject_line=f"线索 {lead.code}",
            event_on=local_day(at),
            natural_key=f"evt:lead_assigned:{lead.id}:{dept.id}:{lead.due_on}",
            action="请在办理时限内查办，并报告查办结果。",
            facts=[("线索编号", lead.code), ("办理时限", f"{lead.due_on}（{working_days} 个工作日）")],
            actor=actor,
            at=at,
        )
        return dept.code

    return _change(
        session,
        actor=actor,
        at=at,
        lead_id=lead_id,
        expected_version=expected_version,
        action="lead.assign",
        label="交办线索",
        allowed_fn=lambda who, _d, _c: can_administer(who),
        target=LeadStatus.assigned,
        apply=apply,
    )


def _outcome(
    lead: Lead,
    outcome: str,
    measures: list[str] | tuple[str, ...],
    fine_wan: Decimal | float | str,
    enterprises: int,
    people: int,
) -> None:
    try:
        found = LeadOutcome(outcome)
    except ValueError:
        raise Invalid(f"办理结果应为 {'、'.join(o.value for o in LeadOutcome)} 之一") from None
    bad = [m for m in measures if m not in set(LeadMeasure)]
    if bad:
        raise Invalid(f"处理措施「{'、'.join(bad)}」无效，可选：{'、'.join(LEAD_MEASURE.choice_labels())}")
    try:
        fine = Decimal(str(fine_wan or 0)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Invalid("罚款金额（万元）不是有效数字") from None
    if fine < 0 or enterprises < 0 or people < 0:
        raise Invalid("罚款金额、涉及企业数和处理人数不能为负数")
    if fine > 0 and LeadMeasure.fine not in measures:
        raise Invalid(f"填写了罚款金额，请在处理措施中选择“{LeadMeasure.fine.value}”")
    if found == LeadOutcome.unfounded and (measures or fine or people):
        raise Invalid(f"经核查{LeadOutcome.unfounded.value}的线索不应有处理措施")
    lead.outcome, lead.measures, lead.fine_wan = outcome, "、".join(dict.fromkeys(measures)), fine
    lead.enterprises_involved, lead.people_dealt_with = enterprises, people


def report_outcome(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    lead_id: int,
    expected_version: int,
    outcome: str,
    measures: list[str] | tuple[str, ...] = (),
    fine_wan: Decimal | float | str = 0,
    enterprises_involved: int = 0,
    people_dealt_with: int = 0,
) -> LeadDTO:
    """The department handling the lead reports what it found and did; the office then closes it."""

    def apply(lead: Lead, _ccode: str) -> None:
        _outcome(lead, outcome, measures, fine_wan, enterprises_involved, people_dealt_with)
        lead.status = LeadStatus.reported.value

    return _change(
        session,
        actor=actor,
        at=at,
        lead_id=lead_id,
        expected_version=expected_version,
        action="lead.report",
        label="报送线索办理结果",
        allowed_fn=lambda who, d, c: d is not None and can_act_for_department(who, d, c),
        target=LeadStatus.reported,
        apply=apply,
    )


def close_lead(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    lead_id: int,
    expected_version: int,
    outcome: str | None = None,
    measures: list[str] | tuple[str, ...] = (),
    fine_wan: Decimal | float | str = 0,
    enterprises_involved: int = 0,
    people_dealt_with: int = 0,
) -> LeadDTO:
    """Office closes a reported lead (outcome as reported), or an assigned one giving the outcome."""

    def apply(lead: Lead, _ccode: str) -> None:
        if lead.status == LeadStatus.assigned or outcome is not None:
            if outcome is None:
                raise Invalid(f"办结尚未报送结果的线索时须填写办理结果（{' / '.join(o.value for o in LeadOutcome)}）")
            _outcome(lead, outcome, measures, fine_wan, enterprises_involved, people_dealt_with)
        lead.status, lead.closed_on = LeadStatus.closed.value, local_day(at)

    return _change(
        session,
        actor=actor,
        at=at,
        lead_id=lead_id,
        expected_version=expected_version,
        action="lead.close",
        label="办结线索",
        allowed_fn=lambda who, _d, _c: can_administer(who),
        target=LeadStatus.closed,
        apply=apply,
    )


def lead_figures(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> LeadFigures:
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="lead.figures",
        campaign_code=campaign_code,
        department_code=department_code,
        what="线索统计",
        reason="责任部门只能查看交办本部门的线索。",
    )
    campaign = get_campaign(session, campaign_code)
    closed = Lead.status == LeadStatus.closed.value
    q = select(
        func.count(Lead.id),
        func.count(Lead.id).filter(closed),
        func.count(Lead.id).filter(closed, Lead.outcome.in_(SUBSTANTIATED)),  # 查实 counts 部分属实 too
        func.coalesce(func.sum(Lead.enterprises_involved).filter(closed), 0),
        func.coalesce(func.sum(Lead.people_dealt_with).filter(closed), 0),
        func.coalesce(func.sum(Lead.fine_wan).filter(closed), 0),
    ).where(Lead.campaign_id == campaign.id)
    if department_code:
        q = q.join(Department, Department.id == Lead.department_id).where(Department.code == department_code)
    r = session.execute(q).one()
    return LeadFigures(
        int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), Decimal(str(r[5])).quantize(Decimal("0.01"))
    )
