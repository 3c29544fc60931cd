"""Dashboard entry: login gate, then the pages of the user's role (st.navigation).

Run: `streamlit run dashboard/app.py` (or `campaign dashboard`), CAMPAIGN_DATABASE_URL selects the store.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import session  # noqa: E402
from dashboard.navigation import PAGES  # noqa: E402

st.set_page_config(page_title="招投标专项整治工作台", page_icon=":material/assignment:", layout="wide")


def login_page() -> None:
    st.title("招投标领域突出问题专项整治 · 工作台")
    message = st.session_state.pop("login_message", None)
    if message:
        st.warning(message)
    with st.form("login"):
        username = st.text_input("用户名", key="login_username")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        from services.users import AuthFailed

        if not username.strip() or not password:
            st.error("请输入用户名和密码")
            return
        try:
            session.login(username, password)
        except AuthFailed as exc:
            st.error(str(exc))
            return
        except session.user_errors() as exc:
            st.error(str(exc))
            return
        st.rerun()
    st.caption("账号由牵头办公室统一开设；忘记密码请联系牵头办公室重置。")


actor = session.revalidate()
if actor is None:
    login = st.Page(login_page, title="登录", icon=":material/login:", url_path="login")
    session.set_login_page(login)
    nav = st.navigation([login])
else:
    sections = {name: [st.Page(path, title=title, icon=icon) for path, title, icon in entries]
                for name, entries in PAGES.get(actor.role, {}).items()}
    if not any(sections.values()):
        st.error("该账号的角色没有可用页面")
        st.stop()
    nav = st.navigation(sections if len(sections) > 1 else next(iter(sections.values())))
nav.run()
