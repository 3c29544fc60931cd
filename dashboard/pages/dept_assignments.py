"""我的任务: a department's assignments with due / overdue badges, and submitting work."""

import pandas as pd
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from domain.assignment import ASSIGNMENT, UNFINISHED, AssignmentStatus
from services import submissions as sub
from services.attachments import Upload

actor = widgets.page(Role.department)
code = widgets.campaign_or_stop()
today = session.today()
calendar = widgets.calendar_of(queries.spec(actor, code))
st.title("我的任务")

items = session.run_service(sub.list_assignments, actor=actor, campaign_code=code)
if items is None:
    st.stop()
items = [a for a in items if a.status != AssignmentStatus.cancelled]
todo = [a for a in items if a.status in UNFINISHED]
c = st.columns(4)
c[0].metric("待办", len(todo))
c[1].metric("逾期", sum(1 for a in todo if a.overdue_days > 0 or a.due_on < today))
c[2].metric(
    ASSIGNMENT.label(AssignmentStatus.submitted), sum(1 for a in items if a.status == AssignmentStatus.submitted)
)
c[3].metric(ASSIGNMENT.label(AssignmentStatus.accepted), sum(1 for a in items if a.status == AssignmentStatus.accepted))

show_all = st.toggle("显示全部任务（含未开始和已通过）", key="show_all")
shown = items if show_all else [a for a in items if a.status in (*UNFINISHED, AssignmentStatus.submitted)]
table = pd.DataFrame(
    [
        {
            "任务编号": a.id,
            "任务": a.title,
            "截止日期": a.due_on,
            "提醒": widgets.countdown(calendar, today, a.due_on, a.status, a.overdue_days),
            "状态": ASSIGNMENT.label(a.status),
            "期次": a.period or "—",
            "阶段": a.phase_title,
        }
        for a in shown
    ]
)
if table.empty:
    st.info("目前没有需要办理的任务")
else:
    widgets.table(table, key="my_tasks", filename=f"我的任务-{code}.xlsx", sheet="我的任务")

st.subheader("办理任务")
ids = [a.id for a in shown]
by_id = {a.id: a for a in items}
params_id = st.query_params.get("assignment")
choice = st.selectbox(
    "选择任务",
    [0, *ids],
    key="pick_assignment",
    format_func=lambda i: (
        "（请选择）"
        if i == 0
        else f"{by_id[i].title}{' · ' + by_id[i].period if by_id[i].period else ''}（截止 {by_id[i].due_on}）"
    ),
)
if "open_assignment_id" not in st.session_state:  # set by 消息 → 去办理, or the ?assignment= link of a reminder
    st.session_state["open_assignment_id"] = int(params_id) if params_id and params_id.isdigit() else 0
manual = st.number_input("或输入任务编号打开", min_value=0, step=1, key="open_assignment_id")
target = int(choice or manual or 0)
if target:
    result = session.run_service(sub.get_assignment, actor=actor, assignment_id=target, at=session.now())
    if result is not None:
        a, history = result
        st.markdown(
            f"**{a.title}** · {a.phase_title}{' · ' + a.period if a.period else ''} · 截止 {a.due_on} · "
            f"{widgets.countdown(calendar, today, a.due_on, a.status, a.overdue_days)}"
        )
        widgets.submission_history(history, actor)
        if a.status in UNFINISHED:
            with st.form(f"submit_{a.id}", clear_on_submit=True):
                text = st.text_area("报送内容", key=f"text_{a.id}", placeholder="填写工作情况、整改进展等")
                rows = st.data_editor(
                    pd.DataFrame(
                        {
                            "项目名称": pd.Series(dtype=str),
                            "情况说明": pd.Series(dtype=str),
                            "备注": pd.Series(dtype=str),
                        }
                    ),
                    num_rows="dynamic",
                    key=f"rows_{a.id}",
                    width="stretch",
                )
                files = st.file_uploader(
                    "附件（PDF、Word、Excel、图片、压缩包）", accept_multiple_files=True, key=f"files_{a.id}"
                )
                sent = st.form_submit_button("提交报送", type="primary")
            if sent:
                clean = [
                    {k: v for k, v in r.items() if v not in (None, "") and not pd.isna(v)}
                    for r in rows.to_dict("records")
                ]
                clean = [r for r in clean if r]
                uploads = [Upload(f.name, f.type or "application/octet-stream", f.getvalue()) for f in files or []]
                done = session.run_service(
                    sub.submit,
                    actor=actor,
                    at=session.now(),
                    assignment_id=a.id,
                    text=text,
                    rows=clean or None,
                    attachments=uploads,
                    attachment_dir=session.attachment_dir(),
                )
                if done is not None:
                    widgets.refresh_rollup(actor, code)
                    widgets.flash(f"已提交「{a.title}」，等待牵头办公室审核")
                    st.rerun()
        elif a.status == AssignmentStatus.scheduled:
            st.info(f"任务将于 {a.opens_on} 开始")
