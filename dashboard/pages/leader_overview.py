"""专项总览: phase timeline, key figures, days left in the current phase, trend."""

import streamlit as st

from dashboard import charts, queries, session, widgets
from domain.access import Role
from domain.assignment import ASSIGNMENT, PHASE_STATE, AssignmentStatus, PhaseState
from domain.rollup import Grade, rate

actor = widgets.page(Role.leader, Role.office)
code = widgets.campaign_or_stop()
phase_key, kinds, phase_title = widgets.board_filters(actor, code)
today = session.today()
info = queries.campaign_row(actor, code)

st.title(info.get("title", code))
st.caption(f"{info.get('issuer', '')} · {info.get('start_on')} ～ {info.get('end_on')}")

phases = queries.phases(actor, campaign_code=code)
day = queries.rollup_day(actor, campaign_code=code, as_of=today)
board = queries.department_board(actor, campaign_code=code, day=day, phase_key=phase_key, kinds=kinds)

current = phases[(phases["start_on"] <= today) & (phases["end_on"] >= today)]
cols = st.columns(5)
if not current.empty:
    ph = current.iloc[0]
    cols[0].metric("当前阶段", ph["kind_label"], help=f"{ph['title']}：{ph['start_on']} ～ {ph['end_on']}")
    cols[1].metric("本阶段剩余天数", f"{(ph['end_on'] - today).days} 天")
elif today < info.get("start_on", today):
    cols[0].metric("当前阶段", "尚未开始")
    cols[1].metric("距开始", f"{(info['start_on'] - today).days} 天")
else:
    cols[0].metric("当前阶段", PHASE_STATE.label(PhaseState.closed))
    cols[1].metric("本阶段剩余天数", "—")
assigned, accepted = int(board["assigned"].sum()), int(board["accepted"].sum())
cols[2].metric("已布置任务", f"{assigned}")
cols[3].metric(
    "完成率",
    widgets.percent(rate(accepted, assigned)),
    help=f"{ASSIGNMENT.label(AssignmentStatus.accepted)} {accepted} 项",
)
cols[4].metric(
    "逾期任务",
    f"{int(board['overdue'].sum())}",
    help=f"{Grade.red.value}部门 {int((board['grade'] == Grade.red.value).sum())} 个",
)
st.caption(f"统计口径：{phase_title}；进度快照日期 {day or '（尚未巡检）'}")

st.plotly_chart(charts.phase_gantt(phases, today), width="stretch", key="gantt")
left, right = st.columns([2, 1])
left.plotly_chart(
    charts.trend(queries.trend(actor, campaign_code=code, phase_key=phase_key, kinds=kinds)),
    width="stretch",
    key="trend",
)
right.plotly_chart(charts.grade_pie(board), width="stretch", key="grades")
