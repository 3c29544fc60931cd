"""The demo (`campaign demo`: the Yanjiang example simulated to 15 July 2020) shows what issue 16 added: a
counted task (典型案例曝光, 0/2), ongoing duties (持续推进 with the last monthly report's day), a department's
自选事项 and a meeting decision turned into work.

Read from the demo database tests/conftest.py simulates once per test session, on SQLite: re-running the
demo's walk on PostgreSQL here tested no database behaviour (test_simulation runs the model there)."""

from __future__ import annotations

from services import meetings, optional_items
from services.users import actor_for
from services.views import boards
from store.uow import UnitOfWork


def test_the_demo_shows_counts_ongoing_duties_optional_items_and_a_meeting_decision(demo_reader):
    with UnitOfWork(demo_reader) as uow:
        s = uow.session
        office = actor_for(s, "sim-office")
        board = boards.department_assignments(s, actor=office, campaign_code="yanjiang-2020", department_code="zjj")
        progress = dict(zip(board["task"] + "/" + board["period"], board["progress"], strict=True))
        items = optional_items.list_items(s, actor=office, campaign_code="yanjiang-2020")
        [meeting] = meetings.list_meetings(s, actor=office, campaign_code="yanjiang-2020")
    assert progress["典型案例重点曝光（三(四)：对违法违规行为进行重点曝光）/batch-01"] == "0/2"
    assert progress["严格贯彻落实招投标监管制度（二(一)）/"].startswith("持续推进（")
    assert [(i.department_code, i.phase_key) for i in items] == [("zjj", "self_check")]
    assert items[0].status in ("submitted", "accepted", "returned")  # handed in like any task
    decision = meeting.decisions[0]
    assert (meeting.code, decision.template_key, decision.department_codes) == (
        "HY-0001",
        "meeting-1-1",
        ("jyj", "zjj"),
    )
    assert "会商决定" not in progress and any(t.startswith("联席会议第一次会商决定") for t in board["task"])
