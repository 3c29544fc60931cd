"""问题台账与线索: the department's ledger rows, 销号 requests, and the leads assigned to it."""

import pandas as pd
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from services import leads as lead_service
from services import problems as problem_service
from services.attachments import Upload

actor = widgets.page(Role.department)
code = widgets.campaign_or_stop()
st.title("问题台账与线索")

tab_problems, tab_leads = st.tabs(["问题台账", "交办线索"])
with tab_problems:
    problems = session.run_service(problem_service.list_problems, actor=actor, campaign_code=code) or []
    if not problems:
        st.info("本部门台账暂无问题")
    else:
        st.dataframe(pd.DataFrame([{
            "编号": p.code, "类别": p.category, "问题描述": p.description, "处置方式": p.handling_class,
            "整改时限": p.deadline_on, "状态": queries.PROBLEM_STATUS_LABELS.get(p.status, p.status),
            "反弹": "是" if p.rebound else "",
        } for p in problems]), hide_index=True, width="stretch", key="dept_problems")
        open_ones = {p.id: p for p in problems if p.status == "open"}
        if open_ones:
            st.subheader("申请销号")
            pid = st.selectbox("问题", list(open_ones), key="close_pick",
                               format_func=lambda i: f"{open_ones[i].code} · {open_ones[i].description[:30]}")
            with st.form("request_close", clear_on_submit=True):
                evidence = st.text_area("整改佐证说明")
                files = st.file_uploader("佐证附件", accept_multiple_files=True)
                go = st.form_submit_button("提交销号申请", type="primary")
            if go:
                p = open_ones[pid]
                uploads = [Upload(f.name, f.type or "application/octet-stream", f.getvalue()) for f in files or []]
                if session.run_service(problem_service.request_close, actor=actor, at=session.now(), problem_id=p.id,
                                       expected_version=p.version, evidence=evidence, attachments=uploads,
                                       attachment_dir=session.attachment_dir(), commit=True):
                    widgets.flash(f"已提交问题 {p.code} 的销号申请")
                    st.rerun()

with tab_leads:
    leads = session.run_service(lead_service.list_leads, actor=actor, campaign_code=code) or []
    if not leads:
        st.info("暂无交办本部门的线索")
    else:
        st.dataframe(pd.DataFrame([{
            "编号": x.code, "来源": x.source, "类别": x.category, "摘要": x.summary, "办理期限": x.due_on,
            "状态": queries.LEAD_STATUS_LABELS.get(x.status, x.status), "结果": x.outcome or "",
        } for x in leads]), hide_index=True, width="stretch", key="dept_leads")
        mine = {x.id: x for x in leads if x.status == "assigned"}
        if mine:
            st.subheader("报送办理结果")
            lid = st.selectbox("线索", list(mine), key="lead_pick",
                               format_func=lambda i: f"{mine[i].code} · {mine[i].summary[:30]}")
            with st.form("lead_outcome"):
                outcome = st.radio("核查结果", ["查实", "不实"], horizontal=True)
                measures = st.text_input("处理措施（用、分隔）")
                fine = st.number_input("罚款（万元）", min_value=0.0, step=0.1)
                ent = st.number_input("涉及企业数", min_value=0, step=1)
                ppl = st.number_input("处理人数", min_value=0, step=1)
                go = st.form_submit_button("报送结果", type="primary")
            if go:
                x = mine[lid]
                if session.run_service(lead_service.report_outcome, actor=actor, at=session.now(), lead_id=x.id,
                                       expected_version=x.version, outcome=outcome,
                                       measures=[m for m in measures.replace(",", "、").split("、") if m.strip()],
                                       fine_wan=fine, enterprises_involved=int(ent), people_dealt_with=int(ppl),
                                       commit=True):
                    widgets.flash(f"已报送线索 {x.code} 的办理结果")
                    st.rerun()
