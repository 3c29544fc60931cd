"""台账与线索: problem-ledger close-out rate and rebounds, leads funnel and penalty totals.

The office also reviews 销号 requests here.
"""

import streamlit as st

from dashboard import charts, queries, session, widgets
from domain.access import Role
from domain.lead import LeadStatus
from domain.problem import PROBLEM, ProblemStatus
from exchange.xlsx_export import Percent
from services import leads as lead_service
from services import problems as problem_service

actor = widgets.page(Role.leader, Role.office)
code = widgets.campaign_or_stop()
_phase, kinds, _title = widgets.board_filters(actor, code)

st.title("问题台账与案件线索")
probs = queries.problems_by_department(actor, campaign_code=code, kinds=kinds)
leads = queries.lead_funnel(actor, campaign_code=code, kinds=kinds)

c = st.columns(5)
total, closed = int(probs["total"].sum()), int(probs["closed"].sum())
c[0].metric("台账问题", total)
c[1].metric(
    PROBLEM.label(ProblemStatus.closed), closed, help=f"销号率 {widgets.percent(closed / total if total else 0)}"
)
c[2].metric("反弹", int(probs["rebound"].sum()))
c[3].metric("受理线索", int(leads["n"].sum()))
c[4].metric("罚款合计（万元）", f"{leads['fine_wan'].sum():,.2f}")

left, right = st.columns(2)
with left:
    widgets.chart(charts.problems(probs), key="problems_chart")
with right:
    widgets.chart(charts.leads_funnel(leads), key="funnel")
widgets.chart(charts.penalties(leads[leads["status"] == LeadStatus.closed]), key="penalties")

if not probs.empty:
    by_dept = probs.drop(columns=["code"]).rename(
        columns={
            "name": "部门",
            "total": "问题数",
            "closed": PROBLEM.label(ProblemStatus.closed),
            "closing": PROBLEM.label(ProblemStatus.closing),
            "rebound": "反弹",
            "close_rate": "销号率",
        }
    )
    export = by_dept.copy()
    export["销号率"] = export["销号率"].map(Percent)
    widgets.table(
        by_dept,
        key="problems_table",
        filename=f"问题台账按部门-{code}.xlsx",
        sheet="按部门",
        export=export,
        column_config={"销号率": st.column_config.NumberColumn(format="percent")},
    )

tab_problems, tab_leads = st.tabs(["问题清单", "线索清单"])
with tab_problems:
    problems = (
        session.run_service(problem_service.list_problems, actor=actor, campaign_code=code, at=session.now()) or []
    )
    if not problems:
        st.info("台账暂无问题")
    else:
        frame = widgets.problem_frame(problems)
        st.caption("点击一行查看问题详情")
        event = widgets.table(
            frame,
            key="all_problems",
            filename=f"问题清单-{code}.xlsx",
            sheet="问题清单",
            on_select="rerun",
            selection_mode="single-row",
        )
        widgets.problem_detail(actor, problems, widgets.picked(event, frame, "编号"))
    widgets.ledger_download(actor, code, key="ledger_xlsx")
with tab_leads:
    leads_list = session.run_service(lead_service.list_leads, actor=actor, campaign_code=code, at=session.now()) or []
    if not leads_list:
        st.info("暂无线索")
    else:
        frame = widgets.lead_frame(leads_list, names=queries.department_names(actor, code))
        st.caption("点击一行查看线索详情")
        event = widgets.table(
            frame,
            key="all_leads",
            filename=f"线索清单-{code}.xlsx",
            sheet="线索清单",
            on_select="rerun",
            selection_mode="single-row",
        )
        widgets.lead_detail(
            actor, leads_list, widgets.picked(event, frame, "序号"), queries.department_names(actor, code)
        )

if actor.role == Role.office:
    with st.expander("登记问题（核查、回头看发现）"):
        widgets.problem_form(actor, code, key="office_problem")

    st.subheader(PROBLEM.label(ProblemStatus.closing))
    pending = session.run_service(
        problem_service.list_problems,
        actor=actor,
        campaign_code=code,
        status=ProblemStatus.closing.value,
        at=session.now(),
    )
    if not pending:
        st.caption("没有待审核的销号申请")
    for p in pending or []:
        with st.expander(f"{p.code} · {p.department_name} · {p.category}"):
            st.write(p.description)
            st.caption(f"整改措施：{p.measure or '—'}；整改时限 {p.deadline_on}")
            note = st.text_input("审核意见 / 驳回原因", key=f"pnote_{p.id}")
            a, b = st.columns(2)
            if a.button("同意销号", key=f"papprove_{p.id}", type="primary") and session.run_action(
                problem_service.approve_close,
                actor=actor,
                at=session.now(),
                problem_id=p.id,
                expected_version=p.version,
                note=note,
            ):
                widgets.flash(f"问题 {p.code} 已销号")
                st.rerun()
            if b.button("驳回", key=f"preject_{p.id}") and session.run_action(
                problem_service.reject_close,
                actor=actor,
                at=session.now(),
                problem_id=p.id,
                expected_version=p.version,
                reason=note,
            ):
                widgets.flash(f"已驳回问题 {p.code} 的销号申请", "warning")
                st.rerun()

    st.subheader("回头看：认定反弹")
    closed_problems = [p for p in problems if p.status == ProblemStatus.closed]
    if not closed_problems:
        st.caption(f"没有{PROBLEM.label(ProblemStatus.closed)}的问题")
    else:
        by_id = {p.id: p for p in closed_problems}
        pid = st.selectbox(
            f"{PROBLEM.label(ProblemStatus.closed)}问题",
            list(by_id),
            key="rebound_pick",
            format_func=lambda i: f"{by_id[i].code} · {by_id[i].department_name} · {by_id[i].description[:30]}",
        )
        reason = st.text_area("回头看发现的情况（必填）", key="rebound_reason")
        if st.button("认定反弹并重新整改", key="rebound_go"):
            p = by_id[pid]
            if session.run_service(
                problem_service.reopen_rebound,
                actor=actor,
                at=session.now(),
                problem_id=p.id,
                expected_version=p.version,
                reason=reason,
            ):
                widgets.flash(f"问题 {p.code} 已认定反弹，重新进入整改", "warning")
                st.rerun()
