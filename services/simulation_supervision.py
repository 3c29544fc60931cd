"""The Yanjiang demo's 督办单 answers and 批示 (issue 13), through the same services the dashboard calls.

Called once per simulated working day (services.simulation.simulate_work), before that day's tick:

- a department answers a 督办单 a few working days after it was issued; a "silent" department
  (the same seeded profile as its submissions) leaves some unanswered past the 反馈期限;
- on the first working day from 29 June the leader writes two 批示: a task (due in the YAML's
  default working days) to the department with most overdue working days, and a note to another,
  which replies the next working day. The task is then handed in like any open assignment.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.access import SYSTEM, Actor, Role
from domain.assignment import UNFINISHED
from domain.duban import DubanState
from domain.instruction import InstructionKind, InstructionState
from domain.localtime import local_midnight
from services import duban, instructions, users
from services.campaigns import get_campaign, stored_spec
from services.holidays import campaign_calendar
from store.models import Assignment, Campaign, Department, Duban, Instruction, User

LEADER_ACTOR_NAME = "sim-leader"
FIRST_INSTRUCTION_DAY = dt.date(2020, 6, 29)


def _unit(seed: int, *parts: object) -> float:
    digest = hashlib.sha256("|".join([str(seed), "supervision", *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _moment(day: dt.date) -> dt.datetime:
    return local_midnight(day) + dt.timedelta(hours=11)  # an hour after the simulated people's work


def _leader(session: Session, at: dt.datetime) -> Actor:
    if session.scalar(select(User.id).where(User.username == LEADER_ACTOR_NAME)) is None:
        users.add_user(
            session,
            actor=SYSTEM,
            at=at,
            username=LEADER_ACTOR_NAME,
            display_name="分管领导（模拟）",
            role=Role.leader,
            department_code=None,
            email=None,
            password=None,  # users.NO_PASSWORD: the model never logs in
        )
    return Actor(LEADER_ACTOR_NAME, Role.leader, None, "分管领导（模拟）")


def _department(code: str) -> Actor:
    return Actor(f"sim-{code}", Role.department, code, f"{code}（模拟）")


def answer_dubans(session: Session, campaign: Campaign, day: dt.date, seed: int) -> int:
    """Departments answer the 督办单 they were sent, a seeded number of working days after issue."""
    cal = campaign_calendar(stored_spec(campaign))
    rows = session.execute(
        select(Duban.id, Duban.issued_on, Department.code)
        .join(Department, Department.id == Duban.department_id)
        .where(Duban.campaign_id == campaign.id, Duban.state == DubanState.issued.value, Duban.issued_on < day)
        .order_by(Duban.id)
    ).all()
    answered = 0
    for duban_id, issued_on, code in rows:
        u = _unit(seed, "answer", duban_id)
        if u < 0.25:
            continue  # this one is never answered
        if day < cal.add_workdays(issued_on, 1 + int(u * 8)):  # 1..8 working days: some past the 反馈期限
            continue
        duban.respond(
            session,
            actor=_department(code),
            at=_moment(day),
            duban_id=duban_id,
            text="已召开专题会议研究部署，逾期事项已办结并报送，相关责任人已约谈提醒。（模拟数据）",
        )
        answered += 1
    return answered


def write_instructions(session: Session, campaign: Campaign, day: dt.date) -> int:
    """The leader's two 批示 on the first working day from FIRST_INSTRUCTION_DAY (once)."""
    cal = campaign_calendar(stored_spec(campaign))
    if day != cal.next_workday(FIRST_INSTRUCTION_DAY) or session.scalar(
        select(func.count()).where(Instruction.campaign_id == campaign.id)
    ):
        return 0
    worst = session.execute(
        select(Department.code, func.sum(Assignment.overdue_days).label("late"))
        .join(Assignment, Assignment.department_id == Department.id)
        .where(Department.campaign_id == campaign.id, Department.is_office.is_(False))
        .where(Assignment.status.in_(UNFINISHED))
        .group_by(Department.code)
        .order_by(func.sum(Assignment.overdue_days).desc(), Department.code)
    ).all()
    if len(worst) < 2:
        return 0
    at = _moment(day)
    leader = _leader(session, at)
    instructions.instruct(
        session,
        actor=leader,
        at=at,
        campaign_code=campaign.code,
        department_code=worst[0][0],
        text="逾期事项较多，请主要负责同志亲自研究，逐项列出整改措施和完成时限，按期报送办理结果。",
        action=True,
    )
    instructions.instruct(
        session,
        actor=leader,
        at=at,
        campaign_code=campaign.code,
        department_code=worst[1][0],
        text="请关注本部门任务进度，对照方案查漏补缺，确保按时保质完成。",
    )
    return 2


def reply_to_notes(session: Session, campaign: Campaign, day: dt.date) -> int:
    """A department replies to a note 批示 the next working day."""
    rows = session.execute(
        select(Instruction.id, Instruction.written_at, Department.code)
        .join(Department, Department.id == Instruction.department_id)
        .where(
            Instruction.campaign_id == campaign.id,
            Instruction.kind == InstructionKind.note.value,
            Instruction.state == InstructionState.open.value,
        )
    ).all()
    replied = 0
    for instruction_id, written_at, code in rows:
        if written_at >= local_midnight(day):
            continue
        instructions.reply(
            session,
            actor=_department(code),
            at=_moment(day),
            instruction_id=instruction_id,
            text="收到批示，已组织专题研究，正逐项对照落实，将按时报送。（模拟数据）",
        )
        replied += 1
    return replied


def simulate_supervision(session: Session, campaign_code: str, day: dt.date, seed: int) -> int:
    """The day's 督办单 answers, 批示 and replies; returns how many actions were taken."""
    campaign = get_campaign(session, campaign_code)
    if not campaign_calendar(stored_spec(campaign)).is_workday(day):
        return 0
    return (
        answer_dubans(session, campaign, day, seed)
        + write_instructions(session, campaign, day)
        + reply_to_notes(session, campaign, day)
    )
