"""Messages are true when read (issue 12): the demo's simulation delivers its messages through the
tick, none about accepted work says it is overdue unless marked obsolete, no two unread messages
tell one person the same event, messages carry the day of their event and collapse into one
thread per assignment; and every event that concerns a department (退回, 审核通过, 线索交办,
销号审核) owes it a message."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from sqlalchemy import select

from domain.access import SYSTEM, Actor
from domain.assignment import AssignmentStatus
from domain.delivery import OutboxKind, OutboxState
from services import delivery
from services import leads as ld
from services import problems as pb
from services import submissions as sub
from services.users import actor_for, add_user
from settings import Settings
from store.models import Outbox, OutboxDelivery, User
from store.uow import UnitOfWork
from tests.conftest import DEMO_AS_OF  # the demo simulates (seed 7) to this day

# The tick's overdue notice (已逾期N个工作日) and escalation notices (…逾期N个工作日): the task is late.
# (A 督办单's own 反馈期限 passing, 督办单逾期未反馈, is about the 督办单's answer, not the task.)
SAYS_OVERDUE = re.compile(r"已逾期\d+个工作日|」逾期\d+个工作日")
UTC = dt.UTC


def test_demo_inbox_is_true_dated_and_threaded(demo_engine):
    """On a private copy of the demo database (simulated once per test session, on SQLite: the demo's
    walk re-run on PostgreSQL tested no database behaviour the tests below do not run there)."""
    engine, code = demo_engine, "yanjiang-2020"
    at = dt.datetime.combine(DEMO_AS_OF, dt.time(2), UTC)
    # A liaison whose account is made after the simulation (as the demo's are) is caught up.
    with UnitOfWork(engine) as uow:
        add_user(
            uow.session,
            actor=SYSTEM,
            at=at,
            username="late_zjj",
            display_name="住建局新联络员",
            role="department",
            department_code="zjj",
            email=None,
            password="late-pass-123456",
            campaign_code=code,
        )
        caught_up = delivery.deliver_in_app(uow.session, campaign_code=code, day=DEMO_AS_OF, at=at, catch_up=True)
        # `campaign deliver` afterwards (no e-mail configured) adds no second copy
        delivery.plan_deliveries(uow.session, code, DEMO_AS_OF, Settings(database_url="sqlite://"), at=at)
        uow.commit()
    assert caught_up.messages > 0
    with UnitOfWork(engine) as uow:
        people = list(uow.session.scalars(select(User.username).where(User.role == "department")))
        actors = {u: actor_for(uow.session, u) for u in people}
        inboxes = {u: delivery.inbox_for(uow.session, actor=a, limit=5000) for u, a in actors.items()}
        threads = {u: delivery.threads_for(uow.session, actor=a, limit=5000) for u, a in actors.items()}
        unread = {u: delivery.unread_count(uow.session, actor=a) for u, a in actors.items()}
        obsolete_rows = uow.session.scalar(select(Outbox.id).where(Outbox.state == OutboxState.obsolete.value).limit(1))
    everything = [i for items in inboxes.values() for i in items]
    assert len(everything) > 50, "the tick filled the inboxes"
    assert inboxes["late_zjj"], "the late account was caught up"
    kinds = Counter(i.kind for i in everything)
    assert kinds[OutboxKind.accepted] and kinds[OutboxKind.returned], kinds  # events reach the departments
    # Nothing about accepted work says it is overdue, unless it is shown as obsolete (not unread).
    lying = [
        i.subject
        for i in everything
        if i.assignment_status == AssignmentStatus.accepted and SAYS_OVERDUE.search(i.subject) and not i.obsolete
    ]
    assert lying == []
    assert any(i.obsolete for i in everything) or obsolete_rows is not None  # the check had work to do
    assert all(not i.unread for i in everything if i.obsolete)
    # No two unread messages tell one person the same event (assignment, kind, day).
    for user, items in inboxes.items():
        same = Counter((i.assignment_id, i.kind, i.created_on) for i in items if i.unread and i.assignment_id)
        assert max(same.values(), default=1) == 1, (user, same.most_common(3))
        assert unread[user] == sum(i.unread for i in items)
    # Dated the day of the event, not the delivery day; one thread per assignment, newest first.
    assert len({i.created_on for i in everything}) > 10
    for user_threads in threads.values():
        keys = [t.key for t in user_threads]
        assert len(keys) == len(set(keys))
        for t in user_threads:
            assert len({i.assignment_id for i in t.items}) == 1
            assert [i.created_on for i in t.items] == sorted((i.created_on for i in t.items), reverse=True)
            # 去办理 only where the work is still open
            assert t.latest.actionable == (t.latest.assignment_status in ("open", "returned"))


def _next_due(uow, actor, launched):
    """The department's open assignment due next after the fixture's tick day (handed in on time)."""
    rows = sub.list_assignments(uow.session, actor=actor, campaign_code=launched.code, department_code="zjj")
    return min((r for r in rows if r.status == "open" and r.due_on > launched.as_of), key=lambda r: r.due_on)


def _inbox(uow_factory, actor: Actor) -> list[delivery.InboxItem]:
    with uow_factory() as uow:
        return delivery.inbox_for(uow.session, actor=actor, limit=1000)


def test_returned_and_accepted_are_told_and_stale_reminders_retire(uow_factory, launched_campaign, actors, tick):
    code = launched_campaign.code
    dept, office = actors["dept_zjj"], actors["office"]
    with uow_factory() as uow:
        a = _next_due(uow, dept, launched_campaign)
    day = launched_campaign.as_of + dt.timedelta(days=1)
    at = dt.datetime.combine(day, dt.time(1), UTC)
    with uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at, assignment_id=a.id, text="第一稿")
        uow.commit()
    with uow_factory() as uow:
        v = sub.get_assignment(uow.session, actor=office, assignment_id=a.id)[0].version
        sub.return_submission(
            uow.session, actor=office, at=at, assignment_id=a.id, expected_version=v, reason="责任人未明确"
        )
        uow.commit()
    # Returned: reminders resume; tick day by day until one reaches the inbox (before the deadline).
    reminders: list[delivery.InboxItem] = []
    while not reminders:
        assert day <= a.due_on
        tick(day)
        items = [i for i in _inbox(uow_factory, dept) if i.assignment_id == a.id]
        reminders = [i for i in items if i.kind in (OutboxKind.before, OutboxKind.due) and i.unread]
        day += dt.timedelta(days=1)
    day -= dt.timedelta(days=1)
    returned = [i for i in items if i.kind == OutboxKind.returned]
    assert len(returned) == 1 and "责任人未明确" in returned[0].body
    assert returned[0].created_on == launched_campaign.as_of + dt.timedelta(days=1)  # the day it was returned
    assert "已退回" in returned[0].subject and code not in returned[0].subject
    assert reminders[0].created_on == day and reminders[0].actionable
    at = dt.datetime.combine(day, dt.time(3), UTC)
    with uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at, assignment_id=a.id, text="第二稿")
        uow.commit()
    # Shown now: the reminder is obsolete at once (checked when shown), before any tick.
    items = [i for i in _inbox(uow_factory, dept) if i.assignment_id == a.id]
    stale = [i for i in items if i.kind in (OutboxKind.before, OutboxKind.due)]
    assert stale and all(i.obsolete and not i.unread for i in stale)
    assert "待审核" in stale[0].obsolete_note
    with uow_factory() as uow:
        v = sub.get_assignment(uow.session, actor=office, assignment_id=a.id)[0].version
        sub.accept(uow.session, actor=office, at=at + dt.timedelta(hours=1), assignment_id=a.id, expected_version=v)
        uow.commit()
    tick(day)  # the same day again: the tick marks the stale reminder, and delivers the acceptance
    with uow_factory() as uow:
        marked = uow.session.scalars(
            select(OutboxDelivery.id).where(
                OutboxDelivery.target == "dept_zjj",
                OutboxDelivery.read_at.is_(None),
                OutboxDelivery.obsolete_at.is_not(None),
            )
        ).all()
        thread = next(t for t in delivery.threads_for(uow.session, actor=dept) if t.key == f"assignment:{a.id}")
    assert marked
    assert thread.latest.kind == OutboxKind.accepted and thread.latest.created_on == day
    assert not thread.latest.actionable and thread.latest.state_text == "已通过"
    assert {i.kind for i in thread.items} >= {OutboxKind.returned, OutboxKind.accepted}
    assert thread.unread == 2  # returned and accepted; the reminders are obsolete
    with uow_factory() as uow:
        read_at = at + dt.timedelta(hours=2)
        assert delivery.mark_thread_read(uow.session, actor=dept, thread=thread.key, at=read_at) == len(thread.items)
        uow.commit()
    assert all(i.read_at for i in _inbox(uow_factory, dept) if i.assignment_id == a.id)


def test_lead_assigned_and_closure_decided_are_told(uow_factory, launched_campaign, actors, tick):
    code, office, dept = launched_campaign.code, actors["office"], actors["dept_zjj"]
    at = dt.datetime(2020, 6, 10, 2, tzinfo=UTC)
    with uow_factory() as uow:
        lead = ld.intake_lead(
            uow.session,
            actor=office,
            at=at,
            campaign_code=code,
            source="举报",
            received_on=dt.date(2020, 6, 9),
            category="围标串标",
            summary="投标文件雷同",
        )
        lead = ld.assign_lead(
            uow.session,
            actor=office,
            at=at,
            lead_id=lead.id,
            expected_version=lead.version,
            department_code="zjj",
            working_days=10,
        )
        problem = pb.record_problem(
            uow.session,
            actor=dept,
            at=at,
            campaign_code=code,
            department_code="zjj",
            phase_key="self_check",
            category="规避招标",
            description="化整为零规避招标",
            handling_class="限时整改",
            deadline_on=dt.date(2020, 6, 30),
            project_code="YJ-2020-001",
            responsible_person="张三",
            measure="重新招标",
        )
        problem = pb.request_close(
            uow.session,
            actor=dept,
            at=at,
            problem_id=problem.id,
            expected_version=problem.version,
            evidence="已重新招标",
        )
        problem = pb.reject_close(
            uow.session, actor=office, at=at, problem_id=problem.id, expected_version=problem.version, reason="佐证不足"
        )
        problem = pb.request_close(
            uow.session, actor=dept, at=at, problem_id=problem.id, expected_version=problem.version, evidence="补充合同"
        )
        pb.approve_close(uow.session, actor=office, at=at, problem_id=problem.id, expected_version=problem.version)
        uow.commit()
    tick(dt.date(2020, 6, 10))
    items = _inbox(uow_factory, dept)
    about_lead = [i for i in items if i.thread == f"lead:{lead.id}"]
    assert len(about_lead) == 1 and about_lead[0].kind == OutboxKind.lead_assigned
    assert lead.code in about_lead[0].body and about_lead[0].created_on == dt.date(2020, 6, 10)
    about_problem = [i for i in items if i.thread == f"problem:{problem.id}"]
    assert [i.kind for i in about_problem] == [OutboxKind.closure_decided] * 2
    assert any("佐证不足" in i.body for i in about_problem) and any("获批准" in i.subject for i in about_problem)
    # Another department hears nothing of it.
    assert not [i for i in _inbox(uow_factory, actors["dept_jyj"]) if i.thread.startswith(("lead:", "problem:"))]


def test_owe_event_message_is_idempotent_and_generic(uow_factory, launched_campaign, actors, tick):
    """A kind this module never heard of travels the same way; owing twice owes once."""
    dept = actors["dept_zjj"]
    at = dt.datetime(2020, 6, 2, 2, tzinfo=UTC)
    with uow_factory() as uow:
        a = _next_due(uow, dept, launched_campaign)
        kwargs = {
            "assignment_id": a.id,
            "kind": "urged_by_test",
            "tag": "催办",
            "event_on": dt.date(2020, 6, 2),
            "key_suffix": "1",
            "action": "请尽快提交。",
            "chases": True,
            "actor": SYSTEM,
            "at": at,
        }
        assert delivery.assignment_event(uow.session, **kwargs)
        assert not delivery.assignment_event(uow.session, **kwargs)
        uow.commit()
    tick(dt.date(2020, 6, 2))
    [urged] = [i for i in _inbox(uow_factory, dept) if i.kind == "urged_by_test"]
    assert urged.unread and urged.thread == f"assignment:{a.id}" and urged.created_on == dt.date(2020, 6, 2)
    with uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at + dt.timedelta(hours=1), assignment_id=a.id, text="交了")
        uow.commit()
    [urged] = [i for i in _inbox(uow_factory, dept) if i.kind == "urged_by_test"]
    assert urged.obsolete and not urged.unread  # it chased work now handed in
