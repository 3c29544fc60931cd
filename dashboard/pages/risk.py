"""大数据预警 (issue 14): the red flags of the bid register, the collusion network, the rules' hit rates and the
credit lists (watch list, 联合惩戒 blacklist with its records, experts listed for suspension).

The office runs the scan (new 预警 become leads for the departments) and imports bid records; leaders read; a
department sees only its own projects' flags and leads (the services scope every read).
"""

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from domain.credit import ENTITY_KIND, EntityKind, Standing
from domain.lead import LEAD, LeadSource, LeadStatus
from domain.risk.network import KIND_NAMES, CollusionGroup
from exchange.bids import template_xlsx
from services import credit as credit_service
from services.leads import list_leads
from services.risk import register as register_service
from services.risk import screening

actor = widgets.page(Role.office, Role.leader, Role.department)
code = widgets.campaign_or_stop()
st.title("大数据预警")
office = actor.role == Role.office
overseer = actor.role in (Role.office, Role.leader)
dept_names = queries.department_names(actor, code)  # departments by name, as people read them (issue 12)

if office:
    with st.expander("导入投标记录 · 运行预警筛查", expanded=False):
        st.caption(
            "按交易平台导出格式（每份投标一行）导入；只要有一行不合格，整个文件都不导入。"
            "筛查后风险分达到预警线的项目转为“大数据预警”线索，交办监管部门限时办结；同一项目只转一次。"
        )
        widgets.download(template_xlsx(), filename="投标记录导入模板.xlsx", key="bids_template", label="下载导入模板")
        up = st.file_uploader("投标记录文件", type=["xlsx", "csv"], key="bids_upload")
        if up is not None and st.button("导入", key="bids_import"):
            report = widgets.run_import(
                register_service.import_bids,
                key="bids_errors",
                actor=actor,
                at=session.now(),
                campaign_code=code,
                data=up.getvalue(),
                filename=up.name,
            )
            if report is not None:
                widgets.flash("；".join(report.lines()))
                st.rerun()
        if st.button("运行预警筛查", key="risk_scan", type="primary"):
            scanned = session.run_service(screening.scan_campaign, actor=actor, at=session.now(), campaign_code=code)
            if scanned is not None:
                made = len(scanned.new_leads)
                widgets.flash(f"筛查 {scanned.projects} 个项目：预警项目 {scanned.alerts} 个，新转线索 {made} 条")
                st.rerun()

flags = session.run_service(screening.list_flags, actor=actor, campaign_code=code, at=session.now()) or []
titles = ["预警项目", "关联企业网络", "规则命中率", "信用与黑名单"] if overseer else ["本部门预警", "预警线索"]
tabs = st.tabs(titles)

with tabs[0]:
    c = st.columns(3)
    c[0].metric("预警项目", len(flags))
    c[1].metric("已转线索", sum(1 for f in flags if f.lead_code))
    c[2].metric("最高风险分", f"{max((f.score for f in flags), default=0):.1f}")
    if not flags:
        st.info("暂无预警：导入投标记录并运行筛查后显示。")
    else:
        frame = pd.DataFrame(
            {
                "项目编号": [f.project_code for f in flags],
                "项目名称": [f.project_name for f in flags],
                "部门": [dept_names.get(f.department_code, f.department_code) for f in flags],
                "风险分": [f.score for f in flags],
                "命中规则": ["、".join(f.rules) for f in flags],
                "线索": [f.lead_code or "" for f in flags],
                "证据": ["\n".join(f.evidence) for f in flags],
            }
        )
        widgets.table(frame, key="risk_flags", filename=f"大数据预警-{code}.xlsx", sheet="预警项目")


def network_figure(groups: list[CollusionGroup]) -> go.Figure:
    """Each group's members on a small circle, groups side by side; an edge per pair sharing identifiers."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    nodes: dict[str, tuple[float, float, str, str]] = {}
    columns = max(1, math.ceil(math.sqrt(len(groups))))
    for index, group in enumerate(groups):
        cx, cy = (index % columns) * 3.0, -(index // columns) * 3.0
        for k, (member, name) in enumerate(zip(group.members, group.names, strict=False)):
            angle = 2 * math.pi * k / len(group.members)
            nodes[member] = (cx + math.cos(angle), cy + math.sin(angle), name, group.group_id)
        for first, second, _kinds in group.edges():
            xs += [nodes[first][0], nodes[second][0], None]
            ys += [nodes[first][1], nodes[second][1], None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"width": 1, "color": "#999"}, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(
            x=[n[0] for n in nodes.values()],
            y=[n[1] for n in nodes.values()],
            mode="markers",
            marker={"size": 12, "color": "#c0392b"},
            text=[f"{n[2]}（{code}）· {n[3]}" for code, n in nodes.items()],
            hoverinfo="text",
        )
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(showlegend=False, height=520, title="关联企业网络（同一群内的企业共用 IP/MAC/文件/账户/人员）")
    return fig


if overseer:
    with tabs[1]:
        groups = session.run_service(screening.collusion_network, actor=actor, campaign_code=code, at=session.now())
        if not groups:
            st.info("暂无关联企业群")
        else:
            st.metric("关联企业群", len(groups))
            widgets.chart(network_figure(groups[:60]), key="risk_network")
            frame = pd.DataFrame(
                {
                    "群": [g.group_id for g in groups],
                    "企业数": [len(g.members) for g in groups],
                    "成员": ["、".join(g.names) for g in groups],
                    "共用标识": ["、".join(KIND_NAMES.get(k, k) for k in g.kinds) for g in groups],
                    "涉及项目": ["、".join(g.evidence_projects) for g in groups],
                }
            )
            widgets.table(frame, key="risk_groups", filename=f"关联企业群-{code}.xlsx", sheet="关联企业群")

    with tabs[2]:
        rates = session.run_service(screening.hit_rates, actor=actor, campaign_code=code, at=session.now()) or []
        if not rates:
            st.info("暂无预警线索")
        else:
            st.caption(
                "命中率 = 预警线索办结后查实（含部分属实）的数量 / 已办结的数量，"
                "供牵头办公室调整 YAML 中 risk: 的阈值和权重。"
            )
            frame = pd.DataFrame(
                {
                    "规则": [r.rule_id for r in rates],
                    "名称": [r.title for r in rates],
                    "预警项目": [r.alerts for r in rates],
                    LEAD.label(LeadStatus.closed): [r.closed for r in rates],
                    "查实": [r.confirmed for r in rates],
                    "命中率": [f"{r.rate:.0%}" if r.rate is not None else "—" for r in rates],
                }
            )
            widgets.table(frame, key="risk_hits", filename=f"规则命中率-{code}.xlsx", sheet="规则命中率")

    with tabs[3]:
        if office and st.button("更新量化记分", key="credit_refresh"):
            refreshed = session.run_service(
                credit_service.refresh_credit, actor=actor, at=session.now(), campaign_code=code
            )
            if refreshed is not None:
                widgets.flash(f"新增记分记录 {refreshed.new_events} 条；信用状态变化 {len(refreshed.changes)} 个")
                st.rerun()
        entries = session.run_service(credit_service.list_credit, actor=actor, campaign_code=code, at=session.now())
        if not entries:
            st.info("暂无记分主体：预警线索办结查实、问题台账登记后，更新量化记分即可生成。")
        else:
            c = st.columns(3)
            c[0].metric("黑名单", sum(1 for e in entries if e.standing == Standing.blacklist))
            c[1].metric("重点关注", sum(1 for e in entries if e.standing == Standing.watch))
            c[2].metric("暂停评标专家", sum(1 for e in entries if e.suspended))
            frame = pd.DataFrame(
                {
                    "类型": [ENTITY_KIND.label(e.kind) for e in entries],
                    "名称": [e.name for e in entries],
                    "代码": [e.code for e in entries],
                    "有效记分": [e.points for e in entries],
                    "信用状态": [e.standing_label for e in entries],
                    "专家评级": [
                        (e.rating or "") + ("（暂停评标）" if e.suspended else "")
                        if e.kind == EntityKind.expert
                        else ""
                        for e in entries
                    ],
                    "记分记录": ["\n".join(f"{r.source} {r.points:+d} {r.reason}" for r in e.records) for e in entries],
                }
            )
            widgets.table(frame, key="credit_table", filename=f"量化记分-{code}.xlsx", sheet="量化记分")
            widgets.download(
                lambda: (
                    session.run_service(
                        credit_service.blacklist_xlsx, actor=actor, campaign_code=code, at=session.now()
                    )
                    or b""
                ),
                filename=f"黑名单（联合惩戒）-{code}.xlsx",
                key="blacklist_xlsx",
                label="导出黑名单（含记分记录）",
            )
else:
    with tabs[1]:
        leads = session.run_service(list_leads, actor=actor, campaign_code=code, at=session.now()) or []
        mine = [lead for lead in leads if lead.source == LeadSource.big_data]
        if not mine:
            st.info("暂无交办本部门的预警线索")
        else:
            st.caption("预警线索在“问题台账与线索”中报送办理结果。")
            widgets.table(
                widgets.lead_frame(mine, show_reporter=False, names=dept_names),
                key="dept_risk_leads",
                filename=f"预警线索-{code}.xlsx",
                sheet="预警线索",
            )
