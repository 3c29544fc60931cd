"""我的任务: a department's assignments with their light (红黄绿灯), 签收 (one or several at once),
submitting work (逾期原因 after the deadline; a returned form starts from the last submission),
撤回 before review, 延期申请, and the 催办 received.

Countdowns (剩 / 逾期 N 个工作日), lights, the 逾期 count and 本周到期 read the boards' one "as of"
day (queries.board_day: the campaign's last tick), as the leader's drill-down of this department
does, and the page says which day that is. Only the submit form's 逾期原因 follows the clock: the
submission happens now, and the service judges lateness by its own time."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import downloads, queries, session, widgets
from domain.access import Role
from domain.assignment import ASSIGNMENT, LIGHT, UNFINISHED, AssignmentStatus
from domain.extension import EXTENSION, ExtensionState
from domain.localtime import local_text
from domain.progress import ONGOING_LABEL
from services import submissions as sub
from services.attachments import Upload
from services.supervision import acknowledge, extensions, urging
from services.supervision.lights import Lights
from services.views import boards

actor = widgets.page(Role.department)
code = widgets.campaign_or_stop()
as_of_day = queries.board_day(actor, campaign_code=code)
today = as_of_day.ticked_on or session.today()  # the boards' day: the last tick, whatever the clock says
spec = queries.spec(actor, code)
calendar = widgets.calendar_of(spec)
lights = Lights(spec, today) if spec is not None else None
st.title("我的任务")
st.caption(
    f"{as_of_day.text}：剩余与逾期工作日、红黄绿灯和「本周到期」均按此日计算，与领导看板一致"
    if as_of_day.ticked_on is not None
    else f"{as_of_day.text}：剩余与逾期工作日、红黄绿灯和「本周到期」按今天（{today}）计算"
)

items = session.run_service(sub.list_assignments, actor=actor, campaign_code=code)
if items is None:
    st.stop()
items = [a for a in items if a.status != AssignmentStatus.cancelled]
# issue 16: a counted task's 1/2 and an ongoing duty's 持续推进 (services.plan_shapes), by task id
board = session.run_service(
    boards.department_assignments,
    actor=actor,
    campaign_code=code,
    department_code=actor.department_code or "",
    at=session.now(),
)
progress: dict[int, str] = (
    {} if board is None else {int(i): p for i, p in zip(board["id"], board["progress"], strict=True)}
)


def ongoing(a: sub.AssignmentDTO) -> bool:
    """An ongoing duty has no deadline to count down to, so no countdown, no light and never overdue."""
    return progress.get(a.id, "").startswith(ONGOING_LABEL)


def reminder(a: sub.AssignmentDTO) -> str:
    if ongoing(a):
        return progress[a.id]
    return widgets.countdown(calendar, today, a.due_on, a.status, a.overdue_days)


def light_of(a: sub.AssignmentDTO) -> str:
    found = lights.of(a.status, a.due_on) if lights is not None and not ongoing(a) else None
    return LIGHT.label(found) if found is not None else "—"


def overdue(a: sub.AssignmentDTO) -> bool:
    return a.status in UNFINISHED and not ongoing(a) and (a.overdue_days > 0 or a.due_on < today)


todo = [a for a in items if a.status in UNFINISHED]
unsigned = [a for a in items if a.status != AssignmentStatus.scheduled and a.acknowledged_at is None]
c = st.columns(5)
c[0].metric("待办", len(todo))
c[1].metric("逾期", sum(1 for a in todo if overdue(a)))
c[2].metric("待签收", len(unsigned))
c[3].metric(
    ASSIGNMENT.label(AssignmentStatus.submitted), sum(1 for a in items if a.status == AssignmentStatus.submitted)
)
c[4].metric(ASSIGNMENT.label(AssignmentStatus.accepted), sum(1 for a in items if a.status == AssignmentStatus.accepted))


FILTERS = {  # what a department asks of its list: what to do, what is due this week, what came back
    "待办": lambda a: a.status in (*UNFINISHED, AssignmentStatus.submitted),
    "本周到期": lambda a: a.status in UNFINISHED and not ongoing(a) and widgets.due_this_week(a.due_on, today),
    ASSIGNMENT.label(AssignmentStatus.returned): lambda a: a.status == AssignmentStatus.returned,
    "逾期": overdue,
    "全部": lambda a: True,
}
view = st.segmented_control("筛选", list(FILTERS), default="待办", key="task_filter") or "待办"
shown = [a for a in items if FILTERS[view](a)]
table = pd.DataFrame(
    [
        {
            "任务编号": a.id,
            "灯": light_of(a),
            "任务": a.title,
            "截止日期": a.due_on,
            "原定截止": a.original_due_on or "",
            "进度": progress.get(a.id) or "—",
            "提醒": "" if ongoing(a) else widgets.countdown(calendar, today, a.due_on, a.status, a.overdue_days),
            "状态": ASSIGNMENT.label(a.status),
            "签收": "待签收" if a.acknowledged_at is None and a.status != AssignmentStatus.scheduled else "已签收",
            "期次": a.period or "—",
            "阶段": a.phase_title,
        }
        for a in shown
    ]
)
clicked = None
if table.empty:
    st.info("目前没有需要办理的任务" if view == "待办" else f"没有「{view}」的任务")
else:
    tones = ["danger" if overdue(a) else "warning" if a.status == AssignmentStatus.returned else "" for a in shown]
    desk, phone = widgets.desk_and_phone("my_tasks")
    with desk:
        st.caption("点击一行打开任务；红色为逾期，橙色为已退回")
        event = widgets.table(
            widgets.toned(table, tones),
            key="my_tasks",
            filename=f"我的任务-{code}.xlsx",
            sheet="我的任务",
            export=table,
            on_select="rerun",
            selection_mode="single-row",
        )
        clicked = widgets.picked(event, table, "任务编号")
    with phone:
        widgets.cards(
            [
                widgets.Card(
                    title=f"{a.title}{' · ' + a.period if a.period else ''}",
                    badge=reminder(a),
                    lines=[("截止", a.due_on), ("状态", ASSIGNMENT.label(a.status)), ("阶段", a.phase_title)]
                    + ([("进度", progress[a.id])] if progress.get(a.id) and not ongoing(a) else []),
                    tone=tone,
                )
                for a, tone in zip(shown, tones, strict=True)
            ]
        )

if unsigned:
    with st.form("bulk_sign"):
        st.markdown(f"**待签收任务 {len(unsigned)} 项**")
        picked = st.multiselect(
            "选择要签收的任务（可多选）",
            [a.id for a in unsigned],
            default=[a.id for a in unsigned],
            key="sign_pick",
            format_func=lambda i: next(
                f"{a.title}{' · ' + a.period if a.period else ''}" for a in unsigned if a.id == i
            ),
        )
        if st.form_submit_button("签收所选任务", type="primary"):
            done = session.run_service(acknowledge.sign, actor=actor, at=session.now(), assignment_ids=list(picked))
            if done is not None:
                widgets.flash(f"已签收 {sum(1 for s in done if not s.already)} 项任务")
                st.rerun()

received = session.run_service(urging.list_urges, actor=actor, campaign_code=code, at=session.now()) or []
if received:
    with st.expander(f"收到的催办（{len(received)} 次）", expanded=False):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "时间": local_text(u.urged_at),
                        "任务": f"{u.title}{' · ' + u.period if u.period else ''}",
                        "催办人": u.urged_by_name,
                        "催办意见": u.message or "—",
                    }
                    for u in received
                ]
            ),
            hide_index=True,
            width="stretch",
        )

st.subheader("办理任务")
ids = [a.id for a in shown]
by_id = {a.id: a for a in items}
params_id = st.query_params.get("assignment")
choice = st.selectbox(
    "选择任务",
    [0, *ids],
    key="pick_assignment",
    format_func=lambda i: (
        "（请选择）"
        if i == 0
        else f"{by_id[i].title}{' · ' + by_id[i].period if by_id[i].period else ''}（截止 {by_id[i].due_on}）"
    ),
)
if "open_assignment_id" not in st.session_state:  # set by 消息 → 去办理, or the ?assignment= link of a reminder
    st.session_state["open_assignment_id"] = int(params_id) if params_id and params_id.isdigit() else 0
manual = st.number_input("或输入任务编号打开", min_value=0, step=1, key="open_assignment_id")
target = int(clicked or choice or manual or 0)


def extension_section(a: sub.AssignmentDTO) -> None:
    """This task's 延期申请 so far, and the form for a new one."""
    asked = session.run_service(
        extensions.list_extensions, actor=actor, campaign_code=code, assignment_id=a.id, at=session.now()
    )
    for r in asked or []:
        verdict = f"，批准延至 {r.approved_until}" if r.approved_until else ""
        note = f"；审批意见：{r.decision_reason}" if r.decision_reason else ""
        st.caption(
            f"延期申请 {r.id}：申请延至 {r.asked_until}（{EXTENSION.label(r.state)}{verdict}）理由：{r.reason}{note}"
        )
        for f in r.attachments:
            downloads.offer(
                None,
                attachment_id=f.id,
                filename=f.filename,
                key=f"ext_attachment_{r.id}_{f.id}",
                label=f"延期申请附件：{f.filename}",
                mime=f.content_type or "application/octet-stream",
            )
    if a.status not in UNFINISHED or any(r.state == ExtensionState.pending for r in asked or []):
        return
    with st.expander("申请延期", expanded=False), st.form(f"extension_{a.id}", clear_on_submit=True):
        until = st.date_input(
            "申请延至", value=a.due_on + dt.timedelta(days=7), min_value=a.due_on, key=f"ext_until_{a.id}"
        )
        reason = st.text_area("延期理由", key=f"ext_reason_{a.id}")
        file = st.file_uploader("附件（可选）", key=f"ext_file_{a.id}")
        if st.form_submit_button("提交延期申请"):
            uploads = [Upload(file.name, file.type or "application/octet-stream", file.getvalue())] if file else []
            made = session.run_service(
                extensions.request_extension,
                actor=actor,
                at=session.now(),
                assignment_id=a.id,
                until=until,
                reason=reason,
                attachments=uploads,
                attachment_dir=session.attachment_dir(),
            )
            if made is not None:
                widgets.flash(f"已提交延期申请（申请编号：{made.id}），等待审批")
                st.rerun()


def submit_form(a: sub.AssignmentDTO, history: list) -> None:
    last = history[-1] if history else None
    again = a.status == AssignmentStatus.returned or (last is not None and last.state == "withdrawn")
    late = a.due_on < session.today()  # submitting happens now: the clock's day, as the service judges it
    with st.form(f"submit_{a.id}"):  # kept on a refusal (e.g. a missing 逾期原因): nothing typed is lost
        text = st.text_area(
            "报送内容",
            value=last.text if again and last is not None else "",  # a returned form starts from the last one
            key=f"text_{a.id}",
            placeholder="填写工作情况、整改进展等",
        )
        rows = st.data_editor(
            pd.DataFrame(last.rows)
            if again and last is not None and last.rows
            else pd.DataFrame(
                {"项目名称": pd.Series(dtype=str), "情况说明": pd.Series(dtype=str), "备注": pd.Series(dtype=str)}
            ),
            num_rows="dynamic",
            key=f"rows_{a.id}",
            width="stretch",
            # a new row starts empty, not with Streamlit's English "None" in every cell
            column_config={c: st.column_config.TextColumn(c, default="") for c in ("项目名称", "情况说明", "备注")},
        )
        keep: list[int] = []
        if again and last is not None and last.attachments:
            keep = st.multiselect(
                "沿用上次报送的附件",
                [f.id for f in last.attachments],
                default=[f.id for f in last.attachments],
                key=f"keep_{a.id}",
                format_func=lambda i: next(f.filename for f in last.attachments if f.id == i),
            )
        files = st.file_uploader(
            "附件（PDF、Word、Excel、图片、压缩包）", accept_multiple_files=True, key=f"files_{a.id}"
        )
        late_reason = st.text_area("逾期原因（已超过截止日期，必填）", key=f"late_{a.id}") if late else ""
        sent = st.form_submit_button("提交报送", type="primary")
    if sent:
        clean = [
            {k: v for k, v in r.items() if v not in (None, "") and not pd.isna(v)} for r in rows.to_dict("records")
        ]
        clean = [r for r in clean if r]
        uploads = [Upload(f.name, f.type or "application/octet-stream", f.getvalue()) for f in files or []]
        done = session.run_service(
            sub.submit,
            actor=actor,
            at=session.now(),
            assignment_id=a.id,
            text=text,
            rows=clean or None,
            attachments=uploads,
            attachment_dir=session.attachment_dir(),
            late_reason=late_reason,
            carry_attachment_ids=keep,
        )
        if done is not None:
            widgets.refresh_rollup(actor, code)
            widgets.flash(f"已提交「{a.title}」，等待牵头办公室审核")
            st.rerun()


if target:
    result = session.run_service(sub.get_assignment, actor=actor, assignment_id=target, at=session.now())
    if result is not None:
        a, history = result
        original = f"（原定 {a.original_due_on}，已延期）" if a.original_due_on else ""
        st.markdown(
            f"**{a.title}** · {a.phase_title}{' · ' + a.period if a.period else ''} · 截止 {a.due_on}{original} · "
            + (reminder(a) if ongoing(a) else f"{reminder(a)} · {light_of(a)}灯")
        )
        if a.status != AssignmentStatus.scheduled and a.acknowledged_at is None:
            signed = st.button("签收", key=f"sign_{a.id}", type="primary") and session.run_action(
                acknowledge.sign, actor=actor, at=session.now(), assignment_ids=[a.id]
            )
            if signed:
                widgets.flash(f"已签收「{a.title}」")
                st.rerun()
        elif a.acknowledged_at is not None:
            st.caption(f"已签收：{a.acknowledged_by} · {local_text(a.acknowledged_at)}")
        widgets.submission_history(history, actor)
        if a.status == AssignmentStatus.submitted:
            st.caption("材料正在等待牵头办公室审核；审核前可以撤回修改。")
            if st.button("撤回报送", key=f"withdraw_{a.id}"):
                back = session.run_service(sub.withdraw, actor=actor, at=session.now(), assignment_id=a.id)
                if back is not None:
                    widgets.refresh_rollup(actor, code)
                    widgets.flash(f"已撤回「{a.title}」的报送，可修改后重新提交")
                    st.rerun()
        if a.status in UNFINISHED:
            submit_form(a, history)
        elif a.status == AssignmentStatus.scheduled:
            st.info(f"任务将于 {a.opens_on} 开始")
        extension_section(a)
