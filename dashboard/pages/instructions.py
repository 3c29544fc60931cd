"""批示: a leader (or the office) writes an instruction on a department's work, one of its tasks (or
the submission handed in for it), a problem of its 整改台账 or its monthly report of a period — a task
to handle by a date, or a note to read; everyone sees the answers. A department sees the instructions
addressed to it (a task also appears in 我的任务) and replies to a note."""

import datetime as dt

import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from domain.assignment import ASSIGNMENT
from domain.problem import PROBLEM
from services import instructions, submissions
from services import problems as problem_service
from services import reports as report_service
from services.views import campaigns as views

# What a 批示 may be written on (services.instructions.instruct), and how each kind of target reads.
SUBJECTS = {"department": "部门工作", "assignment": "任务或其报送材料", "problem": "整改问题", "report": "月度报告"}


def _task_label(a) -> str:  # noqa: ANN001 - an AssignmentDTO
    return f"{a.title}{' · ' + a.period if a.period else ''}（{ASSIGNMENT.label(a.status)}）"


def _problem_label(p) -> str:  # noqa: ANN001 - a ProblemDTO
    return f"{p.code} · {p.category} · {p.description[:30]}（{PROBLEM.label(p.status)}）"


def _report_label(period: str) -> str:
    return f"{period} 月度报告"


TARGET_FORMATTERS = {"assignment": _task_label, "problem": _problem_label, "report": _report_label}

actor = widgets.page(Role.leader, Role.office, Role.department)
code = widgets.campaign_or_stop()
st.title("领导批示")

if actor.role in (Role.leader, Role.office):
    board = session.run_service(views.departments, actor=actor, campaign_code=code, at=session.now())
    if board is None:
        st.stop()
    members = {row.code: row.name for row in board.itertuples() if not row.is_office}
    st.subheader("作出批示")
    dept = st.selectbox("部门", list(members), format_func=members.__getitem__, key="instruction_department")
    subject = (
        st.segmented_control(
            "批示针对",
            list(SUBJECTS),
            format_func=SUBJECTS.__getitem__,
            default="department",
            key="instruction_subject",
        )
        or "department"
    )
    targets: list = []  # the chosen department's own tasks, problems or report periods
    if dept is not None and subject == "assignment":
        targets = (
            session.run_service(
                submissions.list_assignments, actor=actor, campaign_code=code, department_code=dept, at=session.now()
            )
            or []
        )
    elif dept is not None and subject == "problem":
        targets = (
            session.run_service(
                problem_service.list_problems, actor=actor, campaign_code=code, department_code=dept, at=session.now()
            )
            or []
        )
    elif dept is not None and subject == "report":
        targets = (
            session.run_service(
                report_service.report_periods, campaign_code=code, department_code=dept, as_of=session.today()
            )
            or []
        )
    with st.form("instruction_form", clear_on_submit=True):
        target = None
        if subject != "department":
            if not targets:
                st.info(f"{members.get(dept or '', '该部门')}还没有可批示的{SUBJECTS[subject]}")
            target = st.selectbox(
                SUBJECTS[subject], targets, format_func=TARGET_FORMATTERS[subject], key=f"instruction_{subject}"
            )
        text = st.text_area("批示内容", key="instruction_text")
        act = st.checkbox("要求办理（交办为部门的任务）", value=True, key="instruction_act")
        due = st.date_input(
            "办理期限（不填则按方案默认的工作日数）", value=None, min_value=session.today(), key="instruction_due"
        )
        if st.form_submit_button("发送批示", type="primary") and dept is not None:
            if subject != "department" and target is None:
                st.error(f"请选择批示针对的{SUBJECTS[subject]}")
                st.stop()
            done = session.run_service(
                instructions.instruct,
                actor=actor,
                at=session.now(),
                campaign_code=code,
                department_code=dept,
                assignment_id=target.id if subject == "assignment" and target is not None else None,
                problem_code=target.code if subject == "problem" and target is not None else None,
                report_period=target if subject == "report" else None,
                text=text,
                due_on=due if act and isinstance(due, dt.date) else None,
                action=act,
            )
            if done is not None:
                what = f"已交办，办理期限 {done.due_on}" if done.task_assignment_id else "已送阅知"
                widgets.flash(f"批示 {done.seq} {what}：{done.department_name}")
                st.rerun()

rows = session.run_service(instructions.list_instructions, actor=actor, campaign_code=code, at=session.now())
if rows is None:
    st.stop()
st.subheader("批示办理情况" if actor.role != Role.department else "收到的批示")
if not rows:
    st.info("暂无批示")
for i in rows:
    deadline = f"，办理期限 {i.due_on}" if i.due_on else ""
    with st.expander(
        f"批示 {i.seq} · {i.department_name} · {i.kind_label}{deadline}（{i.state_label}）", expanded=True
    ):
        st.markdown(f"**批示**（{i.written_by_name}，针对{i.subject_text}）：{i.text}")
        if i.task_assignment_id is not None:
            st.caption(f"已交办为任务（编号 {i.task_assignment_id}），在“我的任务”中办理报送。")
        if i.answer:
            st.markdown(f"**答复**：{i.answer}")
        elif actor.role == Role.department and i.task_assignment_id is None:
            reply = st.text_area("回复", key=f"instruction_reply_{i.id}")
            if st.button("提交回复", key=f"instruction_reply_btn_{i.id}", type="primary"):
                done = session.run_service(
                    instructions.reply, actor=actor, at=session.now(), instruction_id=i.id, text=reply
                )
                if done is not None:
                    widgets.flash(f"已回复批示 {done.seq}")
                    st.rerun()
