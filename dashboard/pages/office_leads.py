"""线索办理: the office intakes leads (reporter details confidential), assigns them to a department with a
working-day limit, and closes them with the outcome and measures."""

import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from domain.lead import LEAD, LEAD_SOURCE, LeadStatus
from domain.problem import PROBLEM_CATEGORY
from services import leads as lead_service

actor = widgets.page(Role.office)
code = widgets.campaign_or_stop()
today = session.today()
st.title("线索办理")

leads = session.run_service(lead_service.list_leads, actor=actor, campaign_code=code, at=session.now())
if leads is None:
    st.stop()
figures = session.run_service(lead_service.lead_figures, actor=actor, campaign_code=code, at=session.now())
if figures is not None:
    c = st.columns(5)
    c[0].metric("受理线索", figures.received)
    c[1].metric(LEAD.label(LeadStatus.closed), figures.closed)
    c[2].metric("查实", figures.substantiated, help="含部分属实")
    c[3].metric("处理人数", figures.people_dealt_with, help=f"涉及企业 {figures.enterprises_involved} 家")
    c[4].metric("罚款（万元）", f"{figures.fine_wan:,.2f}")

dept_names = queries.department_names(actor, code)


def label(x) -> str:  # noqa: ANN001
    where = f" → {dept_names.get(x.department_code, x.department_code)}" if x.department_code else ""
    return f"{x.code} · {x.source} · {x.summary[:24]}{where}"


tab_list, tab_intake, tab_assign, tab_close = st.tabs(["线索清单", "受理线索", "交办", "办结"])

with tab_list:
    if not leads:
        st.info("暂无线索")
    else:
        st.caption("举报人信息仅牵头办公室可见，请严格保密。点击一行查看线索详情。")
        frame = widgets.lead_frame(leads, show_reporter=True, names=dept_names)
        event = widgets.table(
            frame,
            key="office_leads",
            filename=f"线索清单（含举报人，保密）-{code}.xlsx",
            sheet="线索清单",
            on_select="rerun",
            selection_mode="single-row",
        )
        widgets.lead_detail(actor, leads, widgets.picked(event, frame, "序号"), dept_names)

with tab_intake:
    with st.form("lead_intake", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        source = c1.selectbox("线索来源", [s.value for s in LEAD_SOURCE.choices()], key="intake_source")
        received = c2.date_input("收到日期", value=today, max_value=today, key="intake_received")
        category = c3.selectbox("问题类别", [c.value for c in PROBLEM_CATEGORY.choices()], key="intake_category")
        summary = st.text_area("内容摘要", key="intake_summary", placeholder="反映的主要问题")
        c4, c5 = st.columns(2)
        project = c4.text_input("涉及项目编号（可不填）", key="intake_project")
        lead_code = c5.text_input("线索编号（可不填，自动编号）", key="intake_code")
        st.markdown("**举报人信息（保密，仅牵头办公室可见；匿名可不填）**")
        c6, c7 = st.columns(2)
        reporter = c6.text_input("举报人姓名", key="intake_reporter")
        phone = c7.text_input("举报人电话", key="intake_phone")
        go = st.form_submit_button("受理", type="primary")
    if go:
        done = session.run_service(
            lead_service.intake_lead,
            actor=actor,
            at=session.now(),
            campaign_code=code,
            source=source,
            received_on=received,
            category=category,
            summary=summary,
            project_code=project.strip() or None,
            reporter_name=reporter.strip() or None,
            reporter_phone=phone.strip() or None,
            code=lead_code.strip() or None,
        )
        if done is not None:
            widgets.flash(f"已受理线索 {done.code}，请及时交办")
            st.rerun()

with tab_assign:
    open_leads = {x.id: x for x in leads if x.status in (LeadStatus.received, LeadStatus.assigned)}
    if not open_leads:
        st.info("没有待交办的线索")
    else:
        lid = st.selectbox(
            "线索（已交办的可改派）", list(open_leads), key="assign_pick", format_func=lambda i: label(open_leads[i])
        )
        c1, c2 = st.columns(2)
        dept = c1.selectbox("承办部门", list(dept_names), key="assign_dept", format_func=lambda c: dept_names[c])
        days = c2.number_input("办理时限（工作日）", min_value=1, max_value=250, value=15, step=1, key="assign_days")
        if st.button("交办", key="assign_go", type="primary"):
            x = open_leads[lid]
            done = session.run_service(
                lead_service.assign_lead,
                actor=actor,
                at=session.now(),
                lead_id=x.id,
                expected_version=x.version,
                department_code=dept,
                working_days=int(days),
            )
            if done is not None:
                widgets.flash(f"线索 {done.code} 已交办{dept_names.get(dept, dept)}，办理期限 {done.due_on}")
                st.rerun()

with tab_close:
    closable = {x.id: x for x in leads if x.status in (LeadStatus.assigned, LeadStatus.reported)}
    if not closable:
        st.info("没有待办结的线索")
    else:
        lid = st.selectbox(
            "线索",
            list(closable),
            key="close_lead_pick",
            format_func=lambda i: f"{label(closable[i])}（{LEAD.label(closable[i].status)}）",
        )
        x = closable[lid]
        if x.status == LeadStatus.reported:
            st.info(
                f"承办部门报送：{x.outcome}；处理措施 {'、'.join(x.measures) or '无'}；罚款 {x.fine_wan} 万元；"
                f"涉及企业 {x.enterprises_involved} 家；处理 {x.people_dealt_with} 人"
            )
            if st.button("按报送结果办结", key="close_as_reported", type="primary"):
                done = session.run_service(
                    lead_service.close_lead, actor=actor, at=session.now(), lead_id=x.id, expected_version=x.version
                )
                if done is not None:
                    widgets.flash(f"线索 {done.code} 已办结（{done.outcome}）")
                    st.rerun()
            st.caption("如需更正办理结果，可在下方填写后办结。")
        with st.form("close_lead_form"):
            result = widgets.lead_outcome_inputs("close", "办理结果")
            go = st.form_submit_button("填写结果并办结")
        if go:
            done = session.run_service(
                lead_service.close_lead,
                actor=actor,
                at=session.now(),
                lead_id=x.id,
                expected_version=x.version,
                **result,
            )
            if done is not None:
                widgets.flash(f"线索 {done.code} 已办结（{done.outcome}）")
                st.rerun()
