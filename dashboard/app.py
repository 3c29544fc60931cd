"""Dashboard entry: login gate, then the pages of the user's role (st.navigation).

Run: `campaign dashboard` (or `streamlit run dashboard/app.py`); the settings (CAMPAIGN_DATABASE_URL …) select
the store. A page that fails with a bug shows one line with an incident id (dashboard.session).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import session, style  # noqa: E402
from dashboard.navigation import PAGES  # noqa: E402
from services.users import AuthFailed  # noqa: E402

st.set_page_config(page_title="招投标专项整治工作台", page_icon=":material/assignment:", layout="wide")
style.apply()  # Chinese in place of Streamlit's English, phone layout


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
        if not username.strip() or not password:
            st.error("请输入用户名和密码")
            return
        try:
            session.login(username, password)
        except AuthFailed as exc:
            st.error(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a refusal in words, a bug as an incident
            session.show_error(exc)
            return
        st.rerun()
    st.caption("账号由牵头办公室统一开设；忘记密码请联系牵头办公室重置。")


def every_page_address() -> list[str]:
    return sorted({Path(p).stem for sections in PAGES.values() for entries in sections.values() for p, *_ in entries})


def login_gate() -> Any:
    """Logged out: the login form at every page's address, so a bookmarked page shows the login and,
    once logged in, the page itself (the same address is the same page to st.navigation)."""
    login = st.Page(login_page, title="登录", icon=":material/login:", url_path="login", default=True)
    session.set_login_page(login)
    pages = [login, *(st.Page(login_page, title="登录", url_path=stem) for stem in every_page_address())]
    return st.navigation(pages, position="hidden")


def role_navigation(sections: dict[str, list[Any]]) -> Any:
    """The role's pages; another role's page address (a bookmark, a shared link) says so in Chinese
    instead of Streamlit's English "Page not found"."""
    own = {page.url_path for pages in sections.values() for page in pages}
    first = next(iter(sections))
    home = sections[first][0]

    def not_this_roles_page() -> None:
        st.error("无权访问此页面：该页面不属于您的角色。")
        st.page_link(home, label="返回首页", icon=":material/home:")

    sections[first] = sections[first] + [
        st.Page(not_this_roles_page, title="无权访问", url_path=stem, visibility="hidden")
        for stem in every_page_address()
        if stem not in own
    ]
    # expanded: every page listed (a folded list says "View 8 more" in English)
    return st.navigation(sections if len(sections) > 1 else sections[first], expanded=True)


session.require_schema()
actor = session.revalidate()
session.sync_cookie()
if actor is None:
    nav = login_gate()
else:
    sections = {
        name: [st.Page(path, title=title, icon=icon) for path, title, icon in entries]
        for name, entries in PAGES.get(actor.role, {}).items()
    }
    if not any(sections.values()):
        st.error("该账号的角色没有可用页面")
        st.stop()
    nav = role_navigation(sections)
try:
    nav.run()
except Exception as exc:  # noqa: BLE001 - a page's bug: an incident line, not a traceback (st.stop/rerun pass)
    session.show_error(exc)
