"""专项总览: phase timeline, key figures, days left in the current phase, trend, grades.

Every figure is as of one day, the campaign's last tick (queries.board_day), and says so; grades are
domain.grading's rule (未到期 grey, never red)."""

import streamlit as st

from dashboard import charts, queries, session, widgets
from domain.access import Role
from domain.assignment import ASSIGNMENT, PHASE_STATE, AssignmentStatus, PhaseState
from domain.grading import Grade
from domain.rollup import rate

actor = widgets.page(Role.leader, Role.office)
code = widgets.campaign_or_stop()
phase_key, kinds, phase_title = widgets.board_filters(actor, code)
as_of_day = queries.board_day(actor, campaign_code=code)
today = as_of_day.ticked_on or session.today()  # the boards' day: the last tick, whatever the clock says
info = queries.campaign_row(actor, code)

st.title(info.get("title", code))
st.caption(f"{info.get('issuer', '')} · {info.get('start_on')} ～ {info.get('end_on')}")

phases = queries.phases(actor, campaign_code=code)
day = as_of_day.rollup_on
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
behind = int(board["grade"].isin([Grade.yellow.value, Grade.red.value]).sum())
cols[4].metric(
    "逾期任务",
    f"{int(board['overdue'].sum())}",
    help=f"{Grade.yellow.value}或{Grade.red.value}的部门 {behind} 个（其中{Grade.red.value} "
    f"{int((board['grade'] == Grade.red.value).sum())} 个）；未到期任务 {int(board['not_due'].sum())} 项不计入",
)
st.caption(f"统计口径：{phase_title}；{as_of_day.text}")


def phase_cards() -> None:  # a phone's timeline: one card per phase with its dates
    widgets.cards(
        [
            widgets.Card(
                title=f"{p['title']}",
                badge=p["state_label"],
                lines=[("开始", p["start_on"]), ("结束", p["end_on"])],
                tone="info" if p["start_on"] <= today <= p["end_on"] else "",
            )
            for p in phases.to_dict("records")
        ]
    )


widgets.chart(charts.phase_gantt(phases, today), key="gantt", phone=phase_cards)
TONE_OF_GRADE = {Grade.red.value: "danger", Grade.yellow.value: "warning"}
_desk, phone = widgets.desk_and_phone("overview_departments")
with phone:  # the board a desk reads in 部门进度, as cards: completion and overdue per department
    st.subheader("各部门进度")
    widgets.cards(
        [
            widgets.Card(
                title=row["name"],
                badge=str(row["grade"] or ""),
                lines=[
                    ("完成率", widgets.percent(row["completion"] or 0)),
                    ("已布置", int(row["assigned"])),
                    ("逾期", int(row["overdue"])),
                ],
                tone=TONE_OF_GRADE.get(row["grade"], ""),
                progress=row["completion"] or 0,
            )
            for row in board.sort_values("completion").to_dict("records")
        ]
    )
left, right = st.columns([2, 1])
with left:
    widgets.chart(charts.trend(queries.trend(actor, campaign_code=code, phase_key=phase_key, kinds=kinds)), key="trend")
with right:
    widgets.chart(charts.grade_pie(board), key="grades")
