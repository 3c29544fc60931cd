"""自选事项 (seed 003 三): a department adds its own items to a phase whose YAML allows them (`optional_items`).

An item is a task of its own (template key optional-N, never a YAML key: domain.spec reserves the prefix)
with one assignment for the department: it is handed in, reviewed by the office, reminded, escalated and
counted in progress like any task. It never replaces or cancels a mandatory item: asking for that is
refused with the document's words, and a changed YAML never removes an added item (domain.plan.diff_plan).

Who: a department for itself, in its own campaign; the office for any department. Leaders read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import limits
from domain.access import Actor, can_act_for_department, can_administer
from domain.assignment import ASSIGNMENT, AssignmentStatus
from domain.errors import Conflict, Invalid, NotFound
from domain.localtime import local_day
from domain.plan import OptionalItemWindow, build_plan, optional_item_key, optional_item_refusal
from domain.spec import DELIVERABLE_LABELS, OPTIONAL_ITEM_PREFIX
from services.campaigns import get_campaign, stored_spec, take_number
from services.guard import check, department_scope, fail, resolve
from services.holidays import campaign_calendar
from services.plan_shapes import add_work, clean_text, parse_deliverable
from store import audit
from store.models import Assignment, Department, Phase, TaskTemplate

# Seed 003 三: 不允许以自选事项清理整改取代本方案规定的事项整改.
NEVER_REPLACES = "自选事项不能取代或撤销本方案规定的事项（不允许以自选事项清理整改取代本方案规定的事项整改）"


@dataclass(frozen=True)
class OptionalItemDTO:
    key: str
    campaign_code: str
    phase_key: str
    phase_title: str
    department_code: str
    title: str
    deliverable: str
    deliverable_label: str
    due_on: dt.date
    nominal_due_on: dt.date
    assignment_id: int
    status: str
    status_label: str


def _department(session: Session, campaign_id: int, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.campaign_id == campaign_id, Department.code == code))
    if dept is None or not dept.active:
        raise NotFound(f"专项行动中没有代码为 {code!r} 的在册部门")
    return dept


def _items(session: Session, campaign_id: int, department_code: str | None) -> list[tuple]:
    q = (
        select(TaskTemplate, Phase.key, Phase.title, Department.code, Assignment)
        .join(Phase, Phase.id == TaskTemplate.phase_id)
        .join(Department, Department.id == TaskTemplate.proposed_by_id)
        .join(Assignment, Assignment.template_id == TaskTemplate.id)
        .where(TaskTemplate.campaign_id == campaign_id, TaskTemplate.key.startswith(OPTIONAL_ITEM_PREFIX))
    )
    if department_code is not None:
        q = q.where(Department.code == department_code)
    return list(session.execute(q.order_by(Phase.ordinal, Assignment.due_on, TaskTemplate.id)).tuples())


def _dto(campaign_code: str, row: tuple) -> OptionalItemDTO:
    template, phase_key, phase_title, dept_code, a = row
    return OptionalItemDTO(
        template.key,
        campaign_code,
        phase_key,
        phase_title,
        dept_code,
        template.title,
        template.deliverable,
        DELIVERABLE_LABELS.get(template.deliverable, template.deliverable),
        a.due_on,
        a.nominal_due_on,
        a.id,
        a.status,
        ASSIGNMENT.label(a.status),
    )


def windows(
    session: Session, *, actor: Actor, campaign_code: str, department_code: str, at: dt.datetime | None = None
) -> list[OptionalItemWindow]:
    """The phases where this department may add 自选事项 (with the YAML's note to show beside the form)."""
    actor = resolve(session, actor, at=at)
    department_code = (
        department_scope(
            actor=actor,
            at=at,
            action="optional_item.list",
            campaign_code=campaign_code,
            department_code=department_code,
            what="自选事项",
            reason="责任部门只能查看本部门的自选事项。",
        )
        or department_code
    )
    spec = stored_spec(get_campaign(session, campaign_code))
    plan = build_plan(spec, campaign_calendar(spec))
    return [w for w in plan.optional_items if department_code in w.department_codes]


def list_items(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> list[OptionalItemDTO]:
    """The office and leaders read every department's 自选事项; a department its own only."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="optional_item.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="自选事项",
        reason="责任部门只能查看本部门的自选事项。",
    )
    campaign = get_campaign(session, campaign_code)
    return [_dto(campaign_code, row) for row in _items(session, campaign.id, department_code)]


def add_item(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    department_code: str,
    phase_key: str,
    title: str,
    deliverable: str,
    due_on: dt.date,
    replaces: str | None = None,
) -> OptionalItemDTO:
    """Add a 自选事项 for a department; `replaces` (a mandatory item's key) is always refused."""
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/{department_code}/{phase_key}"
    check(
        can_administer(actor) or can_act_for_department(actor, department_code, campaign_code),
        actor=actor,
        at=at,
        action="optional_item.add",
        entity="optional_item",
        entity_key=key,
        label=f"为部门 {department_code} 添加自选事项",
        reason="部门只能为本部门添加自选事项；牵头办公室可代为添加。",
    )
    try:
        if replaces:
            raise Conflict(f"{NEVER_REPLACES}：「{replaces}」仍须按方案完成")
        campaign = get_campaign(session, campaign_code)
        dept = _department(session, campaign.id, department_code)
        title = clean_text(title, "自选事项名称", limits.TITLE_MAX)
        kind = parse_deliverable(deliverable)
        phase = session.scalar(select(Phase).where(Phase.campaign_id == campaign.id, Phase.key == phase_key))
        if phase is None:
            raise NotFound(f"没有 key 为 {phase_key!r} 的阶段")
        spec = stored_spec(campaign)
        already = session.scalar(
            select(func.count(TaskTemplate.id)).where(
                TaskTemplate.phase_id == phase.id,
                TaskTemplate.proposed_by_id == dept.id,
                TaskTemplate.key.startswith(OPTIONAL_ITEM_PREFIX),
            )
        )
        refusal = optional_item_refusal(
            build_plan(spec, campaign_calendar(spec)),
            phase_key=phase_key,
            department_code=department_code,
            deliverable=kind,
            due_on=due_on,
            already_added=already or 0,
        )
        if refusal:
            raise Invalid(refusal)
        template_key = optional_item_key(take_number(session, campaign.id, "optional_item"))
    except (Conflict, Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="optional_item.add", entity="optional_item", entity_key=key)
    work = add_work(
        session,
        campaign=campaign,
        key=template_key,
        phase=phase,
        title=title,
        deliverable=kind,
        departments=[(dept.id, True)],
        due_on=due_on,
        today=local_day(at),
        proposed_by_id=dept.id,
    )
    audit.record(
        session,
        at=at,
        actor=actor,
        action="optional_item.add",
        entity="optional_item",
        entity_key=f"{campaign_code}/{template_key}",
        after={
            "department": department_code,
            "phase": phase_key,
            "title": title,
            "deliverable": kind.value,
            "due_on": str(due_on),
            "assignment": work.assignment_ids[0],
        },
    )
    row = next(r for r in _items(session, campaign.id, department_code) if r[0].key == template_key)
    return _dto(campaign_code, row)


def withdraw_item(
    session: Session, *, actor: Actor, at: dt.datetime, campaign_code: str, template_key: str
) -> OptionalItemDTO:
    """Withdraw a 自选事项 not yet accepted (its assignment is cancelled, kept for the record). A mandatory
    item's key is refused: a department can never cancel what the plan requires."""
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/{template_key}"
    campaign = get_campaign(session, campaign_code)
    row = next((r for r in _items(session, campaign.id, None) if r[0].key == template_key), None)
    owner = row[3] if row else (actor.department_code or "")
    check(
        can_administer(actor) or can_act_for_department(actor, owner, campaign_code),
        actor=actor,
        at=at,
        action="optional_item.withdraw",
        entity="optional_item",
        entity_key=key,
        label=f"撤销事项 {template_key}",
        reason="部门只能撤销本部门添加的自选事项。",
    )
    try:
        if row is None:
            mandatory = session.scalar(
                select(TaskTemplate.id).where(TaskTemplate.campaign_id == campaign.id, TaskTemplate.key == template_key)
            )
            if mandatory is not None:
                raise Conflict(f"{NEVER_REPLACES}：「{template_key}」是方案规定的事项")
            raise NotFound(f"没有 key 为 {template_key!r} 的自选事项")
        assignment: Assignment = row[4]
        if not ASSIGNMENT.allows(assignment.status, AssignmentStatus.cancelled) or (
            assignment.status == AssignmentStatus.accepted.value
        ):
            raise Conflict(f"自选事项「{row[0].title}」已{ASSIGNMENT.label(assignment.status)}，不能撤销")
    except (Conflict, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="optional_item.withdraw", entity="optional_item", entity_key=key)
    before = assignment.status
    assignment.status = AssignmentStatus.cancelled.value
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="optional_item.withdraw",
        entity="optional_item",
        entity_key=key,
        before={"status": before},
        after={"status": assignment.status, "department": owner},
    )
    return _dto(campaign_code, next(r for r in _items(session, campaign.id, owner) if r[0].key == template_key))
