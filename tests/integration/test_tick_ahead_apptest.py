"""Ticking ahead is explicit (issue 12), through the real dashboard (streamlit AppTest, on SQLite): the
office's 立即巡检 refuses a day after today for an ordinary campaign, and for a simulated one (the
demo's clock) asks for a confirmation first; afterwards every board says the one day it is as of."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from sqlalchemy import select

from store.models import Campaign
from store.uow import UnitOfWork
from tests.integration.test_dashboard_apptest import (  # noqa: F401 - fixtures used by name
    AS_OF,
    dashboard_db,
    engine,
    login,
    open_page,
)


def _last_tick(url: str) -> dt.date | None:
    with UnitOfWork(url) as uow:
        return uow.session.scalar(select(Campaign.last_tick_on))


def test_a_day_after_today_is_refused_for_an_ordinary_campaign(dashboard_db, monkeypatch):  # noqa: F811
    monkeypatch.delenv("CAMPAIGN_AS_OF")  # the real clock: not the demo's simulated day
    st.cache_resource.clear()
    at = open_page(login("office"), "pages/office_operations.py")
    today = dt.datetime.now(dt.UTC).date()
    at.date_input(key="tick_day").set_value(today + dt.timedelta(days=3)).run()
    assert any("不能巡检到今天" in e.value for e in at.error)
    assert at.button(key="tick_now").disabled
    assert not [c for c in at.checkbox if c.key == "tick_confirm"]
    assert _last_tick(dashboard_db) == AS_OF


def test_a_simulated_campaign_ticks_ahead_only_once_confirmed(dashboard_db):  # noqa: F811
    at = open_page(login("office"), "pages/office_operations.py")  # CAMPAIGN_AS_OF: the demo's clock
    assert any(f"数据截至 {AS_OF}" in c.value for c in at.caption)
    ahead = AS_OF + dt.timedelta(days=2)
    at.date_input(key="tick_day").set_value(ahead).run()
    assert any("模拟推进" in w.value for w in at.warning)
    assert at.button(key="tick_now").disabled  # not before the confirmation
    at.checkbox(key="tick_confirm").check().run()
    assert not at.button(key="tick_now").disabled
    at.button(key="tick_now").click().run()
    assert not at.exception
    assert _last_tick(dashboard_db) == ahead
    # Every board reads that day, and says so; no stale 上次巡检.
    for page in ("pages/office_operations.py", "pages/leader_overview.py", "pages/leader_departments.py"):
        at = open_page(at, page)
        captions = [c.value for c in at.caption]
        assert any(f"数据截至 {ahead}" in c for c in captions), (page, captions)
        assert not any("上次巡检" in c for c in captions)
