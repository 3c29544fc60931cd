"""批示: a leader (or the office) writes an instruction on a department's work, an assignment (a task or
its submission), a problem of the 整改台账, or the department's monthly report of a period. Each
target must be the addressed department's own (a report period one its reports cover, begun by
today), so the department that gets the 批示 is the one whose work it is on. One that asks for action
becomes a tracked assignment of the department (source 批示, due on the date given or the YAML's
default), answered by its submission like any task; one that does not is a note the department
answers with a reply. The leader sees the answer either way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from domain.access import Actor, Role, can_act_for_department
from domain.assignment import ASSIGNMENT, AssignmentStatus
from domain.delivery import OutboxKind
from domain.errors import Invalid, NotFound
from domain.instruction import (
    INSTRUCTION_KIND,
    INSTRUCTION_STATE,
    INSTRUCTION_SUBJECT,
    AssignmentSource,
    InstructionKind,
    InstructionState,
    InstructionSubject,
)
from domain.localtime import local_day
from domain.reporting import report_window
from domain.spec import INSTRUCTION_TEMPLATE_KEY
from services.campaigns import get_campaign, stored_spec, take_number
from services.delivery.events import assignment_event, department_event
from services.duban import clean_text
from services.guard import check, department_scope, fail, resolve
from services.holidays import campaign_calendar
from store import audit
from store.models import (
    Assignment,
    Campaign,
    Department,
    Instruction,
    Phase,
    Problem,
    Submission,
    TaskTemplate,
    User,
)

COUNTER = "instruction"
TASK_TITLE = "领导批示交办事项"


@dataclass(frozen=True)
class InstructionDTO:
    id: int
    seq: int
    campaign_code: str
    department_code: str
    department_name: str
    subject: str
    subject_text: str  # what it was written on, in words
    text: str
    kind: str
    due_on: dt.date | None
    written_by: str
    written_at: dt.datetime
    state: str
    task_assignment_id: int | None
    task_status: str | None
    answer: str | None  # the reply to a note, or the task's latest submission
    answered_at: dt.datetime | None
    written_by_name: str = ""  # the writer's display name, for people to read

    @property
    def kind_label(self) -> str:
        return INSTRUCTION_KIND.label(self.kind)

    @property
    def state_label(self) -> str:
        if self.task_status is not None:
            return ASSIGNMENT.label(self.task_status)
        return INSTRUCTION_STATE.label(self.state)


def _may_instruct(actor: Actor) -> bool:
    return actor.role in (Role.leader, Role.office)


def _phase_for(session: Session, campaign_id: int, day: dt.date) -> Phase:
    """The phase a 批示's task belongs to: the one running on the day, else the latest begun, else the first."""
    phases = list(session.scalars(select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.ordinal)))
    running = [p for p in phases if p.start_on <= day <= p.end_on]
    begun = [p for p in phases if p.start_on <= day]
    if running:
        return running[0]
    return begun[-1] if begun else phases[0]


def _template(session: Session, campaign_id: int, phase_id: int) -> int:
    """The campaign's one template for 批示 tasks (not in the YAML; a changed YAML leaves it alone)."""
    tid = session.scalar(
        select(TaskTemplate.id).where(
            TaskTemplate.campaign_id == campaign_id, TaskTemplate.key == INSTRUCTION_TEMPLATE_KEY
        )
    )
    if tid is None:
        t = TaskTemplate(
            campaign_id=campaign_id,
            key=INSTRUCTION_TEMPLATE_KEY,
            phase_id=phase_id,
            title=TASK_TITLE,
            deliverable="report",
            review_required=True,
            recurring_day=None,
        )
        session.add(t)
        session.flush()
        tid = t.id
    return tid


def instruct(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    department_code: str,
    text: str,
    assignment_id: int | None = None,
    problem_code: str | None = None,
    report_period: str | None = None,
    due_on: dt.date | None = None,
    action: bool = False,
) -> InstructionDTO:
    """Write a 批示. A due date, or `action` (then the YAML's default working days), makes it a task."""
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/{department_code}"
    check(
        _may_instruct(actor),
        actor=actor,
        at=at,
        action="instruction.write",
        entity="department",
        entity_key=key,
        label="作出批示",
        reason="批示由领导或牵头办公室作出。",
    )
    today = local_day(at)
    try:
        campaign = get_campaign(session, campaign_code)
        dept = session.scalar(
            select(Department).where(Department.campaign_id == campaign.id, Department.code == department_code)
        )
        if dept is None or not dept.active:
            raise NotFound(f"专项行动 {campaign_code} 中没有代码为 {department_code!r} 的部门")
        body = clean_text(text, "批示内容")
        if sum(x is not None and x != "" for x in (assignment_id, problem_code, report_period)) > 1:
            raise Invalid("一条批示只能针对一个对象：任务、问题或月度报告选其一")
        subject, subject_text, problem_id = InstructionSubject.department, f"{dept.name}的工作", None
        if assignment_id is not None:
            target = session.get(Assignment, assignment_id)
            if target is None or target.campaign_id != campaign.id or target.department_id != dept.id:
                raise NotFound(f"部门 {department_code} 在本专项行动中没有编号为 {assignment_id} 的任务")
            subject, subject_text = InstructionSubject.assignment, f"任务 {assignment_id}"
        elif problem_code:
            problem = session.scalar(
                select(Problem).where(Problem.campaign_id == campaign.id, Problem.code == problem_code)
            )
            if problem is None or problem.department_id != dept.id:
                raise NotFound(f"部门 {department_code} 没有编号为 {problem_code} 的问题")
            subject, subject_text, problem_id = InstructionSubject.problem, f"问题 {problem_code}", problem.id
        spec = stored_spec(campaign)
        if report_period:
            report_window(spec, report_period, department_code, at)  # a period of its reports, begun by today
            subject, subject_text = InstructionSubject.report, f"{report_period} 月度报告"
        if due_on is None and action:
            due_on = campaign_calendar(spec).add_workdays(today, spec.instructions.default_due_working_days)
        if due_on is not None and due_on < today:
            raise Invalid(f"办理期限 {due_on} 早于今天 {today}")
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="instruction.write", entity="department", entity_key=key)

    seq = take_number(session, campaign.id, COUNTER)
    kind = InstructionKind.task if due_on is not None else InstructionKind.note
    task_id = None
    if due_on is not None:
        phase = _phase_for(session, campaign.id, today)
        task = Assignment(
            campaign_id=campaign.id,
            template_id=_template(session, campaign.id, phase.id),
            department_id=dept.id,
            phase_id=phase.id,
            period=f"批示{seq}",
            is_lead=False,
            opens_on=today,
            due_on=due_on,
            nominal_due_on=due_on,
            review_required=True,
            status=AssignmentStatus.open.value,
            overdue_days=0,
            escalation_level=0,
            source=AssignmentSource.instruction.value,
        )
        session.add(task)
        session.flush()
        task_id = task.id
    row = Instruction(
        campaign_id=campaign.id,
        seq=seq,
        department_id=dept.id,
        subject=subject.value,
        assignment_id=assignment_id,
        problem_id=problem_id,
        report_period=report_period,
        text=body,
        kind=kind.value,
        due_on=due_on,
        task_assignment_id=task_id,
        written_by=actor.username,
        written_at=at,
        state=InstructionState.open.value,
    )
    session.add(row)
    session.flush()
    who = actor.display_name or actor.username
    facts = [("批示", body), ("批示人", who), ("针对", subject_text)]
    if task_id is not None:
        assignment_event(
            session,
            assignment_id=task_id,
            kind=OutboxKind.instruction,
            tag="领导批示",
            event_on=today,
            key_suffix=str(row.id),
            action="请按批示要求办理，并在截止日期前在“我的任务”中报送办理结果。",
            facts=facts,
            actor=actor,
            at=at,
        )
    else:
        department_event(
            session,
            department_id=dept.id,
            kind=OutboxKind.instruction,
            tag="领导批示",
            thread_key=f"instruction:{row.id}",
            subject_line=f"批示 {seq}",
            event_on=today,
            natural_key=f"evt:instruction:{row.id}",
            action="请阅知，并在“批示”页回复落实情况。",
            facts=facts,
            actor=actor,
            at=at,
        )
    audit.record(
        session,
        at=at,
        actor=actor,
        action="instruction.write",
        entity="instruction",
        entity_key=str(row.id),
        after={
            "department": department_code,
            "subject": subject.value,
            "kind": kind.value,
            "due_on": due_on.isoformat() if due_on else None,
            "task_assignment_id": task_id,
            "chars": len(body),
        },
    )
    return _one(session, row.id)


def reply(session: Session, *, actor: Actor, at: dt.datetime, instruction_id: int, text: str) -> InstructionDTO:
    """The department's reply to a 批示 that asked for no task (a task is answered by its submission)."""
    actor = resolve(session, actor, at=at)
    key = str(instruction_id)
    row = session.get(Instruction, instruction_id)
    if row is None:
        fail(
            NotFound(f"没有编号为 {instruction_id} 的批示"),
            actor=actor,
            at=at,
            action="instruction.reply",
            entity="instruction",
            entity_key=key,
        )
    dto = _one(session, instruction_id)
    check(
        can_act_for_department(actor, dto.department_code, dto.campaign_code),
        actor=actor,
        at=at,
        action="instruction.reply",
        entity="instruction",
        entity_key=key,
        label=f"回复部门 {dto.department_code} 收到的批示",
        reason="只有批示所指的部门可以回复。",
    )
    try:
        if row.kind == InstructionKind.task:
            raise Invalid("该批示已交办为任务，请在“我的任务”中报送办理结果")
        if not INSTRUCTION_STATE.allows(row.state, InstructionState.answered):
            raise Invalid("该批示已回复")
        answer = clean_text(text, "回复内容")
    except Invalid as exc:
        fail(exc, actor=actor, at=at, action="instruction.reply", entity="instruction", entity_key=key)
    row.state, row.reply, row.replied_by, row.replied_at = InstructionState.answered.value, answer, actor.username, at
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="instruction.reply",
        entity="instruction",
        entity_key=key,
        before={"state": InstructionState.open.value},
        after={"state": row.state, "chars": len(answer)},
    )
    return _one(session, instruction_id)


# --- reading -----------------------------------------------------------------------------------------------


def _select():  # noqa: ANN202
    task = aliased(Assignment)
    return (
        select(
            Instruction, Campaign.code, Department.code, Department.name, task.status, User.display_name, Problem.code
        )
        .outerjoin(User, User.username == Instruction.written_by)
        .outerjoin(Problem, Problem.id == Instruction.problem_id)
        .join(Campaign, Campaign.id == Instruction.campaign_id)
        .join(Department, Department.id == Instruction.department_id)
        .outerjoin(task, task.id == Instruction.task_assignment_id)
    )


def _answers(session: Session, task_ids: list[int]) -> dict[int, Submission]:
    latest: dict[int, Submission] = {}
    if task_ids:
        for sub in session.scalars(
            select(Submission).where(Submission.assignment_id.in_(task_ids)).order_by(Submission.seq)
        ):
            latest[sub.assignment_id] = sub
    return latest


def _dtos(session: Session, rows: list[Any]) -> list[InstructionDTO]:
    answers = _answers(session, [r[0].task_assignment_id for r in rows if r[0].task_assignment_id])
    out = []
    for i, ccode, dcode, dname, task_status, writer, problem_code in rows:
        sub = answers.get(i.task_assignment_id) if i.task_assignment_id else None
        subject_text = {
            InstructionSubject.assignment: f"任务 {i.assignment_id}",
            InstructionSubject.problem: f"问题 {problem_code}" if problem_code else "问题",
            InstructionSubject.report: f"{i.report_period} 月度报告",
        }.get(InstructionSubject(i.subject), INSTRUCTION_SUBJECT.label(i.subject))
        out.append(
            InstructionDTO(
                i.id,
                i.seq,
                ccode,
                dcode,
                dname,
                i.subject,
                subject_text,
                i.text,
                i.kind,
                i.due_on,
                i.written_by,
                i.written_at,
                i.state,
                i.task_assignment_id,
                task_status,
                sub.text if sub is not None else i.reply,
                sub.submitted_at if sub is not None else i.replied_at,
                writer or i.written_by,
            )
        )
    return out


def _one(session: Session, instruction_id: int) -> InstructionDTO:
    return _dtos(session, list(session.execute(_select().where(Instruction.id == instruction_id)).all()))[0]


def list_instructions(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> list[InstructionDTO]:
    """The campaign's 批示, newest first, with the answers: a department account sees those addressed to it."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="instruction.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="批示",
        reason="责任部门只能查看写给本部门的批示。",
    )
    campaign = get_campaign(session, campaign_code)
    q = _select().where(Instruction.campaign_id == campaign.id)
    if department_code is not None:
        q = q.where(Department.code == department_code)
    return _dtos(session, list(session.execute(q.order_by(Instruction.seq.desc())).all()))
