"""部门进度: sortable progress by department, department × phase heatmap, overdue list, and a
department's drill-down that says why (overdue days, returns with reasons, escalations, extensions,
逾期原因). One "as of" day for all of it (queries.board_day); grades by domain.grading."""

import streamlit as st

from dashboard import charts, queries, session, widgets
from domain.access import Role
from domain.assignment import ASSIGNMENT, AssignmentStatus
from domain.rollup import Grade
from exchange.xlsx_export import Percent
from services.supervision import urging

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
    "not_due": "未到期",
    "completion": "完成率",
    "on_time_rate": "按时率",
    "grade": "状态",
    "grade_reason": "状态说明",
    "sampled_text": "核查比例",
}
SHOWN = [
    "code",
    "name",
    "kind_label",
    "assigned",
    "submitted",
    "accepted",
    "on_time",
    "overdue",
    "not_due",
    "escalation_level",
    "completion",
    "on_time_rate",
    "grade",
    "grade_reason",
    "sampled_text",
]

actor = widgets.page(Role.leader, Role.office)
code = widgets.campaign_or_stop()
phase_key, kinds, phase_title = widgets.board_filters(actor, code)
as_of_day = queries.board_day(actor, campaign_code=code)
today = as_of_day.ticked_on or session.today()  # the boards' day: countdowns read the same day
day = as_of_day.rollup_on
board = queries.department_board(actor, campaign_code=code, day=day, phase_key=phase_key, kinds=kinds)

st.title("部门进度")
st.caption(
    f"统计口径：{phase_title}；{as_of_day.text}；共 {len(board)} 个部门。"
    "状态：有逾期或预警为滞后，逾期达到期任务三分之一或通报批评以上为严重滞后，任务均未到期为未到期。"
)

sort_options: dict[str, str] = {
    "completion": "完成率",
    "overdue": "逾期数",
    "not_due": "未到期",
    "assigned": "已布置",
    "accepted": ASSIGNMENT.label(AssignmentStatus.accepted),
    "on_time_rate": "按时率",
    "escalation_level": "升级级别",
}
c1, c2, c3 = st.columns([2, 1, 1])
sort_by = c1.selectbox("排序", list(sort_options), format_func=lambda k: sort_options[k], key="sort_by")
ascending = c2.toggle("升序", value=sort_by in ("completion", "on_time_rate"), key="sort_asc")
top = c3.number_input("显示部门数", min_value=5, max_value=200, value=min(30, max(5, len(board))), step=5, key="top_n")

event = widgets.chart(
    charts.department_progress(board, sort_by, ascending, int(top)),
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
view = table[SHOWN].rename(columns=BOARD_COLUMNS)
view["完成率"] = (view["完成率"] * 100).round(1)
view["按时率"] = (view["按时率"] * 100).round(1)
export = table[SHOWN].rename(columns=BOARD_COLUMNS)
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
        # blue: completion is progress, not a verdict (the 状态 column is the grade)
        "完成率": st.column_config.ProgressColumn("完成率", format="%.1f%%", min_value=0, max_value=100, color="blue"),
        "按时率": st.column_config.NumberColumn("按时率", format="%.1f%%"),
    },
)
rows = selected.selection.rows if selected else []
if rows:
    picked = table.iloc[rows[0]]["code"]

st.subheader("部门 × 阶段")
charted = table.head(int(top))
order = list(charted["name"])
ranked = board.sort_values(["overdue", "completion"], ascending=[False, True]).head(int(top))  # the phone's cards
# Only the departments shown (the chart's and the phone's): a national grid is ~200,000 cells.
shown = tuple(sorted(set(charted["code"]) | set(ranked["code"])))
heat = queries.heatmap(actor, campaign_code=code, day=day, kinds=kinds, departments=shown)


def heat_ranking() -> None:  # a phone's heat map: departments ranked, most overdue first, with their lagging phases
    lagging = heat[(heat["assigned"] > 0) & heat["grade"].isin([Grade.yellow.value, Grade.red.value])]
    phases_behind = lagging.groupby("name")["phase"].agg("、".join).to_dict()
    widgets.cards(
        [
            widgets.Card(
                title=f"{i}. {row['name']}",
                badge=str(row["grade"] or ""),
                lines=[
                    ("完成率", widgets.percent(row["completion"] or 0)),
                    ("逾期", int(row["overdue"])),
                    ("滞后阶段", phases_behind.get(row["name"], "")),
                ],
                tone={Grade.red.value: "danger", Grade.yellow.value: "warning"}.get(row["grade"], ""),
                progress=row["completion"] or 0,
            )
            for i, row in enumerate(ranked.to_dict("records"), start=1)
        ]
    )


widgets.chart(charts.phase_heatmap(heat[heat["name"].isin(order)], order), key="heatmap", phone=heat_ranking)

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
    why = queries.department_why(actor, campaign_code=code, department_code=dept)
    st.markdown(f"**{names.get(dept, dept)}：原因**")
    if why.empty:
        st.caption("没有逾期、退回、升级、延期或逾期说明记录。")
    if not why.overdue.empty:
        st.markdown("逾期任务")
        widgets.table(
            why.overdue[["task", "phase", "period", "due_on", "overdue_days", "escalation"]].rename(
                columns={
                    "task": "任务",
                    "phase": "阶段",
                    "period": "期次",
                    "due_on": "截止日期",
                    "overdue_days": "逾期工作日",
                    "escalation": "升级等级",
                }
            ),
            key="why_overdue",
            filename=f"逾期任务-{dept}.xlsx",
            sheet="逾期任务",
        )
        with st.form(f"leader_urge_{dept}"):  # a leader urges too (services.supervision.urging.URGERS)
            message = st.text_input("催办意见（可选）", key="leader_urge_message")
            if st.form_submit_button(f"催办{names.get(dept, dept)}的全部逾期任务"):
                urged = session.run_service(
                    urging.urge,
                    actor=actor,
                    at=session.now(),
                    campaign_code=code,
                    department_code=dept,
                    message=message,  # the natural key (who, the minute) makes a double click urge once
                )
                if urged is not None:
                    widgets.flash(f"已催办 {len(urged.urged)} 项任务")
                    st.rerun()
    if not why.returns.empty:
        st.markdown("退回记录")
        widgets.table(
            why.returns[["task", "period", "seq", "returned_on", "reason", "status_label"]].rename(
                columns={
                    "task": "任务",
                    "period": "期次",
                    "seq": "第几次报送",
                    "returned_on": "退回日期",
                    "reason": "退回原因",
                    "status_label": "当前状态",
                }
            ),
            key="why_returns",
            filename=f"退回记录-{dept}.xlsx",
            sheet="退回记录",
        )
    if not why.escalations.empty:
        st.markdown("升级督办")
        widgets.table(
            why.escalations[["task", "period", "name", "reached_on", "overdue_days", "status_label"]].rename(
                columns={
                    "task": "任务",
                    "period": "期次",
                    "name": "等级",
                    "reached_on": "升级日期",
                    "overdue_days": "当时逾期工作日",
                    "status_label": "当前状态",
                }
            ),
            key="why_escalations",
            filename=f"升级督办-{dept}.xlsx",
            sheet="升级督办",
        )
    if not why.extensions.empty:
        st.markdown("延期申请")
        widgets.table(
            why.extensions[
                [
                    "task",
                    "period",
                    "due_before",
                    "asked_until",
                    "reason",
                    "state_label",
                    "approved_until",
                    "decision_reason",
                ]
            ].rename(
                columns={
                    "task": "任务",
                    "period": "期次",
                    "due_before": "原截止日期",
                    "asked_until": "申请延至",
                    "reason": "申请理由",
                    "state_label": "审批结果",
                    "approved_until": "批准延至",
                    "decision_reason": "审批意见",
                }
            ),
            key="why_extensions",
            filename=f"延期申请-{dept}.xlsx",
            sheet="延期申请",
        )
    if not why.late_reasons.empty:
        st.markdown("逾期原因")
        widgets.table(
            why.late_reasons[["task", "period", "due_on", "submitted_on", "late_reason"]].rename(
                columns={
                    "task": "任务",
                    "period": "期次",
                    "due_on": "截止日期",
                    "submitted_on": "报送日期",
                    "late_reason": "逾期原因",
                }
            ),
            key="why_late",
            filename=f"逾期原因-{dept}.xlsx",
            sheet="逾期原因",
        )
    st.markdown("**全部任务**")
    detail = queries.department_assignments(actor, campaign_code=code, department_code=dept)
    calendar = widgets.calendar_of(queries.spec(actor, code))
    detail["进度"] = [
        # a counted task's 1/2 or an ongoing duty's 持续推进 (services.plan_shapes) before the countdown
        r.progress or widgets.countdown(calendar, today, r.due_on, r.status, r.overdue_days)
        for r in detail.itertuples()
    ]
    widgets.table(
        detail[
            ["id", "task", "phase", "period", "due_on", "original_due_on", "status_label", "进度", "overdue_days"]
        ].rename(
            columns={
                "id": "任务编号",
                "task": "任务",
                "phase": "阶段",
                "period": "期次",
                "due_on": "截止日期",
                "original_due_on": "原定期限",
                "status_label": "状态",
                "overdue_days": "逾期工作日",
            }
        ),
        key="drill_table",
        filename=f"部门任务-{dept}.xlsx",
        sheet="部门任务",
    )
