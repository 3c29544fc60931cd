"""The dashboard's edge: its one Settings, the clock, the database, login state, and how an action runs.

- Settings are built once per process (`settings()`); the clock is theirs (`CAMPAIGN_AS_OF` overrides
  'today' for the demo and the tests), and so are the database URL and the attachment directory.
- A dashboard action is one unit of work, committed when it succeeds (`run_service`). Reads commit
  too: a refused read leaves its audit record either way (store.uow), and nothing else is written.
- A `domain.errors.UserError` is shown as its message; anything else is a bug: one line with an
  incident id on screen, the traceback in `<logs>/dashboard.log` under that id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine

from dashboard.routes import COOKIE, SESSION_BEGIN, SESSION_END
from domain.access import Actor, Role
from domain.errors import Forbidden, UserError
from services import web_sessions
from services.delivery import unread_count
from services.users import AuthFailed, authenticate
from settings import Settings, load_settings
from store import audit
from store.db import shared_engine
from store.migrate import require_current
from store.uow import UnitOfWork

T = TypeVar("T")
INCIDENT_LOG = "dashboard.log"


# --- settings, clock, database ------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The one Settings of this dashboard process (environment and settings file, read once); the
    audit chain's key and anchor are configured from it before any action appends."""
    loaded = load_settings()
    audit.configure(loaded)
    return loaded


def today() -> dt.date:
    return settings().today()


def now() -> dt.datetime:
    """Aware UTC."""
    return settings().now()


def db_url() -> str:
    return settings().db_url


def engine() -> Engine:
    return shared_engine(db_url())


def attachment_dir() -> Path:
    return settings().attachments_path


@st.cache_resource(show_spinner=False)
def _schema_checked(url: str) -> bool:
    require_current(shared_engine(url))  # raises (and is then not cached) until the schema is current
    return True


def require_schema() -> None:
    """Stop with the migration message when the database is not at this program's schema."""
    try:
        _schema_checked(db_url())
    except UserError as exc:
        st.error(str(exc))
        st.stop()


@contextlib.contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    with UnitOfWork(engine()) as uow:
        yield uow


# --- errors -------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _incident_logger(log_dir: str) -> logging.Logger:
    path = Path(log_dir)
    path.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("dashboard.incidents")
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    handler = logging.FileHandler(path / INCIDENT_LOG, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def report_incident(exc: BaseException) -> str:
    """Log a bug's traceback under a new incident id, show the one-line notice; returns the id."""
    incident = uuid.uuid4().hex[:8].upper()
    _incident_logger(str(settings().logs_path)).error("incident %s", incident, exc_info=exc)
    st.error(f"系统内部错误（事件编号 {incident}），已记录，请联系管理员")
    return incident


def show_error(exc: Exception) -> None:
    """A user's error as its message, anything else as an incident."""
    if isinstance(exc, UserError):
        st.error(str(exc))
    else:
        report_incident(exc)


def run_service(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """One dashboard action: `fn(session, ...)` in a unit of work committed when it succeeds.
    On failure the error is shown (see show_error) and None is returned."""
    try:
        with unit_of_work() as uow:
            result = fn(uow.session, *args, **kwargs)
            uow.commit()
            return result
    except Exception as exc:  # noqa: BLE001 - shown in words; a bug also goes to the incident log
        show_error(exc)
        return None


def run_action(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """run_service for a service whose result does not matter: True when it succeeded."""

    def call(session: Any, *a: Any, **kw: Any) -> bool:
        fn(session, *a, **kw)
        return True

    return run_service(call, *args, **kwargs) is True


def preview(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """A dry run: `fn(session, ...)` in a unit of work that is always rolled back (shows what an action
    would change). Errors as in run_service."""
    try:
        with unit_of_work() as uow:
            return fn(uow.session, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - see run_service
        show_error(exc)
        return None


def unread_messages(actor: Actor) -> int:
    """Unread in-app inbox items of the logged-in user (the sidebar badge)."""
    return run_service(unread_count, actor=actor) or 0


# --- login: a server-side web session, shared by the browser's tabs through an HttpOnly cookie ----
#
# A tab keeps only its session's id (st.session_state lives on the server); every run resolves that
# session and then the user from the record (services.web_sessions), so a logout elsewhere, an
# expired session or a disabled account ends the tab's login at its next interaction. A fresh tab or
# a refresh finds the session through the cookie (dashboard.routes sets it after login).

SESSION_ID = "web_session_id"
_HANDOFF = "_session_handoff"
_CLEAR_COOKIE = "_session_clear_cookie"
_STALE_COOKIE = "_session_stale_cookie"


def current_actor() -> Actor | None:
    return st.session_state.get("actor")


def _address() -> str | None:
    """The client's address, for throttling per machine (None in AppTest and behind some proxies)."""
    return st.context.ip_address if isinstance(st.context.ip_address, str) else None


def login(username: str, password: str) -> Actor:
    """Raises services.users.AuthFailed (wrong password, unknown or disabled user)."""
    with unit_of_work() as uow:
        actor = authenticate(uow.session, username.strip(), password, at=now(), address=_address())
        started = web_sessions.start(uow.session, username=actor.username, at=now(), address=_address())
        uow.commit()  # the attempt, a re-hashed password, the session, and their audit
    st.session_state[SESSION_ID] = started.session_id
    st.session_state[_HANDOFF] = started.handoff
    st.session_state["actor"] = actor
    return actor


def logout(message: str | None = None) -> None:
    """End this login in every tab of the browser (the session row), forget it here, and have the
    browser drop its cookie."""
    _end_session(session_id=st.session_state.get(SESSION_ID))
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[_STALE_COOKIE] = _handshake_cookie()
    st.session_state[_CLEAR_COOKIE] = True
    if message:
        st.session_state["login_message"] = message


def _end_session(*, session_id: int | None = None, token: str | None = None) -> None:
    if session_id is None and token is None:
        return
    try:
        with unit_of_work() as uow:
            web_sessions.end(uow.session, session_id=session_id, token=token, at=now())
            uow.commit()
    except Exception as exc:  # noqa: BLE001 - logging out must not fail; a bug is an incident
        report_incident(exc)


def _handshake_cookie() -> str | None:
    """The session cookie this tab's connection was opened with (None in AppTest: no real request)."""
    cookies = st.context.cookies
    value = cookies.get(COOKIE) if cookies is not None else None
    return value if isinstance(value, str) and value else None


def _cookie_token() -> str | None:
    """The token of the tab's cookie, unless this tab already found it stale (its connection keeps
    the cookie it was opened with, even after the browser dropped it)."""
    value = _handshake_cookie()
    if value is None or value == st.session_state.get(_STALE_COOKIE):
        return None
    with unit_of_work() as uow:
        return web_sessions.unseal(uow.session, value)


def revalidate() -> Actor | None:
    """The logged-in actor of this run, resolved from the session and the user record now; None (and
    logged out, with the reason) when the session ended elsewhere, expired, or the user is disabled."""
    session_id = st.session_state.get(SESSION_ID)
    token = None if session_id is not None else _cookie_token()
    if session_id is None and token is None:
        st.session_state.pop("actor", None)
        return None
    try:
        with unit_of_work() as uow:
            live = web_sessions.resolve_session(uow.session, at=now(), session_id=session_id, token=token)
            uow.commit()
    except UserError as exc:
        if session_id is None:  # a stale cookie (logged out, expired, a disabled user's): ended, dropped
            _end_session(token=token)
            st.session_state[_STALE_COOKIE] = _handshake_cookie()
            st.session_state[_CLEAR_COOKIE] = True
            return None
        logout(AuthFailed.DISABLED if isinstance(exc, Forbidden) else str(exc))
        return None
    st.session_state[SESSION_ID] = live.session_id
    st.session_state["actor"] = live.actor
    return live.actor


def _post(path: str, body: str = "") -> None:
    """A same-origin POST from the browser to one of the dashboard's routes (dashboard.routes),
    which sets or clears the HttpOnly cookie that page scripts cannot touch."""
    st.html(
        f"<script>fetch({json.dumps(path)}, {{method: 'POST', credentials: 'same-origin', "
        f"body: {json.dumps(body)}, keepalive: true}});</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


def sync_cookie() -> None:
    """Once after a login, the browser exchanges the handoff code for its session cookie; once after a
    logout, it drops the cookie."""
    handoff = st.session_state.pop(_HANDOFF, None)
    if handoff:
        _post(SESSION_BEGIN, handoff)
    if st.session_state.pop(_CLEAR_COOKIE, False):
        _post(SESSION_END)


def session_id() -> int | None:
    return st.session_state.get(SESSION_ID)


_LOGIN_PAGE: list[Any] = []


def set_login_page(page: Any) -> None:
    _LOGIN_PAGE[:] = [page]


def require_actor(*roles: Role) -> Actor:
    actor = current_actor()
    if actor is None and _LOGIN_PAGE:
        st.switch_page(_LOGIN_PAGE[0])  # a page left open after logging out
    if actor is None or (roles and actor.role not in roles):
        st.error("无权访问此页面")
        st.stop()
    return actor
