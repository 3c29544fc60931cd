"""审核队列: the office accepts submissions or returns them with a reason."""

import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from services import submissions as sub

actor = widgets.page(Role.office)
code = widgets.campaign_or_stop()
st.title("审核队列")

queue = session.run_service(sub.review_queue, actor=actor, campaign_code=code, at=session.now())
if queue is None:
    st.stop()
if not queue:
    st.success("没有待审核的材料")
st.caption(f"待审核 {len(queue)} 项")

for a in queue:
    label = f"{a.department_name} · {a.title}{' · ' + a.period if a.period else ''}（截止 {a.due_on}）"
    with st.expander(label, expanded=len(queue) <= 3):
        result = session.run_service(sub.get_assignment, actor=actor, assignment_id=a.id, at=session.now())
        if result is None:
            continue
        _dto, history = result
        widgets.submission_history(history, actor)
        reason = st.text_input("退回原因（退回时必填）", key=f"reason_{a.id}")
        left, right = st.columns(2)
        if left.button("通过", key=f"accept_{a.id}", type="primary"):
            done = session.run_service(
                sub.accept, actor=actor, at=session.now(), assignment_id=a.id, expected_version=a.version
            )
            if done is not None:
                widgets.refresh_rollup(actor, code)
                widgets.flash(f"已通过：{a.department_name} · {a.title}（{'按时' if done.on_time else '逾期'}）")
                st.rerun()
        if right.button("退回", key=f"return_{a.id}"):
            done = session.run_service(
                sub.return_submission,
                actor=actor,
                at=session.now(),
                assignment_id=a.id,
                expected_version=a.version,
                reason=reason,
            )
            if done is not None:
                widgets.refresh_rollup(actor, code)
                widgets.flash(f"已退回：{a.department_name} · {a.title}", "warning")
                st.rerun()
