"""部门进度: sortable progress by department, department × phase heatmap, overdue list, drill-down."""

import streamlit as st

from dashboard import charts, queries, session, widgets
from domain.access import Role
from domain.assignment import ASSIGNMENT, AssignmentStatus
from exchange.xlsx_export import Percent

# Column headings of the department board (the page renames the frame's columns with these).
BOARD_COLUMNS = {
    "code": "部门代码",
    "name": "部门",
    "kind_label": "类别",
    "assigned": "已布置",
    "submitted": "已提交",
    "accepted": ASSIGNMENT.label(AssignmentStatus.accepted),
    "on_time": "按时",
    "overdue": "逾期",
    "escalation_level": "升级级别",
    "completion": "完成率",
    "on_time_rate": "按时率",
    "grade": "状态",
}

actor = widgets.page(Role.leader, Role.office)
code = widgets.campaign_or_stop()
phase_key, kinds, phase_title = widgets.board_filters(actor, code)
today = session.today()
day = queries.rollup_day(actor, campaign_code=code, as_of=today)
board = queries.department_board(actor, campaign_code=code, day=day, phase_key=phase_key, kinds=kinds)

st.title("部门进度")
st.caption(f"统计口径：{phase_title}；进度快照日期 {day or '（尚未巡检）'}；共 {len(board)} 个部门")

sort_options: dict[str, str] = {
    "completion": "完成率",
    "overdue": "逾期数",
    "assigned": "已布置",
    "accepted": ASSIGNMENT.label(AssignmentStatus.accepted),
    "on_time_rate": "按时率",
    "escalation_level": "升级级别",
}
c1, c2, c3 = st.columns([2, 1, 1])
sort_by = c1.selectbox("排序", list(sort_options), format_func=lambda k: sort_options[k], key="sort_by")
ascending = c2.toggle("升序", value=sort_by in ("completion", "on_time_rate"), key="sort_asc")
top = c3.number_input("显示部门数", min_value=5, max_value=200, value=min(30, max(5, len(board))), step=5, key="top_n")

event = st.plotly_chart(
    charts.department_progress(board, sort_by, ascending, int(top)),
    width="stretch",
    key="progress",
    on_select="rerun",
    selection_mode="points",
)
picked = None
try:
    points = event.selection.points
except AttributeError:
    points = []
if points:
    custom = points[0].get("customdata")
    picked = custom[0] if custom else None

table = board.sort_values([sort_by, "code"], ascending=[ascending, True])
view = table[
    [
        "code",
        "name",
        "kind_label",
        "assigned",
        "submitted",
        "accepted",
        "on_time",
        "overdue",
        "escalation_level",
        "completion",
        "on_time_rate",
        "grade",
    ]
].rename(columns=BOARD_COLUMNS)
view["完成率"] = (view["完成率"] * 100).round(1)
view["按时率"] = (view["按时率"] * 100).round(1)
export = table[
    [
        "code",
        "name",
        "kind_label",
        "assigned",
        "submitted",
        "accepted",
        "on_time",
        "overdue",
        "escalation_level",
        "completion",
        "on_time_rate",
        "grade",
    ]
].rename(columns=BOARD_COLUMNS)
export["完成率"] = export["完成率"].map(Percent)
export["按时率"] = export["按时率"].map(Percent)
selected = widgets.table(
    view,
    key="board_table",
    filename=f"部门进度-{code}-{day or today}.xlsx",
    sheet="部门进度",
    export=export,
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "完成率": st.column_config.ProgressColumn("完成率", format="%.1f%%", min_value=0, max_value=100),
        "按时率": st.column_config.NumberColumn("按时率", format="%.1f%%"),
    },
)
rows = selected.selection.rows if selected else []
if rows:
    picked = table.iloc[rows[0]]["code"]

st.subheader("部门 × 阶段")
heat = queries.heatmap(actor, campaign_code=code, day=day, kinds=kinds)
order = list(table.head(int(top))["name"])
st.plotly_chart(charts.phase_heatmap(heat[heat["name"].isin(order)], order), width="stretch", key="heatmap")

st.subheader("逾期任务与升级")
overdue = queries.overdue(actor, campaign_code=code, phase_key=phase_key, kinds=kinds)
if overdue.empty:
    st.success("当前没有逾期任务")
else:
    widgets.table(
        overdue[["name", "task", "phase", "period", "due_on", "status_label", "overdue_days", "escalation"]].rename(
            columns={
                "name": "部门",
                "task": "任务",
                "phase": "阶段",
                "period": "期次",
                "due_on": "截止日期",
                "status_label": "状态",
                "overdue_days": "逾期工作日",
                "escalation": "升级等级",
            }
        ),
        key="overdue_table",
        filename=f"逾期任务-{code}.xlsx",
        sheet="逾期任务",
    )

st.subheader("部门任务明细")
names = dict(zip(board["code"], board["name"], strict=False))
codes = list(table["code"])
if picked in codes:
    st.session_state["drill_department"] = picked
dept = st.selectbox(
    "选择部门（也可点击上方图表或表格）",
    ["", *codes],
    format_func=lambda c: f"{names.get(c, c)}（{c}）" if c else "（选择部门查看任务）",
    key="drill_department",
)
if dept:
    detail = queries.department_assignments(actor, campaign_code=code, department_code=dept)
    calendar = widgets.calendar_of(queries.spec(actor, code))
    detail["进度"] = [
        widgets.countdown(calendar, today, r.due_on, r.status, r.overdue_days) for r in detail.itertuples()
    ]
    widgets.table(
        detail[["id", "task", "phase", "period", "due_on", "status_label", "进度", "overdue_days"]].rename(
            columns={
                "id": "任务编号",
                "task": "任务",
                "phase": "阶段",
                "period": "期次",
                "due_on": "截止日期",
                "status_label": "状态",
                "overdue_days": "逾期工作日",
            }
        ),
        key="drill_table",
        filename=f"部门任务-{dept}.xlsx",
        sheet="部门任务",
    )
