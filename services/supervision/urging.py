"""催办: the office or a leader urges one assignment, every overdue assignment of a department, or every
overdue assignment of the campaign, with an optional message. Each 催办 is a row of `urge` (who, when,
what, which assignment) and a message through the outbox, delivered like the reminders. The natural
key — the assignment and the command (its `request_key`, by default who urged and the minute) — makes
a double click or a re-run command add nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.access import Actor, Role, can_read_department
from domain.assignment import ASSIGNMENT, UNFINISHED
from domain.delivery import OutboxKind
from domain.errors import Invalid, NotFound
from domain.limits import LONG_TEXT_MAX
from domain.localtime import local_day
from services.campaigns import get_campaign
from services.delivery.events import assignment_event
from services.guard import check, department_scope, fail, resolve
from services.supervision.common import load_assignment
from store import audit
from store.models import Assignment, Department, TaskTemplate, Urge, User
from store.sql import insert_ignoring

URGERS = (Role.office, Role.leader, Role.system)


@dataclass(frozen=True)
class UrgeResult:
    urged: list[int]  # assignments urged by this call
    already: list[int]  # assignments this same command had urged before (nothing added)


@dataclass(frozen=True)
class UrgeDTO:
    id: int
    assignment_id: int
    department_code: str
    title: str
    period: str
    urged_by: str
    urged_by_name: str
    urged_at: dt.datetime
    message: str


def _targets(session: Session, campaign_id: int, department_code: str | None) -> list[int]:
    q = (
        select(Assignment.id)
        .join(Department, Department.id == Assignment.department_id)
        .where(Assignment.campaign_id == campaign_id, Assignment.status.in_(UNFINISHED), Assignment.overdue_days > 0)
        .order_by(Department.code, Assignment.due_on, Assignment.id)
    )
    if department_code is not None:
        q = q.where(Department.code == department_code)
    return list(session.scalars(q))


def urge(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    assignment_id: int | None = None,
    department_code: str | None = None,
    all_overdue: bool = False,
    message: str = "",
    request_key: str | None = None,
) -> UrgeResult:
    """Exactly one of `assignment_id`, `department_code` (its overdue work), `all_overdue`."""
    actor = resolve(session, actor, at=at)
    action = "assignment.urge"
    scope = assignment_id if assignment_id is not None else (department_code or "all-overdue")
    key = f"{campaign_code}/{scope}"
    check(
        actor.role in URGERS,
        actor=actor,
        at=at,
        action=action,
        entity="campaign",
        entity_key=key,
        label="催办任务",
        reason="只有牵头办公室和领导可以催办。",
    )
    try:
        if sum((assignment_id is not None, department_code is not None, bool(all_overdue))) != 1:
            raise Invalid("请指定催办对象：一项任务、一个部门的逾期任务或全部逾期任务（三者选一）")
        text = (message or "").strip()
        if len(text) > LONG_TEXT_MAX:
            raise Invalid(f"催办内容最多 {LONG_TEXT_MAX} 个字")
        campaign = get_campaign(session, campaign_code)
        if assignment_id is not None:
            loaded = load_assignment(session, assignment_id)
            if loaded.campaign_code != campaign_code:
                raise NotFound(f"专项行动 {campaign_code} 中没有编号为 {assignment_id} 的任务")
            if loaded.assignment.status not in UNFINISHED:
                raise Invalid(
                    f"任务「{loaded.label}」当前为「{ASSIGNMENT.label(loaded.assignment.status)}」，不需要催办"
                )
            targets = [assignment_id]
        else:
            if department_code is not None and not session.scalar(
                select(Department.id).where(Department.campaign_id == campaign.id, Department.code == department_code)
            ):
                raise NotFound(f"专项行动 {campaign_code} 中没有代码为 {department_code} 的部门")
            targets = _targets(session, campaign.id, department_code)
            if not targets:
                raise Invalid("没有逾期的任务需要催办")
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action=action, entity="campaign", entity_key=key)
    command = (request_key or f"{actor.username}@{at.astimezone(dt.UTC):%Y%m%dT%H%M}")[:80]
    who = actor.display_name or actor.username
    urged: list[int] = []
    already: list[int] = []
    for target in targets:
        natural_key = f"urge:{target}:{command}"
        added = session.scalar(
            insert_ignoring(session, Urge, ["natural_key"])
            .values(
                campaign_id=campaign.id,
                assignment_id=target,
                natural_key=natural_key,
                urged_by=actor.username,
                urged_at=at,
                message=text,
            )
            .returning(Urge.id)
        )
        if added is None:
            already.append(target)
            continue
        urged.append(target)
        assignment_event(
            session,
            assignment_id=target,
            kind=OutboxKind.urged,
            tag="催办",
            event_on=local_day(at),
            key_suffix=command,
            action="请抓紧办理并按时报送。",
            facts=[("催办人", who), *([("催办意见", text)] if text else [])],
            chases=True,
            actor=actor,
            at=at,
        )
    if urged:
        audit.record(
            session,
            at=at,
            actor=actor,
            action=action,
            entity="campaign",
            entity_key=key,
            after={"assignments": urged, "count": len(urged), "message": text, "command": command},
        )
    return UrgeResult(urged, already)


def list_urges(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    assignment_id: int | None = None,
    at: dt.datetime | None = None,
) -> list[UrgeDTO]:
    """The 催办 received, newest first: a department sees its own only."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="urge.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="催办记录",
        reason="责任部门只能查看本部门收到的催办。",
    )
    check(
        department_code is None or can_read_department(actor, department_code, campaign_code),
        actor=actor,
        at=at,
        action="urge.list",
        entity="campaign",
        entity_key=campaign_code,
        label="查看催办记录",
    )
    campaign = get_campaign(session, campaign_code)
    q = (
        select(Urge, Department.code, TaskTemplate.title, Assignment.period, User.display_name)
        .join(Assignment, Assignment.id == Urge.assignment_id)
        .join(Department, Department.id == Assignment.department_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .outerjoin(User, User.username == Urge.urged_by)
        .where(Urge.campaign_id == campaign.id)
        .order_by(Urge.urged_at.desc(), Urge.id.desc())
    )
    if department_code is not None:
        q = q.where(Department.code == department_code)
    if assignment_id is not None:
        q = q.where(Urge.assignment_id == assignment_id)
    return [
        UrgeDTO(u.id, u.assignment_id, dcode, title, period, u.urged_by, name or u.urged_by, u.urged_at, u.message)
        for u, dcode, title, period, name in session.execute(q)
    ]


def urge_counts(session: Session, campaign_id: int, as_of: dt.date | None = None) -> dict[int, int]:
    """催办 per assignment id (no permission check: for services that checked their caller, e.g. the
    score); with `as_of`, those made by the end of that day (UTC)."""
    q = select(Urge.assignment_id, func.count()).where(Urge.campaign_id == campaign_id)
    if as_of is not None:
        q = q.where(Urge.urged_at < dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC))
    return dict(session.execute(q.group_by(Urge.assignment_id)).tuples().all())


def urge_counts_by_department(session: Session, campaign_id: int, as_of: dt.date | None = None) -> dict[int, int]:
    """催办 per department id (as urge_counts)."""
    per_assignment = urge_counts(session, campaign_id, as_of)
    if not per_assignment:
        return {}
    out: Counter[int] = Counter()
    for aid, dept in session.execute(
        select(Assignment.id, Assignment.department_id).where(Assignment.id.in_(list(per_assignment)))
    ):
        out[dept] += per_assignment[aid]
    return dict(out)
