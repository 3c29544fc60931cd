"""工作报告 / 月度报告: the monthly report of a department and the office rollup (seed 001, 四(三)).

Figures and tables come from services.reports for the period; only the four narrative sections are
written here — a department its own report's, the office the rollup's (the service decides). Every
role downloads the .docx report and its .xlsx annex.
"""

import pandas as pd
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from domain.localtime import local_text
from exchange.reports import (
    FIGURE_LABELS,
    NO_PROJECTS,
    SECTION_HEADINGS,
    DepartmentProgressRow,
    Narrative,
    grading_day_text,
)
from exchange.xlsx_export import Percent
from services import reports as report_service

ROLLUP = ""

actor = widgets.page()
code = widgets.campaign_or_stop()
today = session.today()
st.title("月度报告" if actor.role == Role.department else "工作报告")


c1, c2 = st.columns(2)
if actor.role == Role.department:
    scope = actor.department_code
    c2.text_input("报告单位", value=widgets.department_name(actor), disabled=True, key="report_unit_fixed")
else:
    names = queries.department_names(actor, code)
    scope = c2.selectbox(
        "报告单位",
        [ROLLUP, *list(names)],
        key="report_scope",
        format_func=lambda c: "全区汇总（牵头办公室）" if c == ROLLUP else names[c],
    )
department = scope or None
# Only months whose reporting window has begun (the campaign's report dates decide them).
periods = session.run_service(
    report_service.report_periods, campaign_code=code, department_code=department, as_of=today
)
if not periods:
    st.info("还没有可以生成的报告期：第一个月度报告期尚未开始。")
    st.stop()
period = c1.selectbox("报告期（月）", periods, key="report_period", format_func=lambda p: f"{p[:4]}年{int(p[5:])}月")

data = session.run_service(
    report_service.report_data,
    actor=actor,
    campaign_code=code,
    period=period,
    department_code=department,
    at=session.now(),
)
if data is None:
    st.stop()
st.subheader(data.report_title)
st.caption(f"统计期间：{data.period_start} 至 {data.period_end}（报告中的数字均由系统按本期数据生成，不可修改）")

f = data.figures
m = st.columns(5)
m[0].metric("下达任务", f.tasks_assigned, help=f"审核通过 {f.tasks_accepted} 项，逾期 {f.tasks_overdue} 项")
m[1].metric("发现问题", f.problems_found, help=f"已整改 {f.problems_rectified} 个，销号 {f.problems_closed} 个")
m[2].metric(
    "核查比例",
    NO_PROJECTS if f.sampled_ratio is None else widgets.percent(f.sampled_ratio),  # as on the boards, not 0 %
    help=f"监管项目 {f.projects_supervised} 个，核查 {f.projects_sampled} 个",
)
m[3].metric("受理线索", f.leads_received, help=f"办结 {f.leads_closed} 件，查实 {f.leads_substantiated} 件")
m[4].metric("罚款（万元）", f"{f.fines_wan_yuan:,.2f}")

# --- the narrative ----------------------------------------------------------------------------------
may_write = (actor.role == Role.department and department == actor.department_code) or (
    actor.role == Role.office and department is None
)
saved = session.run_service(
    report_service.get_narrative,
    actor=actor,
    campaign_code=code,
    period=period,
    department_code=department,
    at=session.now(),
)
st.subheader("报告正文")
if saved is not None and saved.updated_by:
    who = widgets.person_names(actor, [saved.updated_by]).get(saved.updated_by, saved.updated_by)
    st.caption(f"最近由 {who} 于 {local_text(saved.updated_at)} 保存")
if may_write and saved is not None:
    form_key = f"narrative_{code}_{period}_{scope or 'rollup'}"
    with st.form(form_key):
        texts = {
            name: st.text_area(heading, value=getattr(saved.narrative, name), height=150, key=f"{form_key}_{name}")
            for name, heading in SECTION_HEADINGS
        }
        go = st.form_submit_button("保存正文", type="primary")
    if go:
        done = session.run_service(
            report_service.save_narrative,
            actor=actor,
            at=session.now(),
            campaign_code=code,
            period=period,
            department_code=department,
            narrative=Narrative(**texts),
            expected_version=saved.version,
        )
        if done is not None:
            widgets.flash("报告正文已保存")
            st.rerun()
elif saved is not None:
    for name, heading in SECTION_HEADINGS:
        st.markdown(f"**{heading}**")
        st.text(getattr(saved.narrative, name) or "（未填写）")

# --- downloads ---------------------------------------------------------------------------------------
st.subheader("下载报告")
rendered_key = f"rendered|{code}|{period}|{scope}"
if st.button("生成 Word 报告和 Excel 附表", key="render_report", type="primary"):
    with st.spinner("正在生成报告……"):
        rendered = session.run_service(
            report_service.render_report,
            actor=actor,
            campaign_code=code,
            period=period,
            department_code=department,
            at=session.now(),
        )
    if rendered is not None:
        st.session_state[rendered_key] = rendered
rendered = st.session_state.get(rendered_key)
if rendered is not None:
    d1, d2 = st.columns(2)
    with d1:
        widgets.download(
            rendered.docx,
            filename=f"{rendered.filename_stem}.docx",
            key="report_docx",
            label="下载 Word 报告（.docx）",
            mime=widgets.DOCX_MIME,
        )
    with d2:
        widgets.download(
            rendered.xlsx,
            filename=f"{rendered.filename_stem}.xlsx",
            key="report_xlsx",
            label="下载 Excel 附表（.xlsx）",
        )
else:
    st.caption("报告按当前保存的正文和本期数据生成；修改正文后请重新生成。")

# --- figures and tables --------------------------------------------------------------------------------


def shown(value: object) -> object:
    return f"{value * 100:.1f}%" if isinstance(value, Percent) else value


def figure(name: str) -> object:
    value = getattr(f, name)
    if name == "sampled_ratio":  # no supervised projects: 无监管项目 as on the boards, not 0 %
        return NO_PROJECTS if value is None else Percent(value)
    return value


with st.expander("主要数字", expanded=False):
    raw = [{"项目": label, "数值": figure(name)} for name, label in FIGURE_LABELS.items()]
    widgets.table(
        pd.DataFrame(
            [{"项目": r["项目"], "数值": str(shown(r["数值"]) if r["数值"] is not None else "—")} for r in raw]
        ),
        key="report_figures",
        filename=f"主要数字-{period}.xlsx",
        sheet="主要数字",
        export=pd.DataFrame(raw),
    )
for i, (title, headers, rows) in enumerate(data.tables()):
    with st.expander(f"{title}（{len(rows)} 行）", expanded=False):
        if title == DepartmentProgressRow.table_title:
            st.caption(f"评级：{grading_day_text(data)}，规则和数据与进度看板相同。")
        cells = [row.cells() for row in rows]
        widgets.table(
            pd.DataFrame([[shown(v) for v in r] for r in cells], columns=headers),
            key=f"report_table_{i}",
            filename=f"{title}-{period}.xlsx",
            sheet=title,
            export=pd.DataFrame(cells, columns=headers),
        )
