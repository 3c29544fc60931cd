"""会商与例会: the office records a meeting (date, attendees, decisions) and turns each decision into tracked
work for named departments with a due date (services.meetings); the list shows which decisions became which
work. Leaders read the same list."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from domain.meeting import MEETING_KIND
from domain.spec import DELIVERABLE_LABELS
from services import meetings as meeting_service

actor = widgets.page(Role.office, Role.leader)
code = widgets.campaign_or_stop()
today = session.today()
st.title("会商与例会")

meetings = session.run_service(meeting_service.list_meetings, actor=actor, campaign_code=code, at=session.now())
if meetings is None:
    st.stop()
dept_names = queries.department_names(actor, code)


def decisions_frame(rows: list[meeting_service.MeetingDTO]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "会议编号": m.code,
                "类型": m.kind_label,
                "会议": m.title,
                "日期": m.held_on,
                "决定": f"{d.seq}. {d.text}",
                "承办部门": "、".join(dept_names.get(c, c) for c in d.department_codes) or "未交办",
                "完成时限": d.due_on,
            }
            for m in rows
            for d in m.decisions
        ],
        columns=["会议编号", "类型", "会议", "日期", "决定", "承办部门", "完成时限"],
    )


tabs = ["会议记录", "记录会议", "交办决定"] if actor.role == Role.office else ["会议记录"]
tab_list, *office_tabs = st.tabs(tabs)

with tab_list:
    if not meetings:
        st.info("暂无会议记录")
    for m in meetings:
        st.markdown(f"**{m.code} {m.title}**（{m.kind_label}，{m.held_on}）")
        st.caption(f"参会：{'、'.join(m.attendees)}")
    if meetings:
        widgets.table(
            decisions_frame(meetings), key="meeting_decisions", filename=f"会议决定-{code}.xlsx", sheet="决定"
        )

if office_tabs:
    tab_record, tab_assign = office_tabs
    with tab_record, st.form("meeting_record", clear_on_submit=True):
        c1, c2, c3 = st.columns([1, 3, 1])
        kind = c1.selectbox("类型", MEETING_KIND.choice_labels(), key="meeting_kind")
        title = c2.text_input("会议名称", key="meeting_title", placeholder="如：联席会议第二次会商")
        held = c3.date_input("会议日期", value=today, max_value=today, key="meeting_day")
        attendees = st.text_input("参会单位或人员（用“、”分隔）", key="meeting_attendees")
        decisions = st.text_area("决定事项（每行一项）", key="meeting_decisions_text")
        go = st.form_submit_button("保存会议记录", type="primary")
    if go:
        done = session.run_service(
            meeting_service.record_meeting,
            actor=actor,
            at=session.now(),
            campaign_code=code,
            kind=kind,
            title=title,
            held_on=held,
            attendees=attendees.replace("，", "、").split("、"),
            decisions=decisions.splitlines(),
        )
        if done is not None:
            widgets.flash(f"已记录会议 {done.code}（决定 {len(done.decisions)} 项）")
            st.rerun()

    with tab_assign:
        pending = [(m, d) for m in meetings for d in m.decisions if d.template_key is None]
        if not pending:
            st.info("没有待交办的会议决定")
        else:
            pick = st.selectbox(
                "会议决定",
                range(len(pending)),
                key="decision_pick",
                format_func=lambda i: f"{pending[i][0].code}-{pending[i][1].seq} {pending[i][1].text[:40]}",
            )
            meeting, decision = pending[pick]
            c1, c2 = st.columns([3, 1])
            depts = c1.multiselect(
                "承办部门", list(dept_names), key="decision_depts", format_func=lambda c: dept_names.get(c, c)
            )
            due = c2.date_input(
                "完成时限", value=max(today, meeting.held_on) + dt.timedelta(days=14), key="decision_due"
            )
            c3, c4 = st.columns(2)
            lead = c3.selectbox(
                "牵头部门（可不选）",
                ["", *depts],
                key="decision_lead",
                format_func=lambda c: dept_names.get(c, c or "—"),
            )
            deliverable = c4.selectbox("报送形式", list(DELIVERABLE_LABELS.values()), key="decision_deliverable")
            if st.button("交办", key="decision_go", type="primary"):
                done = session.run_service(
                    meeting_service.assign_decision,
                    actor=actor,
                    at=session.now(),
                    campaign_code=code,
                    meeting_code=meeting.code,
                    seq=decision.seq,
                    department_codes=depts,
                    due_on=due,
                    lead=lead or None,
                    deliverable=deliverable,
                )
                if done is not None:
                    widgets.flash(f"会议 {meeting.code} 第 {decision.seq} 项决定已交办，完成时限 {due}")
                    st.rerun()
