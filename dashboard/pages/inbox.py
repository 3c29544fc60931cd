"""消息: the in-app inbox of the logged-in user, one thread per task (or lead, or problem) with its
latest message and the task's state now; messages are dated the day of their event, and a reminder
for work handed in since is shown as obsolete, not as unread (services.delivery.truth)."""

import pandas as pd
import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from domain.delivery import OUTBOX, OutboxState
from services import delivery

OBSOLETE = OUTBOX.label(OutboxState.obsolete)  # 已失效

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
threads = session.run_service(delivery.threads_for, actor=actor, unread_only=only_unread, limit=500)
if threads is None:
    st.stop()
if not threads:
    st.info("没有未读消息" if only_unread else "暂无消息。任务提醒、逾期通知、升级督办、退回和审核结果会出现在这里。")
    st.stop()

widgets.xlsx_download(
    pd.DataFrame(
        [
            {
                "日期": i.created_on,
                "专项行动": i.campaign_code or "",
                "标题": i.subject,
                "内容": i.body,
                "状态": OBSOLETE if i.obsolete else ("未读" if i.read_at is None else "已读"),
            }
            for t in threads
            for i in t.items
        ]
    ),
    filename=f"消息-{actor.username}.xlsx",
    key="inbox_xlsx",
    sheet="消息",
)


def _badge(item: delivery.InboxItem) -> str:
    if item.obsolete:
        return f":gray-badge[{OBSOLETE}]"
    return ":red-badge[未读]" if item.read_at is None else ":gray-badge[已读]"


for thread in threads:
    item = thread.latest
    with st.container(border=True, key=f"msg_{item.id}"):
        head, action = st.columns([5, 1])
        head.markdown(f"{_badge(item)} **{item.subject}**")
        facts = [f"{item.created_on:%Y-%m-%d}"]
        if item.state_text:
            facts.append(f"任务当前状态：{item.state_text}")
        if len(thread.items) > 1:
            facts.append(
                f"本事项共 {len(thread.items)} 条消息" + (f"，{thread.unread} 条未读" if thread.unread else "")
            )
        head.caption(" · ".join(facts))
        if item.obsolete:
            head.caption(item.obsolete_note)
        with st.expander("查看内容", expanded=item.unread and len(threads) <= 5):
            st.markdown(item.body)
            for earlier in thread.items[1:]:
                st.divider()
                st.markdown(f"{_badge(earlier)} {earlier.created_on:%Y-%m-%d} **{earlier.subject}**")
                if earlier.obsolete:
                    st.caption(earlier.obsolete_note)
        if (
            item.read_at is None
            and action.button("标为已读", key=f"read_{item.id}")
            and session.run_service(delivery.mark_read, actor=actor, delivery_id=item.id, at=session.now())
        ):
            st.rerun()
        if thread.unread > (1 if item.unread else 0) and action.button("本事项全部已读", key=f"thread_read_{item.id}"):
            marked = session.run_service(delivery.mark_thread_read, actor=actor, thread=thread.key, at=session.now())
            if marked:
                st.rerun()
        # 去办理 only where the task still waits for the department; otherwise it opens it to look.
        label = "去办理" if item.actionable else "查看任务"
        if item.assignment_id and actor.role == Role.department and action.button(label, key=f"goto_{item.id}"):
            if item.read_at is None:
                session.run_service(delivery.mark_read, actor=actor, delivery_id=item.id, at=session.now())
            st.session_state["open_assignment_id"] = item.assignment_id
            st.switch_page("pages/dept_assignments.py")
