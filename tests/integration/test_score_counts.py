"""The score's counts are worked out in SQL per distinct date (issue 15: no per-row loop over a
national campaign's million assignments on the tick path). Each is checked here against the rule
written row by row, over real records:

- the whole record of every department (overdue working days, escalations, returns, early work,
  unsigned, unanswered 督办单) on several days of the simulated Yanjiang demo, against the
  row-by-row computation the score used before;
- the Beijing-midnight edges of the two instant comparisons: a signature and a 督办单 answer given
  at 23:59:59 on the deadline day are in time, at 00:00 the next day late (8 hours apart in UTC).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import Engine, select, update

from domain.access import SYSTEM
from domain.assignment import AssignmentStatus, SubmissionState
from domain.duban import unanswered_by
from domain.localtime import LOCAL_TZ, local_day
from domain.rules import standing
from services import scoring
from services.campaigns import get_campaign, launch, stored_spec
from services.holidays import campaign_calendar
from services.supervision import acknowledge
from services.supervision.extensions import deadlines_as_of
from store.models import Assignment, Department, Duban, ExtensionRequest, Submission
from store.uow import UnitOfWork
from tests.conftest import run_tick


def _beijing(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def _overdue_row_by_row(session, campaign, as_of: dt.date) -> tuple[Counter[int], Counter[int], Counter[int]]:
    """Overdue working days, returns and early work per department, one assignment at a time."""
    cal = campaign_calendar(stored_spec(campaign))
    deadline = deadlines_as_of(session, campaign.id, as_of)
    overdue: Counter[int] = Counter()
    returned: Counter[int] = Counter()
    early: Counter[int] = Counter()
    subs: dict[int, list[Submission]] = {}
    for sub in session.scalars(
        select(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Assignment.campaign_id == campaign.id)
        .order_by(Submission.seq)
    ):
        subs.setdefault(sub.assignment_id, []).append(sub)
    for a in session.scalars(
        select(Assignment).where(
            Assignment.campaign_id == campaign.id,
            Assignment.status.not_in((AssignmentStatus.cancelled.value, AssignmentStatus.scheduled.value)),
            Assignment.opens_on <= as_of,
            Assignment.ongoing.is_(False),
        )
    ):
        due_on = deadline.get(a.id, a.due_on)
        mine = subs.get(a.id, [])

        def handed_in(s: Submission) -> bool:
            if local_day(s.submitted_at) > as_of:
                return False
            if s.state == SubmissionState.returned.value:
                return s.reviewed_at is not None and local_day(s.reviewed_at) > as_of
            return s.state in (SubmissionState.pending.value, SubmissionState.accepted.value)

        standing_in = [s for s in mine if handed_in(s)]
        end = local_day(standing_in[-1].submitted_at) if standing_in else as_of
        overdue[a.department_id] += standing(due_on, end, cal).overdue_working_days
        returned[a.department_id] += sum(
            1 for s in mine if s.state == "returned" and s.reviewed_at and local_day(s.reviewed_at) <= as_of
        )
        accepted = [s for s in mine if s.state == SubmissionState.accepted.value]
        if accepted and local_day(accepted[-1].reviewed_at or accepted[-1].submitted_at) <= as_of:
            early[a.department_id] += local_day(accepted[-1].submitted_at) < due_on
    return overdue, returned, early


@pytest.mark.parametrize("as_of", [dt.date(2020, 6, 10), dt.date(2020, 6, 24), dt.date(2020, 7, 15)])
def test_every_departments_record_matches_the_row_by_row_rule(demo_reader: Engine, as_of: dt.date) -> None:
    with UnitOfWork(demo_reader) as uow:
        s = uow.session
        campaign = get_campaign(s, "yanjiang-2020")
        records = scoring.records_as_of(s, campaign, as_of)
        overdue, returned, early = _overdue_row_by_row(s, campaign, as_of)
        ids = dict(
            s.execute(select(Department.code, Department.id).where(Department.campaign_id == campaign.id))
            .tuples()
            .all()
        )
        unanswered: Counter[int] = Counter()
        for dept, due, answered_at in s.execute(
            select(Duban.department_id, Duban.respond_due_on, Duban.answered_at).where(
                Duban.campaign_id == campaign.id, Duban.issued_on <= as_of
            )
        ):
            unanswered[dept] += unanswered_by(due, local_day(answered_at) if answered_at else None, as_of)
    assert sum(overdue.values()) > 0 and any(r.returned or r.early for r in records)  # the demo has such work
    for r in records:
        dept = ids[r.code]
        assert (r.overdue_days, r.returned, r.early, r.duban_unanswered) == (
            overdue[dept],
            returned[dept],
            early[dept],
            unanswered[dept],
        ), r.code


def _assignments(s, code: str, *where) -> list[Assignment]:
    """The campaign's assignments `where` selects, in id order."""
    campaign = get_campaign(s, code)
    return list(
        s.scalars(select(Assignment).where(Assignment.campaign_id == campaign.id, *where).order_by(Assignment.id))
    )


DAY = dt.date(2020, 7, 1)  # the self-check reports due 22 June are late: 督办单 issued (tests/integration/test_duban)


def test_a_duban_answered_at_beijing_midnight_edges(engine, launched_campaign) -> None:
    code = launched_campaign.code
    run_tick(engine, code, DAY)
    with UnitOfWork(engine) as uow:
        s = uow.session
        notices = list(s.scalars(select(Duban).order_by(Duban.seq)))[:3]
        assert len(notices) == 3
        due = notices[0].respond_due_on
        answers = [_beijing(due, 23, 59, 59), _beijing(due + dt.timedelta(days=1), 0, 0), None]
        for notice, answered_at in zip(notices, answers, strict=True):
            s.execute(
                update(Duban)
                .where(Duban.id == notice.id)
                .values(respond_due_on=due, answered_at=answered_at, state="answered" if answered_at else "issued")
            )
        uow.commit()
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = get_campaign(s, code)
        after = due + dt.timedelta(days=1)
        rows = s.execute(
            select(Duban.department_id, Duban.respond_due_on, Duban.answered_at).where(Duban.campaign_id == campaign.id)
        ).all()
        expected: Counter[int] = Counter()
        for dept, respond_due_on, answered_at in rows:
            expected[dept] += unanswered_by(respond_due_on, local_day(answered_at) if answered_at else None, after)
        counted = scoring._unanswered_dubans(s, campaign.id, after)
    assert +counted == +expected and sum(expected.values()) >= 2  # the late answer and the unanswered one
    assert local_day(answers[0]) == due and local_day(answers[1]) == after  # the edges are where meant


def test_a_signature_at_beijing_midnight_edges(engine, launched_campaign) -> None:
    code = launched_campaign.code
    spec = launched_campaign.spec.model_copy(update={"acknowledge_within_working_days": 2})
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=launched_campaign.at)
        uow.commit()
    deadline = dt.date(2020, 6, 3)  # opened Monday 1 June: two working days end on Wednesday 3 June
    with UnitOfWork(engine) as uow:
        s = uow.session
        opened = _assignments(s, code, Assignment.opens_on == dt.date(2020, 6, 1))[:4]
        signed = [_beijing(deadline, 23, 59, 59), _beijing(deadline + dt.timedelta(days=1), 0, 0), None]
        signed.append(_beijing(dt.date(2020, 6, 9), 9))  # after the day counted: not yet given on it
        for a, at in zip(opened, signed, strict=True):
            s.execute(update(Assignment).where(Assignment.id == a.id).values(acknowledged_at=at, acknowledged_by="x"))
        uow.commit()
    as_of = dt.date(2020, 6, 5)
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = get_campaign(s, code)
        cal = campaign_calendar(stored_spec(campaign))
        expected: Counter[int] = Counter()
        for dept, opens_on, signed_at in s.execute(
            select(Assignment.department_id, Assignment.opens_on, Assignment.acknowledged_at).where(
                Assignment.campaign_id == campaign.id,
                Assignment.status.in_(acknowledge.SIGNABLE),
                Assignment.opens_on <= as_of,
            )
        ):
            due = cal.add_workdays(opens_on, 2)
            if due >= as_of:
                continue
            signed_on = local_day(signed_at) if signed_at is not None else None
            if signed_on is None or signed_on > as_of or signed_on > due:
                expected[dept] += 1
        counted = acknowledge.unsigned_late(s, campaign.id, as_of)
    assert counted == dict(expected) and sum(counted.values()) > 0


def test_handed_in_work_at_beijing_midnight_edges_matches_the_row_by_row_rule(engine, launched_campaign) -> None:
    """Work handed in is counted in SQL on both databases (the end day of its last standing submission, its
    last acceptance, its returns): at the edges of the Beijing day, against the rule written row by row."""
    code = launched_campaign.code
    run_tick(engine, code, DAY)
    as_of = DAY + dt.timedelta(days=6)
    after = as_of + dt.timedelta(days=1)
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = get_campaign(s, code)
        late = _assignments(s, code, Assignment.status == "open", Assignment.due_on < DAY)
        assert len(late) >= 10
        friday = dt.date(2020, 6, 19)  # handed in on Saturday: no working day between, still 1 day late
        s.execute(update(Assignment).where(Assignment.id == late[9].id).values(due_on=friday))
        late[9].due_on = friday
        due = {a.id: a.due_on for a in late}
        plan: list[tuple[Assignment, list[tuple[str, dt.datetime, dt.datetime | None]]]] = [
            # (state, submitted, reviewed), in seq order
            (late[0], [("pending", _beijing(due[late[0].id], 23, 59, 59), None)]),  # on time, by a second
            (late[1], [("accepted", _beijing(due[late[1].id] + dt.timedelta(days=1), 0, 0), _beijing(as_of, 9))]),
            (
                late[2],
                [
                    ("returned", _beijing(due[late[2].id], 10), _beijing(due[late[2].id], 15)),
                    ("pending", _beijing(as_of, 23, 59, 59), None),  # the standing one: late
                ],
            ),
            (late[3], [("returned", _beijing(DAY, 10), _beijing(after, 0, 0))]),  # returned after the day: stands
            (late[4], [("accepted", _beijing(due[late[4].id] - dt.timedelta(days=2), 9), _beijing(DAY, 9))]),  # early
            (late[5], [("accepted", _beijing(due[late[5].id] - dt.timedelta(days=2), 9), _beijing(after, 0, 0))]),
            (late[6], [("pending", _beijing(after, 0, 0), None)]),  # handed in after the day: not counted
            (late[7], [("withdrawn", _beijing(DAY, 9), None)]),  # withdrawn: stands for nothing
            (late[9], [("pending", _beijing(friday + dt.timedelta(days=1), 10), None)]),
        ]
        for a, subs in plan:
            for seq, (state, submitted, reviewed) in enumerate(subs, start=1):
                s.add(
                    Submission(
                        assignment_id=a.id,
                        seq=seq,
                        submitted_by="x",
                        submitted_at=submitted,
                        state=state,
                        reviewed_by="y" if reviewed else None,
                        reviewed_at=reviewed,
                    )
                )
            s.execute(update(Assignment).where(Assignment.id == a.id).values(status="submitted"))
        # an extension approved before the day, its work handed in after the old deadline, before the new
        extended = late[8]
        s.add(
            ExtensionRequest(
                campaign_id=campaign.id,
                assignment_id=extended.id,
                seq=1,
                requested_by="x",
                requested_at=_beijing(DAY, 9),
                due_before=extended.due_on,
                asked_until=as_of,
                reason="r",
                state="approved",
                decided_by="y",
                decided_at=_beijing(DAY, 10),
                approved_until=as_of,
            )
        )
        s.add(
            Submission(
                assignment_id=extended.id,
                seq=1,
                submitted_by="x",
                submitted_at=_beijing(DAY + dt.timedelta(days=1), 9),
                state="accepted",
                reviewed_by="y",
                reviewed_at=_beijing(DAY + dt.timedelta(days=1), 10),
            )
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = get_campaign(s, code)
        records = scoring.records_as_of(s, campaign, as_of)
        overdue, returned, early = _overdue_row_by_row(s, campaign, as_of)
        ids = dict(s.execute(select(Department.code, Department.id)).tuples().all())
    assert sum(returned.values()) == 1 and sum(early.values()) == 2  # the returned one; early and extended
    for r in records:
        dept = ids[r.code]
        assert (r.overdue_days, r.returned, r.early) == (overdue[dept], returned[dept], early[dept]), r.code
