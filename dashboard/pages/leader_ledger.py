"""台账与线索: problem-ledger close-out rate and rebounds, leads funnel and penalty totals.

The office also reviews 销号 requests here.
"""

import streamlit as st

from dashboard import charts, queries, session, widgets
from domain.access import Role

actor = widgets.page(Role.leader, Role.office)
code = widgets.campaign_or_stop()
_phase, kinds, _title = widgets.board_filters(code)

st.title("问题台账与案件线索")
probs = queries.problems_by_department(code, kinds)
leads = queries.leads(code, kinds)

c = st.columns(5)
total, closed = int(probs["total"].sum()), int(probs["closed"].sum())
c[0].metric("台账问题", total)
c[1].metric("已销号", closed, help=f"销号率 {widgets.percent(closed / total if total else 0)}")
c[2].metric("反弹", int(probs["rebound"].sum()))
c[3].metric("受理线索", int(leads["n"].sum()))
c[4].metric("罚款合计（万元）", f"{leads['fine_wan'].sum():,.2f}")

left, right = st.columns(2)
left.plotly_chart(charts.problems(probs), width="stretch", key="problems_chart")
right.plotly_chart(charts.leads_funnel(leads), width="stretch", key="funnel")
st.plotly_chart(charts.penalties(leads[leads["status"] == "closed"]), width="stretch", key="penalties")

if not probs.empty:
    st.dataframe(probs.rename(columns={"code": "部门代码", "name": "部门", "total": "问题数", "closed": "已销号",
                                       "closing": "待销号审核", "rebound": "反弹", "close_rate": "销号率"}),
                 hide_index=True, width="stretch", key="problems_table",
                 column_config={"销号率": st.column_config.NumberColumn(format="percent")})

if actor.role == Role.office:
    from services import problems as problem_service

    st.subheader("待销号审核")
    pending = session.run_service(problem_service.list_problems, actor=actor, campaign_code=code, status="closing")
    if not pending:
        st.caption("没有待审核的销号申请")
    for p in pending or []:
        with st.expander(f"{p.code} · {p.department_name} · {p.category}"):
            st.write(p.description)
            st.caption(f"整改措施：{p.measure or '—'}；整改时限 {p.deadline_on}")
            note = st.text_input("审核意见 / 驳回原因", key=f"pnote_{p.id}")
            a, b = st.columns(2)
            if a.button("同意销号", key=f"papprove_{p.id}", type="primary"):
                if session.run_service(problem_service.approve_close, actor=actor, at=session.now(),
                                       problem_id=p.id, expected_version=p.version, note=note, commit=True):
                    widgets.flash(f"问题 {p.code} 已销号")
                    st.rerun()
            if b.button("驳回", key=f"preject_{p.id}"):
                if session.run_service(problem_service.reject_close, actor=actor, at=session.now(),
                                       problem_id=p.id, expected_version=p.version, reason=note, commit=True):
                    widgets.flash(f"已驳回问题 {p.code} 的销号申请", "warning")
                    st.rerun()
