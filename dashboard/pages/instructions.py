"""批示: a leader (or the office) writes an instruction on a department or one of its tasks — a task to
handle by a date, or a note to read; everyone sees the answers. A department sees the instructions
addressed to it (a task also appears in 我的任务) and replies to a note."""

import datetime as dt

import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from services import instructions, submissions
from services.views import campaigns as views

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
    tasks = []
    if dept is not None:
        tasks = (
            session.run_service(
                submissions.list_assignments, actor=actor, campaign_code=code, department_code=dept, at=session.now()
            )
            or []
        )
    with st.form("instruction_form", clear_on_submit=True):
        on_task = st.selectbox(
            "针对任务（可不选）",
            [None, *tasks],
            format_func=lambda a: "（部门工作）" if a is None else f"{a.title}{' · ' + a.period if a.period else ''}",
            key="instruction_assignment",
        )
        text = st.text_area("批示内容", key="instruction_text")
        act = st.checkbox("要求办理（交办为部门的任务）", value=True, key="instruction_act")
        due = st.date_input(
            "办理期限（不填则按方案默认的工作日数）", value=None, min_value=session.today(), key="instruction_due"
        )
        if st.form_submit_button("发送批示", type="primary") and dept is not None:
            done = session.run_service(
                instructions.instruct,
                actor=actor,
                at=session.now(),
                campaign_code=code,
                department_code=dept,
                assignment_id=on_task.id if on_task is not None else None,
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
