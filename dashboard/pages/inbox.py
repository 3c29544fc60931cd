"""消息: the in-app inbox of the logged-in user (reminders, overdue notices, escalations); mark read."""

import pandas as pd
import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from services import delivery

actor = widgets.page()
st.title("消息")

unread = session.run_service(delivery.unread_count, actor=actor)
c1, c2 = st.columns([3, 1])
c1.metric("未读消息", unread or 0)
if unread and c2.button("全部标为已读", key="inbox_read_all"):
    n = session.run_service(delivery.mark_all_read, actor=actor, at=session.now())
    if n is not None:
        widgets.flash(f"已将 {n} 条消息标为已读")
        st.rerun()

only_unread = st.toggle("只看未读", key="inbox_unread_only")
items = session.run_service(delivery.inbox_for, actor=actor, unread_only=only_unread, limit=200)
if items is None:
    st.stop()
if not items:
    st.info("没有未读消息" if only_unread else "暂无消息。任务提醒、逾期通知和升级督办会出现在这里。")
    st.stop()

widgets.xlsx_download(
    pd.DataFrame(
        [
            {
                "日期": i.created_on,
                "专项行动": i.campaign_code or "",
                "标题": i.subject,
                "内容": i.body,
                "状态": "未读" if i.read_at is None else "已读",
            }
            for i in items
        ]
    ),
    filename=f"消息-{actor.username}.xlsx",
    key="inbox_xlsx",
    sheet="消息",
)

for item in items:
    with st.container(border=True, key=f"msg_{item.id}"):
        head, action = st.columns([5, 1])
        state = ":red-badge[未读]" if item.read_at is None else ":gray-badge[已读]"
        head.markdown(f"{state} **{item.subject}**")
        head.caption(f"{item.created_on:%Y-%m-%d}" + (f" · {item.campaign_code}" if item.campaign_code else ""))
        with st.expander("查看内容", expanded=item.read_at is None and len(items) <= 5):
            st.markdown(item.body)
        if (
            item.read_at is None
            and action.button("标为已读", key=f"read_{item.id}")
            and session.run_service(delivery.mark_read, actor=actor, delivery_id=item.id, at=session.now())
        ):
            st.rerun()
        if item.assignment_id and actor.role == Role.department and action.button("去办理", key=f"goto_{item.id}"):
            if item.read_at is None:
                session.run_service(delivery.mark_read, actor=actor, delivery_id=item.id, at=session.now())
            st.session_state["open_assignment_id"] = item.assignment_id
            st.switch_page("pages/dept_assignments.py")
