"""会商 and 例会 (seed 002 二(二)2、二(三)3): the office records a meeting (date, attendees, decisions), and
turns a decision into tracked work for named departments with a due date.

A decision's work is a task of its own (template key meeting-N-S: meeting N, decision S; the prefix is
reserved in the YAML) with one assignment per department, handed in, reviewed, reminded and escalated like
any task and linked back to its meeting (meeting_decision.template_id).

Who: the office records and assigns. The office and leaders read every meeting; a department reads the
meetings that gave it work, with those decisions only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import limits
from domain.access import Actor, can_administer
from domain.errors import Conflict, Invalid, NotFound
from domain.localtime import local_day
from domain.meeting import ATTENDEES_MAX, DECISIONS_MAX, MEETING_KIND, meeting_code
from domain.spec import MEETING_DECISION_PREFIX
from services.campaigns import get_campaign, take_number
from services.guard import check, department_scope, fail, resolve
from services.plan_shapes import add_work, clean_text, parse_deliverable, phase_for_day
from store import audit
from store.models import Assignment, Department, Meeting, MeetingDecision, TaskTemplate


@dataclass(frozen=True)
class DecisionDTO:
    seq: int
    text: str
    template_key: str | None  # None until the office turns it into work
    department_codes: tuple[str, ...]
    due_on: dt.date | None


@dataclass(frozen=True)
class MeetingDTO:
    code: str
    campaign_code: str
    kind: str
    kind_label: str
    title: str
    held_on: dt.date
    attendees: tuple[str, ...]
    recorded_by: str
    decisions: tuple[DecisionDTO, ...]


def _decision_work(session: Session, template_id: int | None) -> tuple[str | None, tuple[str, ...], dt.date | None]:
    if template_id is None:
        return None, (), None
    key = session.scalar(select(TaskTemplate.key).where(TaskTemplate.id == template_id))
    rows = session.execute(
        select(Department.code, Assignment.nominal_due_on)
        .join(Assignment, Assignment.department_id == Department.id)
        .where(Assignment.template_id == template_id)
        .order_by(Department.code)
    ).all()
    return key, tuple(r[0] for r in rows), (rows[0][1] if rows else None)


def _dto(session: Session, campaign_code: str, meeting: Meeting, only_for: str | None = None) -> MeetingDTO:
    decisions = []
    for d in session.scalars(
        select(MeetingDecision).where(MeetingDecision.meeting_id == meeting.id).order_by(MeetingDecision.seq)
    ):
        key, codes, due = _decision_work(session, d.template_id)
        if only_for is None or only_for in codes:
            decisions.append(DecisionDTO(d.seq, d.text, key, codes, due))
    return MeetingDTO(
        meeting.code,
        campaign_code,
        meeting.kind,
        MEETING_KIND.label(meeting.kind),
        meeting.title,
        meeting.held_on,
        tuple(a for a in meeting.attendees.split("、") if a),
        meeting.recorded_by,
        tuple(decisions),
    )


def _office_only(actor: Actor, at: dt.datetime, action: str, key: str, label: str) -> None:
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action=action,
        entity="meeting",
        entity_key=key,
        label=label,
        reason="会商、例会及其决定由牵头办公室记录和交办。",
    )


def record_meeting(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    kind: str,
    title: str,
    held_on: dt.date,
    attendees: list[str],
    decisions: list[str],
) -> MeetingDTO:
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/?"
    _office_only(actor, at, "meeting.record", key, "记录会商、例会")
    try:
        campaign = get_campaign(session, campaign_code)
        known = MEETING_KIND.parse(kind or "")
        if known is None:
            raise Invalid(f"会议类型「{kind}」无效，可选：{'、'.join(MEETING_KIND.choice_labels())}")
        title = clean_text(title, "会议名称", limits.TITLE_MAX)
        if held_on > local_day(at):
            raise Invalid(f"会议日期 {held_on} 晚于今天：请在会后记录")
        if not campaign.start_on <= held_on <= campaign.end_on:
            raise Invalid(f"会议日期 {held_on} 不在专项行动起止日期 {campaign.start_on}～{campaign.end_on} 之内")
        people = [clean_text(a, f"参会人员第 {i} 项", limits.NAME_MAX) for i, a in enumerate(attendees, 1) if a.strip()]
        if not people or len(people) > ATTENDEES_MAX:
            raise Invalid(f"参会人员须有 1～{ATTENDEES_MAX} 项")
        texts = [
            clean_text(d, f"决定事项第 {i} 项", limits.LONG_TEXT_MAX, multiline=True)
            for i, d in enumerate(decisions, 1)
            if d.strip()
        ]
        if len(texts) > DECISIONS_MAX:
            raise Invalid(f"一次会议最多记录 {DECISIONS_MAX} 项决定")
        if len("、".join(people)) > limits.LONG_TEXT_MAX:
            raise Invalid(f"参会人员合计最多 {limits.LONG_TEXT_MAX} 个字符")
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="meeting.record", entity="meeting", entity_key=key)
    code = meeting_code(take_number(session, campaign.id, "meeting"))
    meeting = Meeting(
        campaign_id=campaign.id,
        code=code,
        kind=known.value,
        title=title,
        held_on=held_on,
        attendees="、".join(people),
        recorded_by=actor.username,
        recorded_at=at,
    )
    session.add(meeting)
    session.flush()
    session.add_all(MeetingDecision(meeting_id=meeting.id, seq=i, text=t) for i, t in enumerate(texts, 1))
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="meeting.record",
        entity="meeting",
        entity_key=f"{campaign_code}/{code}",
        after={"kind": known.value, "title": title, "held_on": str(held_on), "attendees": people, "decisions": texts},
    )
    return _dto(session, campaign_code, meeting)


def _meeting(session: Session, campaign_id: int, code: str) -> Meeting:
    meeting = session.scalar(select(Meeting).where(Meeting.campaign_id == campaign_id, Meeting.code == code))
    if meeting is None:
        raise NotFound(f"没有编号为 {code} 的会议记录")
    return meeting


def assign_decision(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    meeting_code: str,
    seq: int,
    department_codes: list[str],
    due_on: dt.date,
    lead: str | None = None,
    deliverable: str = "report",
) -> MeetingDTO:
    """Turn decision `seq` of a meeting into an assignment for each named department, due `due_on`."""
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/{meeting_code}/{seq}"
    _office_only(actor, at, "meeting.assign", key, "交办会议决定")
    try:
        campaign = get_campaign(session, campaign_code)
        meeting = _meeting(session, campaign.id, meeting_code)
        decision = session.scalar(
            select(MeetingDecision)
            .where(MeetingDecision.meeting_id == meeting.id, MeetingDecision.seq == seq)
            .with_for_update()  # two offices assigning the same decision: the second sees the first's work
            .execution_options(populate_existing=True)
        )
        if decision is None:
            raise NotFound(f"会议 {meeting_code} 没有第 {seq} 项决定")
        if decision.template_id is not None:
            raise Conflict(f"会议 {meeting_code} 的第 {seq} 项决定已交办")
        codes = list(dict.fromkeys(c.strip() for c in department_codes if c.strip()))
        if not codes:
            raise Invalid("请指定承办部门")
        depts = {
            d.code: d
            for d in session.scalars(
                select(Department).where(
                    Department.campaign_id == campaign.id, Department.code.in_(codes), Department.active.is_(True)
                )
            )
        }
        missing = [c for c in codes if c not in depts]
        if missing:
            raise NotFound(f"专项行动中没有代码为 {'、'.join(missing)} 的在册部门")
        if lead and lead not in codes:
            raise Invalid(f"牵头部门 {lead} 不在承办部门之中")
        if not meeting.held_on <= due_on <= campaign.end_on:
            raise Invalid(f"完成时限 {due_on} 须在会议日期 {meeting.held_on} 与专项行动结束日期 {campaign.end_on} 之间")
        kind = parse_deliverable(deliverable)
    except (Conflict, Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="meeting.assign", entity="meeting", entity_key=key)
    number = int(meeting.code.rsplit("-", 1)[-1])
    leader = lead or (codes[0] if len(codes) == 1 else None)
    work = add_work(
        session,
        campaign=campaign,
        key=f"{MEETING_DECISION_PREFIX}{number}-{seq}",
        phase=phase_for_day(session, campaign.id, due_on),
        title=f"{meeting.title}决定（{meeting.code}-{seq}）：{decision.text}"[: limits.TITLE_MAX],
        deliverable=kind,
        departments=[(depts[c].id, c == leader) for c in codes],
        due_on=due_on,
        today=max(local_day(at), meeting.held_on),
    )
    decision.template_id = work.template_id
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="meeting.assign",
        entity="meeting",
        entity_key=key,
        after={"departments": codes, "lead": leader, "due_on": str(due_on), "assignments": list(work.assignment_ids)},
    )
    return _dto(session, campaign_code, meeting)


def list_meetings(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
) -> list[MeetingDTO]:
    """Newest first. A department sees only meetings whose decisions gave it work, and only those decisions."""
    actor = resolve(session, actor, at=at)
    own = department_scope(
        actor=actor,
        at=at,
        action="meeting.list",
        campaign_code=campaign_code,
        department_code=None,
        what="会议记录",
        reason="责任部门只能查看交办本部门的会议决定。",
    )
    campaign = get_campaign(session, campaign_code)
    meetings = session.scalars(
        select(Meeting).where(Meeting.campaign_id == campaign.id).order_by(Meeting.held_on.desc(), Meeting.id.desc())
    )
    out = [_dto(session, campaign_code, m, own) for m in meetings]
    return [m for m in out if own is None or m.decisions]
