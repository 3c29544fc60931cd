"""A department's 我的任务 and the leader's boards read the same "as of" day (issue 12), through the real
dashboard (streamlit AppTest, on SQLite): whether the clock has moved past the last tick or the campaign
was ticked ahead of the clock, the department's countdowns, 逾期 count and 本周到期 are those of the tick
day the boards read, and the page says which day that is."""

from __future__ import annotations

import datetime as dt

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.integration.test_dashboard_apptest import (  # noqa: F401 - fixtures used by name
    AS_OF,
    dashboard_db,
    engine,
    login,
    open_page,
)


def _clock(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """The dashboard's today (CAMPAIGN_AS_OF), read afresh: its Settings are built once per process."""
    monkeypatch.setenv("CAMPAIGN_AS_OF", day.isoformat())
    st.cache_resource.clear()
    st.cache_data.clear()


def _my_tasks(view: str = "全部") -> AppTest:
    at = open_page(login("dept_zjj"), "pages/dept_assignments.py")
    at.segmented_control(key="task_filter").set_value(view).run()
    assert not at.exception
    return at


def test_a_department_counts_from_the_tick_day_as_the_leader_board_does(dashboard_db, monkeypatch):  # noqa: F811
    later = AS_OF + dt.timedelta(days=16)  # the clock is 2020-07-15; the last tick is still 2020-06-29
    _clock(monkeypatch, later)
    dept = _my_tasks()
    captions = [c.value for c in dept.caption]
    assert any(f"数据截至 {AS_OF}" in c for c in captions), captions
    mine = dept.dataframe(key="my_tasks").value.set_index("任务编号")

    leader = open_page(login("leader"), "pages/leader_departments.py")
    assert any(f"数据截至 {AS_OF}" in c.value for c in leader.caption)
    board = leader.dataframe(key="board_table").value.set_index("部门代码")
    leader.selectbox(key="drill_department").select("zjj").run()
    assert not leader.exception
    drill = leader.dataframe[-1].value.set_index("任务编号")  # the drill-down table comes last

    # The same task reads the same in both places: the countdown of the tick day, with the tick's
    # stored overdue days (the clock's day would have added the two weeks since).
    late = drill[drill["逾期工作日"] > 0]
    assert not late.empty
    for task_id, row in late.iterrows():
        assert mine.loc[task_id, "提醒"] == row["进度"] == f"逾期 {row['逾期工作日']} 个工作日", task_id
        assert mine.loc[task_id, "灯"] == "红"
    # (the drill-down shows a counted task's 1/2 or an ongoing duty's 持续推进 in place of the countdown)
    counted = [i for i in drill.index if mine.loc[i, "进度"] == "—"]
    assert [mine.loc[i, "提醒"] for i in counted] == [drill.loc[i, "进度"] for i in counted]
    # And the department's 逾期 figure is the board's.
    metrics = {m.label: m.value for m in dept.metric}
    assert int(metrics["逾期"]) == int(board.loc["zjj", "逾期"]) == len(late)


def test_due_this_week_is_the_tick_days_week(dashboard_db, monkeypatch):  # noqa: F811
    # Ticked ahead of the clock (the demo's simulated day): the clock's week (06-22 ～ 06-28) holds the
    # 06-22 deadlines, but the boards read 06-29, whose week has none of them due.
    _clock(monkeypatch, AS_OF - dt.timedelta(days=6))
    dept = _my_tasks("本周到期")
    assert any(f"数据截至 {AS_OF}" in c.value for c in dept.caption)
    assert not [d for d in dept.dataframe if d.key == "my_tasks"]
    assert any("没有「本周到期」的任务" in i.value for i in dept.info)
    everything = _my_tasks().dataframe(key="my_tasks").value
    assert (everything["截止日期"] == dt.date(2020, 6, 22)).any()  # they are there, just not this week
