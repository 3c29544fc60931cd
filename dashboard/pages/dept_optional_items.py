"""自选事项: a department adds its own items to a phase that allows them (seed 003 三), sees them beside its
mandatory work, and may withdraw one not yet accepted. A 自选事项 never replaces a mandatory item: the form
says so, and the service refuses it. The items are handed in on 我的任务 like any task."""

import pandas as pd
import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from domain.spec import DELIVERABLE_LABELS
from services import optional_items as item_service

actor = widgets.page(Role.department)
code = widgets.campaign_or_stop()
today = session.today()
dept = actor.department_code or ""
st.title("自选事项")

windows = session.run_service(
    item_service.windows, actor=actor, campaign_code=code, department_code=dept, at=session.now()
)
items = session.run_service(item_service.list_items, actor=actor, campaign_code=code, at=session.now())
if windows is None or items is None:
    st.stop()

st.subheader("本单位的自选事项")
if not items:
    st.info("尚未添加自选事项")
else:
    widgets.table(
        pd.DataFrame(
            [
                {
                    "事项": i.title,
                    "阶段": i.phase_title,
                    "报送形式": i.deliverable_label,
                    "截止日期": i.due_on,
                    "状态": i.status_label,
                }
                for i in items
            ]
        ),
        key="optional_items",
        filename=f"自选事项-{code}-{dept}.xlsx",
        sheet="自选事项",
    )
    st.caption("自选事项在“我的任务”中报送，由牵头办公室审核，计入进度。")

open_windows = [w for w in windows if w.opens_on <= today <= w.closes_on]
st.subheader("添加自选事项")
if not open_windows:
    st.info("当前没有允许添加自选事项的阶段")
else:
    with st.form("optional_item_add", clear_on_submit=True):
        phase = st.selectbox(
            "阶段",
            [w.phase_key for w in open_windows],
            key="optional_phase",
            format_func=lambda k: next(f"{k}（{w.opens_on}～{w.closes_on}）" for w in open_windows if w.phase_key == k),
        )
        window = next(w for w in open_windows if w.phase_key == phase)
        if window.note:
            st.caption(window.note)
        title = st.text_input("事项名称", key="optional_title")
        c1, c2 = st.columns(2)
        kinds = [DELIVERABLE_LABELS[d] for d in window.deliverables] or list(DELIVERABLE_LABELS.values())
        deliverable = c1.selectbox("报送形式", kinds, key="optional_deliverable")
        due = c2.date_input(
            "截止日期", value=window.closes_on, min_value=today, max_value=window.closes_on, key="optional_due"
        )
        st.caption("自选事项不能取代或撤销本方案规定的事项。")
        go = st.form_submit_button("添加", type="primary")
    if go:
        done = session.run_service(
            item_service.add_item,
            actor=actor,
            at=session.now(),
            campaign_code=code,
            department_code=dept,
            phase_key=phase,
            title=title,
            deliverable=deliverable,
            due_on=due,
        )
        if done is not None:
            widgets.flash(f"已添加自选事项「{done.title}」，截止 {done.due_on}")
            st.rerun()

withdrawable = [i for i in items if i.status not in ("accepted", "cancelled")]
if withdrawable:
    st.subheader("撤销自选事项")
    key = st.selectbox(
        "事项",
        [i.key for i in withdrawable],
        key="optional_withdraw",
        format_func=lambda k: next(i.title for i in withdrawable if i.key == k),
    )
    if st.button("撤销", key="optional_withdraw_go"):
        done = session.run_service(
            item_service.withdraw_item, actor=actor, at=session.now(), campaign_code=code, template_key=key
        )
        if done is not None:
            widgets.flash(f"已撤销自选事项「{done.title}」")
            st.rerun()
