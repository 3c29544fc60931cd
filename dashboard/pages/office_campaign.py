"""专项行动配置: upload or pick a campaign YAML, validate (line numbers), preview, launch or apply."""

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from domain.errors import SpecInvalid
from domain.plan import build_plan
from domain.spec import DELIVERABLE_LABELS
from services import campaigns
from services.holidays import campaign_calendar
from services.spec_files import parse_spec

actor = widgets.page(Role.office)
st.title("专项行动配置")

CONFIG = Path(__file__).resolve().parents[2] / "config" / "campaigns"
source = st.radio("YAML 来源", ["上传文件", "示例目录"], horizontal=True, key="yaml_source")
text, name = "", "<上传>"
if source == "上传文件":
    up = st.file_uploader("专项行动 YAML", type=["yaml", "yml"], key="yaml_upload")
    if up is not None:
        name = up.name
        try:
            text = up.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            st.error("文件不是 UTF-8 编码，请另存为 UTF-8")
else:
    files = sorted(CONFIG.glob("*.yaml")) if CONFIG.is_dir() else []
    pick = st.selectbox("选择文件", files, format_func=lambda p: p.name, key="yaml_pick")
    if pick:
        name, text = pick.name, pick.read_text(encoding="utf-8")
text = st.text_area("YAML 内容（可直接修改）", value=text, height=300, key=f"yaml_text_{name}")
if not text.strip():
    st.info("请上传或选择一个专项行动 YAML")
    st.stop()

try:
    spec = parse_spec(text, name)
except SpecInvalid as exc:
    st.error(f"YAML 校验未通过：{len(exc.problems)} 处问题")
    widgets.table(
        pd.DataFrame([{"行": p.line, "列": p.column, "字段": p.field, "问题": p.message} for p in exc.problems]),
        key="spec_problems",
        filename="YAML校验问题.xlsx",
        sheet="校验问题",
    )
    st.stop()

st.success(f"校验通过：{spec.title}（{spec.id}）")
plan = build_plan(spec, campaign_calendar(spec))
c = st.columns(4)
c[0].metric("部门", len(spec.departments))
c[1].metric("阶段", len(spec.phases))
c[2].metric("任务模板", len(plan.templates))
c[3].metric("任务（部门 × 期次）", len(plan.assignments))
titles = {t.key: t for t in plan.templates}
preview = pd.DataFrame(
    [
        {
            "任务": titles[a.template_key].title,
            "部门": a.department_code,
            "期次": a.period or "—",
            "阶段": a.phase_key,
            "开始": a.opens_on,
            "截止": a.due_on,
            "成果": DELIVERABLE_LABELS.get(titles[a.template_key].deliverable, ""),
            "牵头": "牵头" if a.is_lead else "",
        }
        for a in plan.assignments
    ]
)
with st.expander("任务计划预览", expanded=False):
    widgets.table(preview, key="plan_preview", filename=f"任务计划-{spec.id}.xlsx", sheet="任务计划")

# Dry run: the launch service in a unit of work that is rolled back, to show what the launch would change.
report = session.preview(campaigns.launch, spec, actor=actor, at=session.now(), source_path=name)
if report is None:
    st.stop()
st.subheader("变更预览")
st.code("\n".join(report.lines()), language=None)
if not report.unchanged:
    label = "启动专项行动" if report.created else "应用变更"
    if st.button(label, type="primary", key="launch"):
        done = widgets.launch_campaign(actor, spec, source_path=name)
        if done is not None:
            st.session_state["campaign_code"] = spec.id
            widgets.flash("；".join(done.lines()))
            st.rerun()
