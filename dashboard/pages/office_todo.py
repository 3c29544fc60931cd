"""待办: everything waiting on the office in one place, oldest first — submissions to review (batch
accept with one comment), 销号 requests with their evidence, leads awaiting 办结审核, 延期申请,
督办单 responses (read and marked 已阅, one by one or several at once) — the office's own tasks, and 催办
of overdue work. The office's landing page."""

import pandas as pd
import streamlit as st

from dashboard import downloads, session, widgets
from domain.access import Role
from domain.localtime import local_text
from services import duban
from services import problems as pb
from services import submissions as sub
from services.attachments import Upload
from services.supervision import extensions, todo, urging

actor = widgets.page(Role.office)
code = widgets.campaign_or_stop()
today = session.today()
st.title("待办")

work = session.run_service(todo.office_todo, actor=actor, campaign_code=code, at=session.now())
if work is None:
    st.stop()
counts = work.counts
cols = st.columns(len(counts))
for col, (name, n) in zip(cols, counts.items(), strict=True):
    col.metric(name, n)
if not work.total:
    st.success("目前没有等待牵头办公室处理的事项")


def attachment(file, key: str) -> None:  # noqa: ANN001 - an AttachmentDTO
    downloads.offer(
        None,
        attachment_id=file.id,
        filename=file.filename,
        key=key,
        label=f"附件：{file.filename}（{file.size:,} 字节）",
        mime=file.content_type or "application/octet-stream",
    )


# --- submissions to review ----------------------------------------------------------------------
st.subheader(f"待审核材料（{len(work.submissions)}）")
if work.submissions:
    labels = {
        a.id: f"{a.department_name} · {a.title}{' · ' + a.period if a.period else ''}"
        f"（报送于 {local_text(a.submitted_at)}）"
        for a in work.submissions
    }
    with st.form("batch_accept"):
        picked = st.multiselect("批量通过（选择材料）", list(labels), key="batch_pick", format_func=lambda i: labels[i])
        comment = st.text_input("审核意见（对所选材料统一填写，可留空）", key="batch_comment")
        if st.form_submit_button("批量通过", type="primary"):
            versions = {a.id: a.version for a in work.submissions}
            accepted = session.run_service(
                todo.accept_many,
                actor=actor,
                at=session.now(),
                items=[(i, versions[i]) for i in picked],
                note=comment,
            )
            if accepted is not None:
                widgets.refresh_rollup(actor, code)
                widgets.flash(f"已批量通过 {len(accepted)} 项材料")
                st.rerun()
    for a in work.submissions:
        with st.expander(labels[a.id]):
            result = session.run_service(sub.get_assignment, actor=actor, assignment_id=a.id, at=session.now())
            if result is None:
                continue
            widgets.submission_history(result[1], actor)
            reason = st.text_input("退回原因（退回时必填）", key=f"reason_{a.id}")
            left, right = st.columns(2)
            if left.button("通过", key=f"accept_{a.id}", type="primary"):
                ok = session.run_action(
                    sub.accept, actor=actor, at=session.now(), assignment_id=a.id, expected_version=a.version
                )
                if ok:
                    widgets.refresh_rollup(actor, code)
                    widgets.flash(f"已通过：{a.department_name} · {a.title}")
                    st.rerun()
            if right.button("退回", key=f"return_{a.id}"):
                ok = session.run_action(
                    sub.return_submission,
                    actor=actor,
                    at=session.now(),
                    assignment_id=a.id,
                    expected_version=a.version,
                    reason=reason,
                )
                if ok:
                    widgets.refresh_rollup(actor, code)
                    widgets.flash(f"已退回：{a.department_name} · {a.title}", "warning")
                    st.rerun()

# --- 延期申请 ---------------------------------------------------------------------------------------
st.subheader(f"延期申请（{len(work.extensions)}）")
for r in work.extensions:
    title = f"{r.title}{' · ' + r.period if r.period else ''}"
    with st.expander(f"申请 {r.id} · {r.department_name} · {title}：{r.due_before} → {r.asked_until}", expanded=True):
        st.markdown(
            f"原定截止 **{r.original_due_on}**，当前截止 **{r.due_before}**，申请延至 **{r.asked_until}**"
            f"（{r.requested_by}，{local_text(r.requested_at)}）"
        )
        st.text(f"理由：{r.reason}")
        for f in r.attachments:
            attachment(f, f"ext_file_{r.id}_{f.id}")
        until = st.date_input(
            "批准延至（可改为更早的日期）", value=r.asked_until, max_value=r.asked_until, key=f"ext_until_{r.id}"
        )
        opinion = st.text_input("审批意见（必填）", key=f"ext_opinion_{r.id}")
        left, right = st.columns(2)
        if left.button("批准", key=f"ext_approve_{r.id}", type="primary"):
            decided = session.run_service(
                extensions.decide_extension,
                actor=actor,
                at=session.now(),
                request_id=r.id,
                approve=True,
                until=until,
                reason=opinion,
            )
            if decided is not None:
                widgets.refresh_rollup(actor, code)
                widgets.flash(f"已批准申请 {r.id}：{title} 截止日期延至 {decided.approved_until}")
                st.rerun()
        if right.button("驳回", key=f"ext_reject_{r.id}"):
            done = session.run_service(
                extensions.decide_extension,
                actor=actor,
                at=session.now(),
                request_id=r.id,
                approve=False,
                reason=opinion,
            )
            if done is not None:
                widgets.flash(f"已驳回申请 {r.id}：{title}", "warning")
                st.rerun()

# --- 销号 requests ----------------------------------------------------------------------------------
st.subheader(f"销号申请（{len(work.closures)}）")
for c in work.closures:
    p = c.problem
    when = local_text(c.requested_at) if c.requested_at else ""
    with st.expander(f"{p.code} · {p.department_name} · {p.category}（申请于 {when}）"):
        st.text(p.description)
        st.markdown(f"**整改佐证**：{c.evidence or '（未填写）'}")
        if c.events:
            for f in c.events[-1].attachments:
                attachment(f, f"closure_file_{p.id}_{f.id}")
        note = st.text_input("意见（驳回时必填）", key=f"closure_note_{p.id}")
        left, right = st.columns(2)
        if left.button("同意销号", key=f"closure_ok_{p.id}", type="primary"):
            ok = session.run_action(
                pb.approve_close, actor=actor, at=session.now(), problem_id=p.id, expected_version=p.version, note=note
            )
            if ok:
                widgets.flash(f"已销号：{p.code}")
                st.rerun()
        if right.button("驳回", key=f"closure_no_{p.id}"):
            ok = session.run_action(
                pb.reject_close, actor=actor, at=session.now(), problem_id=p.id, expected_version=p.version, reason=note
            )
            if ok:
                widgets.flash(f"已驳回销号申请：{p.code}", "warning")
                st.rerun()

# --- leads awaiting 办结审核 --------------------------------------------------------------------------
st.subheader(f"待办结审核线索（{len(work.leads)}）")
if work.leads:
    widgets.table(
        pd.DataFrame(
            [
                {
                    "编号": x.code,
                    "承办部门": widgets.department_name(actor, x.department_code),
                    "类别": x.category,
                    "查处结果": x.outcome,
                    "期限": x.due_on,
                }
                for x in work.leads
            ]
        ),
        key="todo_leads",
        filename=f"待办结审核线索-{code}.xlsx",
    )
    st.page_link("pages/office_leads.py", label="去线索办理页办结", icon=":material/policy:")

# --- 督办单 responses (services.duban via services.supervision.todo.duban_responses_waiting) ----------
st.subheader(f"督办单反馈（{len(work.duban_responses)}）")
if work.duban_responses:
    widgets.table(
        pd.DataFrame(
            [
                {
                    "编号": d.number,
                    "责任单位": d.department_name,
                    "督办事项": d.matter,
                    "反馈期限": d.respond_due_on,
                    "反馈时间": local_text(d.answered_at),
                    "反馈内容": d.answer or "",
                }
                for d in work.duban_responses
            ]
        ),
        key="todo_duban",
        filename=f"督办单反馈-{code}.xlsx",
    )
    answers = {
        d.id: f"{d.number} · {d.department_name}（反馈于 {local_text(d.answered_at)}）" for d in work.duban_responses
    }
    with st.form("duban_review"):
        picked_answers = st.multiselect(
            "标记已阅（选择反馈，可多选）", list(answers), key="duban_review_pick", format_func=answers.__getitem__
        )
        if st.form_submit_button("标记已阅", type="primary"):
            if not picked_answers:
                st.warning("请先选择要标记已阅的督办单反馈")
            else:
                read = session.run_service(duban.review_many, actor=actor, at=session.now(), duban_ids=picked_answers)
                if read is not None:
                    widgets.flash(f"已审阅 {len(read)} 份督办单反馈")
                    st.rerun()

# --- the office's own tasks ------------------------------------------------------------------------
st.subheader(f"本单位任务（{len(work.own_tasks)}）")
for a in work.own_tasks:
    late = a.due_on < today
    with st.expander(f"{a.title}{' · ' + a.period if a.period else ''}（截止 {a.due_on}）"), st.form(f"own_{a.id}"):
        text = st.text_area("报送内容", key=f"own_text_{a.id}")
        files = st.file_uploader("附件", accept_multiple_files=True, key=f"own_files_{a.id}")
        late_reason = st.text_area("逾期原因（必填）", key=f"own_late_{a.id}") if late else ""
        if st.form_submit_button("提交报送"):
            uploads = [Upload(f.name, f.type or "application/octet-stream", f.getvalue()) for f in files or []]
            handed_in = session.run_service(
                sub.submit,
                actor=actor,
                at=session.now(),
                assignment_id=a.id,
                text=text,
                attachments=uploads,
                attachment_dir=session.attachment_dir(),
                late_reason=late_reason,
            )
            if handed_in is not None:
                widgets.refresh_rollup(actor, code)
                widgets.flash(f"已提交本单位任务「{a.title}」")
                st.rerun()

# --- 催办 of overdue work ----------------------------------------------------------------------------
overdue = session.run_service(sub.list_assignments, actor=actor, campaign_code=code, overdue_only=True) or []
st.subheader(f"逾期任务与催办（{len(overdue)}）")
if overdue:
    widgets.table(
        pd.DataFrame(
            [
                {
                    "任务编号": a.id,
                    "部门": a.department_name,
                    "任务": f"{a.title}{' · ' + a.period if a.period else ''}",
                    "截止日期": a.due_on,
                    "原定期限": a.original_due_on or "",  # an approved extension's first deadline stays on record
                    "逾期工作日": a.overdue_days,
                }
                for a in overdue
            ]
        ),
        key="todo_overdue",
        filename=f"逾期任务-{code}.xlsx",
    )
    with st.form("urge"):
        departments = sorted({(a.department_code, a.department_name) for a in overdue})
        scope = st.selectbox(
            "催办对象",
            ["__all__", *[d for d, _n in departments], *[f"#{a.id}" for a in overdue]],
            key="urge_scope",
            format_func=lambda v: (
                "全部逾期任务"
                if v == "__all__"
                else (f"任务 {v[1:]}" if v.startswith("#") else f"{dict(departments)[v]} 的全部逾期任务")
            ),
        )
        message = st.text_input("催办意见（可选）", key="urge_message")
        if st.form_submit_button("催办"):
            urged = session.run_service(
                urging.urge,
                actor=actor,
                at=session.now(),
                campaign_code=code,
                assignment_id=int(scope[1:]) if scope.startswith("#") else None,
                department_code=None if scope == "__all__" or scope.startswith("#") else scope,
                all_overdue=scope == "__all__",
                message=message,  # the natural key (who, the minute) makes a double click urge once
            )
            if urged is not None:
                widgets.flash(f"已催办 {len(urged.urged)} 项任务")
                st.rerun()
