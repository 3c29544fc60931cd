"""The Yanjiang demo's 自选事项 and meeting decision (issue 16), through the same services the dashboard calls.

Called once per simulated working day (services.simulation.simulate_work). The counted task (典型案例曝光,
进度 0/2 → 2/2) and the ongoing duties (持续推进) are in the YAML itself; what people add along the way is here:

- on the first working day from 3 June, 区住建局 adds a 自选事项 to its self-check (due 24 June), handed in and
  reviewed like any task by the rest of the model;
- on the first working day from 15 June, the office records the joint meeting's 会商 and turns its first
  decision into work for 区住建局 and 区交运局, due 3 July.

Each happens once: the model looks for what it did before (a re-run, or a demo resumed, adds nothing).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, Role
from domain.localtime import local_midnight
from services import meetings, optional_items
from services.campaigns import get_campaign, stored_spec
from services.holidays import campaign_calendar
from store.models import Meeting

OPTIONAL_ITEM_DAY = dt.date(2020, 6, 3)
MEETING_DAY = dt.date(2020, 6, 15)
OFFICE = Actor("sim-office", Role.office, None, "办公室（模拟）")


def _moment(day: dt.date) -> dt.datetime:
    return local_midnight(day) + dt.timedelta(hours=9)  # before the simulated people's submissions at 10:00


def _first_workday_on_or_after(session: Session, campaign_code: str, start: dt.date, day: dt.date) -> bool:
    """Whether `day` is the first working day on or after `start` (the day the model acts)."""
    cal = campaign_calendar(stored_spec(get_campaign(session, campaign_code)))
    first = start
    while not cal.is_workday(first):
        first += dt.timedelta(days=1)
    return day == first


def simulate_plan_shapes(session: Session, campaign_code: str, day: dt.date) -> int:
    """How many things the model added today (the 自选事项, the meeting with its assigned decision)."""
    spec = stored_spec(get_campaign(session, campaign_code))
    added = 0
    window = spec.phase("self_check").optional_items if "self_check" in {p.key for p in spec.phases} else None
    if window and _first_workday_on_or_after(session, campaign_code, OPTIONAL_ITEM_DAY, day):
        zjj = Actor("sim-zjj", Role.department, "zjj", "区住建局（模拟）")
        if not optional_items.list_items(session, actor=zjj, campaign_code=campaign_code, department_code="zjj"):
            optional_items.add_item(
                session,
                actor=zjj,
                at=_moment(day),
                campaign_code=campaign_code,
                department_code="zjj",
                phase_key="self_check",
                title="对2018年招标的房建项目延伸开展自查（自选事项）",
                deliverable="report",
                due_on=dt.date(2020, 6, 24),
            )
            added += 1
    campaign_id = get_campaign(session, campaign_code).id
    if _first_workday_on_or_after(session, campaign_code, MEETING_DAY, day) and (
        session.scalar(select(Meeting.id).where(Meeting.campaign_id == campaign_id).limit(1)) is None
    ):
        recorded = meetings.record_meeting(
            session,
            actor=OFFICE,
            at=_moment(day),
            campaign_code=campaign_code,
            kind="会商",
            title="联席会议第一次会商",
            held_on=day,
            attendees=["区发改局", "区住建局", "区交运局", "区水务局", "区公安分局"],
            decisions=[
                "区住建局、区交运局7月3日前报送本行业评标专家抽取和考评情况",
                "区公安分局与各行业监管部门建立案件线索双向移送台账",
            ],
        )
        meetings.assign_decision(
            session,
            actor=OFFICE,
            at=_moment(day),
            campaign_code=campaign_code,
            meeting_code=recorded.code,
            seq=1,
            department_codes=["zjj", "jyj"],
            due_on=dt.date(2020, 7, 3),
            lead="zjj",
        )
        added += 1
    return added
