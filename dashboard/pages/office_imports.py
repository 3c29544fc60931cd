"""数据导入: blank templates for departments, users, projects and leads, and an upload that lists every bad
row by its number (nothing is imported until the file is clean)."""

import pandas as pd
import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from services.imports import import_file

actor = widgets.page(Role.office)
code = widgets.campaign_or_stop()
kinds = widgets.import_kinds()
st.title("数据导入")
st.caption(
    "先下载空白模板，按「说明」工作表填写后上传（Excel 或 CSV，CSV 可为 UTF-8 或 GBK 编码）。"
    "导入时逐行检查：只要有一行不合格，整个文件都不导入，并列出每一处错误的行号和列名。"
)

st.subheader("空白模板")
cols = st.columns(len(kinds))
for col, kind in zip(cols, kinds, strict=False):
    with col:
        widgets.import_template_download(kind, key=f"template_{kind}")

# What the last import returned that is shown once: generated passwords, the updated campaign YAML.
last = st.session_state.get("last_import")
if last is not None and last[0] == code:
    report = last[1]
    st.success(widgets.report_text(report))
    if report.passwords:
        st.warning("以下账号的初始密码由系统生成，只显示这一次：请下载后分别通知本人，并提醒其登录后修改密码。")
        widgets.table(
            pd.DataFrame([{"用户名": u, "初始密码": p} for u, p in report.passwords.items()]),
            key="import_passwords",
            filename="初始密码（请妥善保管）.xlsx",
            sheet="初始密码",
        )
    if report.spec_yaml:
        st.info(
            "部门已写入专项行动。请下载更新后的 YAML 保存为专项行动配置文件，否则下次用旧文件启动时新部门会被撤销。"
        )
        widgets.download(
            report.spec_yaml.encode("utf-8"),
            filename=f"{code}.yaml",
            key="import_yaml",
            label="下载更新后的专项行动 YAML",
            mime="application/x-yaml",
        )
    if st.button("关闭", key="import_dismiss"):
        del st.session_state["last_import"]
        st.rerun()

st.subheader("上传文件")
kind = st.radio("导入内容", list(kinds), format_func=kinds.get, horizontal=True, key="import_kind")
up = st.file_uploader(f"{kinds[kind]}文件", type=["xlsx", "csv"], key=f"import_upload_{kind}")
sheet = st.text_input("工作表名称（Excel 有多个工作表时填写，可不填）", key="import_sheet")
if up is not None and st.button("导入", key="import_go", type="primary"):
    done = widgets.run_import(
        import_file,
        key="import_errors",
        actor=actor,
        at=session.now(),
        campaign_code=code,
        kind=kind,
        data=up.getvalue(),
        filename=up.name,
        sheet=sheet.strip() or None,
    )
    if done is not None:
        st.session_state["last_import"] = (code, done)
        st.rerun()
