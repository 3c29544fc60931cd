"""Cached reads for the pages: bounded `st.cache_data` wrappers around services.views, nothing else.

Every wrapper takes the actor first and keys its cache on the actor's identity (username, role,
department, name), the database URL and the data stamp (latest audit entry and last tick), so a
write anywhere shows on the next rerun and one user's rows are never served to another. The read
itself runs in a unit of work with that actor (services.views scope it); a refused read is shown as
its message and stops the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from dashboard import session
from domain.access import Actor, Role
from domain.spec import CampaignSpec
from services.views import boards, campaigns, ledger
from services.views.campaigns import data_stamp

TTL = 300
ENTRIES = 64
T = TypeVar("T")
Identity = tuple[str, str, str | None, str]


def _identity(actor: Actor) -> Identity:
    return (actor.username, actor.role.value, actor.department_code, actor.display_name)


def stamp() -> tuple[object, ...]:
    with session.unit_of_work() as uow:
        return data_stamp(uow.session)


def _cached(view: Callable[..., T]) -> Callable[..., T]:
    """`view(session, *, actor, **kwargs)` as `call(actor, **kwargs)`, cached per actor and data stamp."""

    def read(
        url: str, identity: Identity, stamp_: tuple[object, ...], kwargs: tuple[tuple[str, Any], ...], _at: dt.datetime
    ) -> T:
        username, role, department, name = identity
        actor = Actor(username, Role(role), department, name)
        with session.unit_of_work() as uow:
            result = view(uow.session, actor=actor, at=_at, **dict(kwargs))
            uow.commit()
            return result

    # st.cache_data keys on the function's qualified name and source: give each wrapper its own name.
    read.__name__ = read.__qualname__ = f"cached_{view.__module__.rsplit('.', 1)[-1]}_{view.__name__}"
    read.__module__ = __name__
    cached = st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)(read)

    def call(actor: Actor, **kwargs: Any) -> T:
        try:
            return cached(session.db_url(), _identity(actor), stamp(), tuple(sorted(kwargs.items())), session.now())
        except Exception as exc:  # a refusal in words, a bug as an incident; the page stops either way
            session.show_error(exc)
            st.stop()
            raise  # st.stop() raises; this line is for type checkers

    call.__name__ = view.__name__
    call.__doc__ = view.__doc__
    return call


campaign_list = _cached(campaigns.campaigns)
spec_of = _cached(campaigns.campaign_spec)
escalation_names = _cached(campaigns.escalation_names)
phases = _cached(campaigns.phases)
departments = _cached(campaigns.departments)
rollup_day = _cached(boards.rollup_day)
department_board = _cached(boards.department_board)
heatmap = _cached(boards.heatmap)
trend = _cached(boards.trend)
overdue = _cached(boards.overdue)
department_assignments = _cached(boards.department_assignments)
bulletin_lists = _cached(boards.bulletin_lists)
board_day = _cached(boards.board_day)  # issue 12: the one "as of" of every board
department_why = _cached(boards.department_why)
simulated = _cached(boards.simulated)
problems_by_department = _cached(ledger.problems_by_department)
lead_funnel = _cached(ledger.lead_funnel)


def campaign_codes(actor: Actor) -> list[str]:
    return list(campaign_list(actor)["code"])


def campaign_row(actor: Actor, code: str) -> dict[str, Any]:
    df = campaign_list(actor)
    rows = df[df["code"] == code].to_dict("records")
    return rows[0] if rows else {}


def campaign_title(actor: Actor, code: str) -> str:
    """What people call the campaign: its title (the code is for the YAML and the CLI)."""
    return str(campaign_row(actor, code).get("title", code))


def spec(actor: Actor, code: str) -> CampaignSpec | None:
    return spec_of(actor, campaign_code=code)


def department_names(actor: Actor, code: str) -> dict[str, str]:
    depts = departments(actor, campaign_code=code)
    return dict(zip(depts["code"], depts["name"], strict=False))


def clear() -> None:
    st.cache_data.clear()
