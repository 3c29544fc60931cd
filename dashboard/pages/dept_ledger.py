"""问题台账与线索: the department's ledger rows, 销号 requests, and the leads assigned to it."""

import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from domain.lead import LeadStatus
from domain.problem import ProblemStatus
from services import leads as lead_service
from services import problems as problem_service
from services.attachments import Upload

actor = widgets.page(Role.department)
code = widgets.campaign_or_stop()
st.title("问题台账与线索")

tab_problems, tab_leads = st.tabs(["问题台账", "交办线索"])
with tab_problems:
    problems = (
        session.run_service(problem_service.list_problems, actor=actor, campaign_code=code, at=session.now()) or []
    )
    if not problems:
        st.info("本部门台账暂无问题")
    else:
        frame = widgets.problem_frame(problems)
        st.caption("点击一行查看问题详情和办理过程")
        event = widgets.table(
            frame,
            key="dept_problems",
            filename=f"问题台账-{widgets.department_name(actor)}.xlsx",
            sheet="问题台账",
            on_select="rerun",
            selection_mode="single-row",
        )
        widgets.problem_detail(actor, problems, widgets.picked(event, frame, "编号"))
        widgets.ledger_download(actor, code, key="dept_ledger_xlsx", department_code=actor.department_code)
    with st.expander("登记问题（自查发现）"):
        widgets.problem_form(actor, code, key="dept_problem")
    open_ones = {p.id: p for p in problems if p.status == ProblemStatus.open}
    if open_ones:
        st.subheader("申请销号")
        pid = st.selectbox(
            "问题",
            list(open_ones),
            key="close_pick",
            format_func=lambda i: f"{open_ones[i].code} · {open_ones[i].description[:30]}",
        )
        with st.form("request_close", clear_on_submit=True):
            evidence = st.text_area("整改佐证说明", key="close_evidence")
            files = st.file_uploader("佐证附件", accept_multiple_files=True, key="close_files")
            go = st.form_submit_button("提交销号申请", type="primary")
        if go:
            p = open_ones[pid]
            uploads = [Upload(f.name, f.type or "application/octet-stream", f.getvalue()) for f in files or []]
            if session.run_service(
                problem_service.request_close,
                actor=actor,
                at=session.now(),
                problem_id=p.id,
                expected_version=p.version,
                evidence=evidence,
                attachments=uploads,
                attachment_dir=session.attachment_dir(),
            ):
                widgets.flash(f"已提交问题 {p.code} 的销号申请")
                st.rerun()

with tab_leads:
    leads = session.run_service(lead_service.list_leads, actor=actor, campaign_code=code, at=session.now()) or []
    if not leads:
        st.info("暂无交办本部门的线索")
    else:
        names = {actor.department_code: widgets.department_name(actor)} if actor.department_code else {}
        frame = widgets.lead_frame(leads, names=names)
        st.caption("点击一行查看线索详情")
        event = widgets.table(
            frame,
            key="dept_leads",
            filename=f"交办线索-{widgets.department_name(actor)}.xlsx",
            sheet="交办线索",
            on_select="rerun",
            selection_mode="single-row",
        )
        widgets.lead_detail(actor, leads, widgets.picked(event, frame, "序号"), names)
    if leads:
        mine = {x.id: x for x in leads if x.status == LeadStatus.assigned}
        if mine:
            st.subheader("报送办理结果")
            lid = st.selectbox(
                "线索",
                list(mine),
                key="lead_pick",
                format_func=lambda i: f"{mine[i].code} · {mine[i].summary[:30]}（期限 {mine[i].due_on}）",
            )
            with st.form("lead_outcome"):
                result = widgets.lead_outcome_inputs("lead_report", "核查结果")
                go = st.form_submit_button("报送结果", type="primary")
            if go:
                x = mine[lid]
                if session.run_service(
                    lead_service.report_outcome,
                    actor=actor,
                    at=session.now(),
                    lead_id=x.id,
                    expected_version=x.version,
                    **result,
                ):
                    widgets.flash(f"已报送线索 {x.code} 的办理结果，等待牵头办公室办结")
                    st.rerun()
