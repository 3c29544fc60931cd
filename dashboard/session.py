"""Login state, the current actor, the clock, and database access for the dashboard.

The dashboard is an edge: it may read the clock. `at` is aware UTC; 'today' is the date in
Asia/Shanghai, unless CAMPAIGN_AS_OF (YYYY-MM-DD) overrides it (the 2020 demo and the tests).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import streamlit as st

from domain.access import Actor, Forbidden, Role
from store.db import database_url
from store.uow import UnitOfWork

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
AS_OF_ENV = "CAMPAIGN_AS_OF"
ATTACHMENT_DIR_ENV = "CAMPAIGN_ATTACHMENT_DIR"
T = TypeVar("T")


# --- clock ------------------------------------------------------------------------------------


def today() -> dt.date:
    raw = os.environ.get(AS_OF_ENV, "").strip()
    if raw:
        return dt.date.fromisoformat(raw)
    return dt.datetime.now(LOCAL_TZ).date()


def now() -> dt.datetime:
    """Aware UTC. With CAMPAIGN_AS_OF, the simulated day at the current Beijing time of day."""
    real = dt.datetime.now(LOCAL_TZ)
    raw = os.environ.get(AS_OF_ENV, "").strip()
    if raw:
        day = dt.date.fromisoformat(raw)
        real = dt.datetime.combine(day, real.timetz().replace(tzinfo=None), LOCAL_TZ)
    return real.astimezone(dt.timezone.utc)


# --- database ---------------------------------------------------------------------------------


def db_url() -> str:
    return database_url()


def attachment_dir() -> Path | None:
    raw = os.environ.get(ATTACHMENT_DIR_ENV)
    return Path(raw) if raw else None


@contextlib.contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    with UnitOfWork(db_url()) as uow:
        yield uow


def user_errors() -> tuple[type[BaseException], ...]:
    from domain.calendar import CalendarUnknown
    from services.campaigns import CampaignNotFound
    from domain.errors import UserError

    return (UserError, Forbidden, CampaignNotFound, CalendarUnknown)


def run_service(fn: Callable[..., T], *args: Any, commit: bool = False, **kwargs: Any) -> T | None:
    """Call a service in a unit of work; show a service's own message with st.error, never a traceback."""
    try:
        with unit_of_work() as uow:
            result = fn(uow.session, *args, **kwargs)
            if commit:
                uow.commit()
            return result
    except user_errors() as exc:
        st.error(str(exc))
        return None


def unread_messages(actor: Actor) -> int:
    """Unread in-app inbox items of the logged-in user (the sidebar badge)."""
    from services.delivery import unread_count

    with unit_of_work() as uow:
        return unread_count(uow.session, actor.username)


def run_action(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """A committed service call whose result does not matter: True when it succeeded."""

    def call(session: Any, *a: Any, **kw: Any) -> bool:
        fn(session, *a, **kw)
        return True

    return run_service(call, *args, commit=True, **kwargs) is True


# --- login ------------------------------------------------------------------------------------


def current_actor() -> Actor | None:
    return st.session_state.get("actor")


def login(username: str, password: str) -> Actor:
    """Raises services.users.AuthFailed (wrong password, unknown or disabled user)."""
    from services.users import authenticate

    with unit_of_work() as uow:
        actor = authenticate(uow.session, username.strip(), password, at=now())
        uow.commit()  # a re-hashed password, and the audit of the login
    st.session_state["actor"] = actor
    return actor


def logout() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def revalidate() -> Actor | None:
    """A user disabled while logged in is logged out at the next interaction."""
    from services.users import AuthFailed, actor_for

    actor = current_actor()
    if actor is None:
        return None
    try:
        with unit_of_work() as uow:
            fresh = actor_for(uow.session, actor.username)
    except AuthFailed as exc:
        logout()
        st.session_state["login_message"] = str(exc)
        return None
    st.session_state["actor"] = fresh
    return fresh


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
    return actor  # type: ignore[return-value]


# --- the campaign being looked at ---------------------------------------------------------------


def pick_campaign(container: Any = None) -> str | None:
    """Campaign selector (sidebar); remembered in the session."""
    from dashboard import queries

    codes = queries.campaign_codes()
    where = container or st.sidebar
    if not codes:
        where.info("尚无专项行动")
        return None
    current = st.session_state.get("campaign_code")
    index = codes.index(current) if current in codes else 0
    code = where.selectbox("专项行动", codes, index=index, key="campaign_pick",
                           format_func=lambda c: queries.campaign_title(c))
    st.session_state["campaign_code"] = code
    return code
