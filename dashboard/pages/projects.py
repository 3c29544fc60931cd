"""项目与抽查 / 项目台账: the supervised-project register (upload CSV / XLSX, all or nothing, bad rows named by
row number), the projects, and the verification draws with their seed and the ratio reached.

The office imports any department's rows, a department its own only, leaders read (the service decides).
"""

import pandas as pd
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from exchange.xlsx_export import Percent
from services import projects as project_service

actor = widgets.page(Role.office, Role.department, Role.leader)
code = widgets.campaign_or_stop()
st.title("项目台账" if actor.role == Role.department else "项目与抽查")

if actor.role in (Role.office, Role.department):
    with st.expander("导入项目台账（CSV / Excel）", expanded=False):
        st.caption(
            "按模板逐行填写；只要有一行不合格，整个文件都不导入，并列出每一处错误的行号。"
            + ("只能导入本部门监管的项目。" if actor.role == Role.department else "")
            + "已存在的项目编号会被更新。"
        )
        widgets.import_template_download("projects", key="projects_template")
        up = st.file_uploader("项目台账文件", type=["xlsx", "csv"], key="projects_upload")
        if up is not None and st.button("导入", key="projects_import", type="primary"):
            report = widgets.run_import(
                project_service.import_projects,
                key="projects_errors",
                actor=actor,
                at=session.now(),
                campaign_code=code,
                data=up.getvalue(),
                filename=up.name,
            )
            if report is not None:
                widgets.flash("；".join(report.lines()))
                st.rerun()

department = None
if actor.role != Role.department:
    names = queries.department_names(actor, code)
    department = (
        st.selectbox(
            "部门",
            ["", *list(names)],
            key="projects_department",
            format_func=lambda c: names[c] if c else "全部部门",
        )
        or None
    )

projects = session.run_service(
    project_service.list_projects, actor=actor, campaign_code=code, department_code=department, at=session.now()
)
if projects is None:
    st.stop()
dept_names = queries.department_names(actor, code)
st.subheader(f"监管项目（{len(projects)} 个）")
if not projects:
    st.info("尚未导入项目台账")
else:
    widgets.table(
        pd.DataFrame(
            [
                {
                    "项目编号": p.code,
                    "项目名称": p.name,
                    "监管部门": dept_names.get(p.department_code, p.department_code),
                    "招标日期": p.tender_on,
                    "合同估算价（万元）": float(p.amount_wan) if p.amount_wan is not None else None,
                    "中标人": p.winner or "",
                    "投标人": "、".join(p.bidders),
                    "已抽中核查": "是" if p.sampled else "",
                }
                for p in projects
            ]
        ),
        key="projects_table",
        filename=f"项目台账-{code}{'-' + department if department else ''}.xlsx",
        sheet="项目台账",
    )

st.subheader("重点核查抽查记录")
draws = session.run_service(project_service.list_draws, actor=actor, campaign_code=code, at=session.now())
if draws is None:
    st.stop()
if department:
    draws = [d for d in draws if d.department_code == department]
if not draws:
    st.info("尚未抽查。进入重点核查阶段后，巡检会按随机种子抽取每个部门不少于规定比例的项目。")
else:
    rows = [
        {
            "部门": dept_names.get(d.department_code, d.department_code),
            "轮次": d.round,
            "随机种子": d.seed,
            "规定最低比例": d.min_ratio,
            "监管项目数": d.population,
            "本轮抽取项目数": len(d.sampled_codes),
            "累计抽查比例": d.ratio,
            "本轮抽取项目": "、".join(d.sampled_codes),
            "抽取日期": d.drawn_on,
        }
        for d in draws
    ]
    view = pd.DataFrame(rows)
    export = view.copy()
    export["规定最低比例"] = export["规定最低比例"].map(Percent)
    export["累计抽查比例"] = export["累计抽查比例"].map(Percent)
    widgets.table(
        view,
        key="draws_table",
        filename=f"抽查记录-{code}.xlsx",
        sheet="抽查记录",
        export=export,
        column_config={
            "规定最低比例": st.column_config.NumberColumn(format="percent"),
            "累计抽查比例": st.column_config.NumberColumn(format="percent"),
        },
    )
    if actor.role in (Role.office, Role.leader) and st.button("按记录的种子复核抽查结果", key="verify_draws"):
        checked = session.run_service(project_service.verify_draws, actor=actor, campaign_code=code)
        if checked is not None:
            bad = sorted({d for d, same in checked if not same})
            if bad:
                shown = "、".join(dept_names.get(d, d) for d in bad)
                st.error(f"以下部门按原种子重抽结果与记录不一致（项目台账可能已变更）：{shown}")
            else:
                st.success(f"复核通过：{len(checked)} 轮抽查按原种子和当时的项目台账重抽，结果与记录一致")
            widgets.table(
                pd.DataFrame(
                    [{"部门": dept_names.get(d, d), "复核结果": "一致" if same else "不一致"} for d, same in checked]
                ),
                key="verify_table",
                filename=f"抽查复核-{code}.xlsx",
                sheet="抽查复核",
            )
