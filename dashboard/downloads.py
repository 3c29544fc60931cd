"""Every download of the dashboard: a button that, when clicked, issues a single-use ticket for the
logged-in user's session and lets the browser fetch `/files/<ticket>` (dashboard.routes), which
serves it once, within minutes, to that browser's session only, after resolving the user again.

Streamlit's own download button is not used: its `/media/…` URL serves the file to anyone holding it.
Each button is a fragment, so a click reruns only the button, not the page around it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

from dashboard import session
from dashboard.routes import FILES, hold
from domain.errors import Forbidden
from services import web_sessions
from services.users import AuthFailed

OCTET_STREAM = "application/octet-stream"


def offer(
    data: bytes | Callable[[], bytes] | None,
    *,
    filename: str,
    key: str,
    label: str,
    mime: str = OCTET_STREAM,
    attachment_id: int | None = None,
) -> None:
    """A download button. `data` (bytes, or built when clicked) is a file the page made for this user;
    with `attachment_id` instead, the server reads the stored attachment through the service when the
    browser asks for it (permission-checked again then)."""
    _button(data, filename=filename, key=key, label=label, mime=mime, attachment_id=attachment_id)


@st.fragment
def _button(
    data: bytes | Callable[[], bytes] | None,
    *,
    filename: str,
    key: str,
    label: str,
    mime: str,
    attachment_id: int | None,
) -> None:
    if st.button(label, key=key, icon=":material/download:"):
        _start(data, filename=filename, mime=mime, attachment_id=attachment_id)


def _start(data: bytes | Callable[[], bytes] | None, *, filename: str, mime: str, attachment_id: int | None) -> None:
    session_id = session.session_id()
    if session_id is None:
        session.logout("登录已失效，请重新登录")
        st.rerun(scope="app")
    try:
        content = None if attachment_id is not None else (data() if callable(data) else data or b"")
        with session.unit_of_work() as uow:
            ticket = web_sessions.issue_ticket(
                uow.session,
                session_id=session_id,
                at=session.now(),
                filename=filename,
                content_type=mime,
                attachment_id=attachment_id,
            )
            uow.commit()
    except AuthFailed as exc:  # the login is over (logged out elsewhere, expired)
        session.logout(str(exc))
        st.rerun(scope="app")
    except Forbidden as exc:
        if session.revalidate() is None:  # the account was disabled: logged out with the reason
            st.rerun(scope="app")
        session.show_error(exc)
        return
    except Exception as exc:  # noqa: BLE001 - a refusal in words, a bug as an incident
        session.show_error(exc)
        return
    if content is not None:
        hold(ticket.id, content)
    url = FILES + ticket.token
    # A same-origin link with `download`: the browser saves the file and the page stays.
    st.html(
        "<script>(() => { const a = document.createElement('a');"
        f" a.href = {json.dumps(url)}; a.download = ''; document.body.appendChild(a); a.click(); a.remove();"
        " })();</script>",
        unsafe_allow_javascript=True,
        width="content",
    )
    st.caption(
        f"已开始下载「{filename}」（下载链接仅本次登录可用，{web_sessions.TICKET_MINUTES} 分钟内有效，只能使用一次）"
    )
