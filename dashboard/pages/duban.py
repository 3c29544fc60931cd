"""督办单: the office and leaders list every notice (download the .docx); a department answers its own."""

import pandas as pd
import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from domain.duban import DUBAN, DubanState
from services import duban

actor = widgets.page(Role.office, Role.leader, Role.department)
code = widgets.campaign_or_stop()
st.title("督办单")

notices = session.run_service(duban.list_dubans, actor=actor, campaign_code=code, at=session.now())
if notices is None:
    st.stop()
today = session.today()
if not notices:
    st.success("没有督办单")
    st.stop()
waiting = [d for d in notices if d.state == DubanState.issued]
late = [d for d in waiting if d.overdue_answer(today)]
left, middle, right = st.columns(3)
left.metric("督办单", len(notices))
middle.metric(DUBAN.label(DubanState.issued), len(waiting))
right.metric("逾期未反馈", len(late))

frame = pd.DataFrame(
    [
        {
            "编号": d.number,
            "颜色": d.colour_label,
            "督办事项": d.matter,
            "责任单位": d.department_name,
            "原定期限": d.original_due_on,
            "延期后期限": d.due_on if d.due_on != d.original_due_on else None,
            "逾期工作日": d.overdue_days,
            "反馈期限": d.respond_due_on,
            "状态": d.state_label + ("（逾期）" if d.overdue_answer(today) else ""),
            "反馈": d.answer or "",
        }
        for d in notices
    ]
)
widgets.table(frame, key="duban_table", filename=f"督办单-{code}.xlsx", sheet="督办单")

for d in notices:
    title = f"{d.number} · {d.colour_label}色 · {d.department_name} · {d.matter}（{d.state_label}）"
    with st.expander(title, expanded=actor.role == Role.department and d.state == DubanState.issued):
        st.markdown(f"**督办要求**：{d.requirement}")
        st.caption(f"签发 {d.issued_on}，反馈期限 {d.respond_due_on}，逾期 {d.overdue_days} 个工作日")

        def build(duban_id: int = d.id) -> bytes:
            with session.unit_of_work() as uow:
                return duban.duban_document(uow.session, actor=actor, duban_id=duban_id, at=session.now())[1]

        widgets.download(
            build,
            filename=f"督办单-{d.number}.docx",
            key=f"duban_docx_{d.id}",
            label="下载督办单（Word）",
            mime=widgets.DOCX_MIME,
        )
        if d.answer:
            st.markdown(f"**办理反馈**（{d.answered_by_name or d.department_name}）：{d.answer}")
        elif actor.role == Role.department:
            text = st.text_area("办理情况", key=f"duban_answer_{d.id}")
            if st.button("提交反馈", key=f"duban_respond_{d.id}", type="primary"):
                done = session.run_service(duban.respond, actor=actor, at=session.now(), duban_id=d.id, text=text)
                if done is not None:
                    widgets.flash(f"已反馈督办单 {done.number}")
                    st.rerun()
