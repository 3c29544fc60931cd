"""用户管理: the office adds accounts, disables or re-enables them and resets passwords."""

import pandas as pd
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import ROLE_LABELS, Role
from services import users as user_service

actor = widgets.page(Role.office)
st.title("用户管理")

users = session.run_service(user_service.list_users, actor=actor, at=session.now())
if users is None:
    st.stop()
campaign = st.session_state.get("campaign_code")
dept_names = queries.department_names(actor, campaign) if campaign else {}
c = st.columns(4)
c[0].metric("账号总数", len(users))
c[1].metric("牵头办公室", sum(1 for u in users if u.role == Role.office))
c[2].metric("责任部门", sum(1 for u in users if u.role == Role.department))
c[3].metric("已停用", sum(1 for u in users if u.disabled))

widgets.table(
    pd.DataFrame(
        [
            {
                "用户名": u.username,
                "姓名": u.display_name,
                "角色": ROLE_LABELS.get(Role(u.role), u.role),
                "部门": dept_names.get(u.department_code, u.department_code) if u.department_code else "",
                "邮箱": u.email or "",
                "状态": "已停用" if u.disabled else "正常",
            }
            for u in users
        ]
    ),
    key="users_table",
    filename="用户列表.xlsx",
    sheet="用户",
)

tab_add, tab_state, tab_password = st.tabs(["添加用户", "停用 / 启用", "重置密码"])

with tab_add:
    code = st.session_state.get("campaign_code")
    dept_codes: list[str] = []
    names: dict[str, str] = {}
    if code:
        names = queries.department_names(actor, code)
        dept_codes = list(names)
    roles = [Role.department, Role.office, Role.leader]
    role = st.radio("角色", roles, format_func=lambda r: ROLE_LABELS[r], horizontal=True, key="new_role")
    with st.form("add_user", clear_on_submit=True):
        c1, c2 = st.columns(2)
        username = c1.text_input("用户名（登录名）", key="new_username", placeholder="字母开头，如 zjj_li")
        display = c2.text_input("姓名", key="new_display")
        dept = None
        if role == Role.department:
            dept = (
                c1.selectbox("所属部门", dept_codes, key="new_dept", format_func=lambda d: names.get(d, d))
                if dept_codes
                else c1.text_input("所属部门代码", key="new_dept_code")
            )
        email = c2.text_input("邮箱（接收提醒，可不填）", key="new_email")
        password = st.text_input("初始密码（至少 8 位）", type="password", key="new_password")
        go = st.form_submit_button("添加", type="primary")
    if go:
        done = session.run_service(
            user_service.add_user,
            actor=actor,
            at=session.now(),
            username=username,
            display_name=display,
            role=role,
            department_code=dept,
            email=email,
            password=password,
        )
        if done is not None:
            widgets.flash(f"已添加{ROLE_LABELS[Role(done.role)]}账号 {done.username}（{done.display_name}）")
            st.rerun()

by_name = {u.username: u for u in users}
with tab_state:
    pick = st.selectbox(
        "账号",
        list(by_name),
        key="state_pick",
        format_func=lambda n: f"{n}（{by_name[n].display_name}）" + (" · 已停用" if by_name[n].disabled else ""),
    )
    if pick:
        u = by_name[pick]
        if u.disabled:
            if st.button("启用账号", key="enable_user", type="primary") and session.run_action(
                user_service.enable_user, actor=actor, at=session.now(), username=pick
            ):
                widgets.flash(f"已启用账号 {pick}")
                st.rerun()
        elif st.button("停用账号", key="disable_user") and session.run_action(
            user_service.disable_user, actor=actor, at=session.now(), username=pick
        ):
            widgets.flash(f"已停用账号 {pick}，该用户将在下一次操作时退出登录", "warning")
            st.rerun()

with tab_password:
    with st.form("reset_password", clear_on_submit=True):
        who = st.selectbox("账号", list(by_name), key="reset_pick")
        new = st.text_input("新密码（至少 8 位）", type="password", key="reset_password")
        again = st.text_input("再次输入新密码", type="password", key="reset_again")
        go = st.form_submit_button("重置密码", type="primary")
    if go:
        if new != again:
            st.error("两次输入的密码不一致")
        elif session.run_action(user_service.set_password, actor=actor, at=session.now(), username=who, password=new):
            widgets.flash(f"已重置账号 {who} 的密码，请通知本人尽快登录修改")
            st.rerun()
