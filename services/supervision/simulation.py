"""The supervision loop in the seeded demo (services.simulation.simulate_work calls this once per
simulated working day, before the day's tick), through the same services the dashboard calls:

- 签收: each department signs its opened tasks after 0–3 working days (a silent one often later);
- 延期申请: now and then a department asks, two working days before a deadline, for five more
  working days; the office decides the next working day — approving (now and then a shorter date),
  every third request rejecting;
- 催办: every Monday the office urges each department that has overdue work.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, Role
from domain.assignment import UNFINISHED, AssignmentStatus
from domain.extension import ExtensionState
from domain.localtime import local_day
from services.campaigns import get_campaign, stored_spec
from services.holidays import campaign_calendar
from services.supervision import acknowledge, extensions, urging
from store.models import Assignment, Department, ExtensionRequest

OFFICE = "sim-office"  # services.simulation's accounts: sim-office and sim-<department code>


def _unit(seed: int, *parts: object) -> float:
    digest = hashlib.sha256("|".join([str(seed), "loop", *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _department(code: str) -> Actor:
    return Actor(f"sim-{code}", Role.department, code)


def simulate_loop(session: Session, campaign_code: str, day: dt.date, seed: int, at: dt.datetime) -> dict[str, int]:
    """One simulated working day of 签收, 延期申请 and 催办; returns what was done (counts)."""
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    cal = campaign_calendar(spec)
    out = {"signed": 0, "extensions_requested": 0, "extensions_decided": 0, "urged": 0}
    if not cal.is_workday(day):
        return out
    office = Actor(OFFICE, Role.office)
    rows = session.execute(
        select(Assignment.id, Assignment.opens_on, Assignment.due_on, Assignment.status, Department.code)
        .join(Department, Department.id == Assignment.department_id)
        .where(
            Assignment.campaign_id == campaign.id,
            Assignment.status.in_(UNFINISHED),
            Assignment.opens_on <= day,
            Assignment.ongoing.is_(False),
        )
        .order_by(Assignment.id)
    ).all()
    # 签收
    to_sign: dict[str, list[int]] = {}
    unsigned = set(
        session.scalars(
            select(Assignment.id).where(Assignment.campaign_id == campaign.id, Assignment.acknowledged_at.is_(None))
        )
    )
    for r in rows:
        if r.id in unsigned:
            lag = int(_unit(seed, "sign", r.code, r.id) * 4) + (3 if _unit(seed, "silent", r.code) < 0.2 else 0)
            if cal.add_workdays(r.opens_on, lag) <= day:
                to_sign.setdefault(r.code, []).append(r.id)
    for code, ids in to_sign.items():
        out["signed"] += len(acknowledge.sign(session, actor=_department(code), at=at, assignment_ids=ids))
    # the office decides yesterday's requests
    for req in session.scalars(
        select(ExtensionRequest).where(
            ExtensionRequest.campaign_id == campaign.id, ExtensionRequest.state == ExtensionState.pending.value
        )
    ).all():
        if local_day(req.requested_at) >= day:
            continue
        u = _unit(seed, "decide", req.id)
        status = session.scalar(select(Assignment.status).where(Assignment.id == req.assignment_id))
        # every third request is rejected, so the demo always shows both outcomes; done work needs none
        approve = req.id % 3 != 0 and status in (*UNFINISHED, AssignmentStatus.submitted.value)
        shorter = approve and u < 0.25 and cal.add_workdays(req.due_before, 3) < req.asked_until
        extensions.decide_extension(
            session,
            actor=office,
            at=at,
            request_id=req.id,
            approve=approve,
            until=cal.add_workdays(req.due_before, 3) if shorter else None,
            reason=("同意延期" + ("，但须于三个工作日内完成" if shorter else ""))
            if approve
            else "理由不充分，请按期完成",
        )
        out["extensions_decided"] += 1
    # 延期申请: two working days before the deadline, now and then
    asked = set(
        session.scalars(select(ExtensionRequest.assignment_id).where(ExtensionRequest.campaign_id == campaign.id))
    )
    for r in rows:
        if r.id in asked or r.due_on < day or cal.workdays_between(day, r.due_on) != 2:
            continue
        if _unit(seed, "extend", r.code, r.id) < 0.15:
            extensions.request_extension(
                session,
                actor=_department(r.code),
                at=at,
                assignment_id=r.id,
                until=cal.add_workdays(r.due_on, 5),
                reason="涉及项目较多、核查工作量大，申请延期五个工作日（模拟数据）",
            )
            out["extensions_requested"] += 1
    # 催办: Mondays, each department with overdue work
    if day.weekday() == 0:
        late = sorted({r.code for r in rows if r.due_on < day})
        overdue_codes = set(
            session.scalars(
                select(Department.code)
                .join(Assignment, Assignment.department_id == Department.id)
                .where(
                    Assignment.campaign_id == campaign.id,
                    Assignment.status.in_(UNFINISHED),
                    Assignment.overdue_days > 0,
                )
            )
        )
        for code in late:
            if code in overdue_codes:
                result = urging.urge(
                    session,
                    actor=office,
                    at=at,
                    campaign_code=campaign_code,
                    department_code=code,
                    message="请于本周内完成逾期任务并报送（模拟数据）",
                    request_key=f"sim-{day.isoformat()}",
                )
                out["urged"] += len(result.urged)
    return out
