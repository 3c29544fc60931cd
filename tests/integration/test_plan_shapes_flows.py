"""Issue 16 through the real Prefect tick (flows.campaign_flows, as tests/integration/test_flows.py) over a real
database, SQLite and PostgreSQL: counted tasks, ongoing duties and quarterly reports are launched, ticked,
reminded, escalated and rolled up as the plan says.

- A counted task owes one assignment per batch: progress reads 1/2, and overdue, reminders and escalation
  chase the missing batch only.
- An ongoing duty (持续推进) is never overdue, escalated or reminded, even after its phase has ended; it reads
  as 持续推进 with the day its named recurring report was last handed in.
- A quarterly report (wucheng 2025–2027) is reminded before its day in the month after the quarter, then
  marked overdue and escalated; the rollup counts it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from domain.access import SYSTEM
from domain.assignment import HANDED_IN
from domain.delivery import OutboxKind
from domain.rules import standing
from services import submissions as sub
from services.holidays import campaign_calendar
from services.spec_files import load_spec
from services.users import actor_for, add_user
from services.views import boards
from store.models import Assignment, Campaign, Department, Escalation, Outbox, RollupSnapshot, TaskTemplate
from store.uow import UnitOfWork
from tests.conftest import LAUNCH_AT, ROOT, SPEC_PATH, planned

D = dt.date
WUCHENG = ROOT / "config" / "campaigns" / "wucheng-2025.yaml"
# What the tick owes against a deadline (not the messages other events owe, such as 签收提醒)
DEADLINE_KINDS = [k.value for k in (OutboxKind.before, OutboxKind.due, OutboxKind.overdue, OutboxKind.escalation)]


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _launch_with_accounts(engine, path, departments: tuple[str, ...]):
    from flows.entries import run_launch

    spec = load_spec(path)
    report = run_launch(spec, settings_or_db_url=_url(engine), at=LAUNCH_AT, source_path=str(path))
    assert report.assignments_added == len(planned(spec).assignments)
    with UnitOfWork(engine) as uow:
        for code in ("office", *departments):
            dept = None if code == "office" else code
            add_user(
                uow.session,
                actor=SYSTEM,
                at=LAUNCH_AT,
                username=f"dept_{code}" if dept else code,
                display_name=code,
                role="department" if dept else "office",
                department_code=dept,
                email=None,
                password="Passw0rd!2020",
                campaign_code=spec.id if dept else None,
            )
        uow.commit()
    return spec


def _submit(engine, username: str, template_key: str, period: str, at: dt.datetime) -> int:
    with UnitOfWork(engine) as uow:
        actor = actor_for(uow.session, username)
        mine = sub.list_assignments(uow.session, actor=actor, campaign_code=actor.campaign_code or "", at=at)
        target = next(a for a in mine if a.template_key == template_key and a.period == period)
        sub.submit(uow.session, actor=actor, at=at, assignment_id=target.id, text="已报送")
        uow.commit()
    return target.id


def _rows(engine, code: str, template_key: str, department: str) -> dict:
    """period -> (id, status, overdue_days, escalation_level) of a department's assignments of a template."""
    with UnitOfWork(engine) as uow:
        rows = uow.session.execute(
            select(
                Assignment.period,
                Assignment.id,
                Assignment.status,
                Assignment.overdue_days,
                Assignment.escalation_level,
            )
            .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
            .join(Department, Department.id == Assignment.department_id)
            .join(Campaign, Campaign.id == Assignment.campaign_id)
            .where(TaskTemplate.key == template_key, Department.code == department, Campaign.code == code)
        ).all()
    return {r.period: r for r in rows}


def _chased(engine, assignment_ids) -> int:
    """Outbox rows (reminders and escalation notices) the tick owed for these assignments."""
    with UnitOfWork(engine) as uow:
        return uow.session.scalar(
            select(func.count(Outbox.id)).where(
                Outbox.assignment_id.in_(list(assignment_ids)), Outbox.kind.in_(DEADLINE_KINDS)
            )
        )


def _progress(engine, code: str, department: str) -> dict[tuple[str, str], str]:
    with UnitOfWork(engine) as uow:
        office = actor_for(uow.session, "office")
        df = boards.department_assignments(uow.session, actor=office, campaign_code=code, department_code=department)
    return {
        (task, period): progress
        for task, period, progress in zip(df["task"], df["period"], df["progress"], strict=True)
    }


def _rollup_matches_the_store(engine, spec, as_of: dt.date) -> None:
    """Each department's rolled-up overdue count is its planned work past due, not handed in, never an ongoing
    duty; assigned counts every opened assignment, ongoing duties included."""
    cal = campaign_calendar(spec)
    with UnitOfWork(engine) as uow:
        s = uow.session
        handed_in = set(s.scalars(select(Assignment.id).where(Assignment.status.in_(HANDED_IN))))
        rows = s.execute(
            select(Department.code, Assignment.id, Assignment.due_on, Assignment.opens_on, Assignment.ongoing).join(
                Department, Department.id == Assignment.department_id
            )
        ).all()
        rolled = dict(
            s.execute(
                select(Department.code, RollupSnapshot.overdue)
                .join(Department, Department.id == RollupSnapshot.department_id)
                .where(RollupSnapshot.as_of == as_of, RollupSnapshot.phase_key == "")
            )
            .tuples()
            .all()
        )
    expected: dict[str, int] = {}
    for code, aid, due_on, opens_on, ongoing in rows:
        late = opens_on <= as_of and not ongoing and aid not in handed_in
        expected[code] = expected.get(code, 0) + (late and standing(due_on, as_of, cal).overdue_working_days > 0)
    assert rolled == {code: n for code, n in expected.items() if code in rolled}
    assert sum(rolled.values()) > 0


def test_counted_tasks_and_ongoing_duties_tick_remind_and_roll_up(prefect_harness, engine):
    from flows.campaign_flows import tick

    spec = _launch_with_accounts(engine, SPEC_PATH, ("zjj",))
    code, url = spec.id, _url(engine)
    tick(code, D(2020, 9, 2), url)  # 典型案例 batch 1 was due Monday 2020-08-31
    at = dt.datetime(2020, 9, 2, 3, tzinfo=dt.UTC)
    second = _submit(engine, "dept_zjj", "typical_cases", "batch-02", at)  # the second batch, early
    _submit(engine, "dept_zjj", "monthly_report", "2020-09", at)  # the report the ongoing duties go through
    progress = _progress(engine, code, "zjj")
    assert progress[("典型案例重点曝光（三(四)：对违法违规行为进行重点曝光）", "batch-01")] == "1/2"
    assert progress[("严格贯彻落实招投标监管制度（二(一)）", "")] == "持续推进（最近报送 2020-09-02）"
    assert progress[("报送自查报告", "")] == ""

    summary = tick(code, D(2020, 11, 10), url)  # every phase over, the ongoing duties' phase included
    assert summary.phases["standing"] == "closed"
    batches = _rows(engine, code, "typical_cases", "zjj")
    assert batches["batch-01"].overdue_days > 0 and batches["batch-01"].escalation_level > 0
    assert batches["batch-02"].status == "submitted" and batches["batch-02"].overdue_days == 0
    assert _chased(engine, [second]) == 0 and _chased(engine, [batches["batch-01"].id]) > 0
    other = _rows(engine, code, "typical_cases", "jyj")
    assert all(a.escalation_level > 0 for a in other.values()) and _chased(engine, [a.id for a in other.values()])

    with UnitOfWork(engine) as uow:
        s = uow.session
        ongoing = s.execute(
            select(
                Assignment.id,
                Assignment.status,
                Assignment.due_on,
                Assignment.overdue_days,
                Assignment.escalation_level,
                Assignment.last_reminder_on,
            ).where(Assignment.ongoing.is_(True))
        ).all()
        assert ongoing and all(a.status == "open" and a.due_on < D(2020, 11, 10) for a in ongoing)
        assert all((a.overdue_days, a.escalation_level, a.last_reminder_on) == (0, 0, None) for a in ongoing)
        ids = [a.id for a in ongoing]
        assert s.scalar(select(func.count(Escalation.id)).where(Escalation.assignment_id.in_(ids))) == 0
    assert _chased(engine, ids) == 0
    _rollup_matches_the_store(engine, spec, D(2020, 11, 10))


def test_quarterly_reports_and_police_raids_tick_remind_and_roll_up(prefect_harness, engine):
    from flows.campaign_flows import tick

    spec = _launch_with_accounts(engine, WUCHENG, ("zjj", "gafj"))
    code, url = spec.id, _url(engine)
    tick(code, D(2025, 10, 9), url)  # the third quarter's report is due Friday 2025-10-10
    at = dt.datetime(2025, 10, 9, 3, tzinfo=dt.UTC)
    on_time = _submit(engine, "dept_zjj", "periodic_report", "2025-Q3", at)
    with UnitOfWork(engine) as uow:
        reminded = set(
            uow.session.scalars(
                select(Department.code)
                .join(Assignment, Assignment.department_id == Department.id)
                .join(Outbox, Outbox.assignment_id == Assignment.id)
                .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
                .where(TaskTemplate.key == "periodic_report", Assignment.period == "2025-Q3", Outbox.kind == "before")
            )
        )
    quarterly = {a.department_code for a in planned(spec).assignments if a.template_key == "periodic_report"}
    assert reminded == quarterly  # the working day before 10 October
    assert _progress(engine, code, "zjj")[("加强标后履约监管，压实中标人履约责任、招标人履约管理责任", "")] == (
        "持续推进（最近报送 2025-10-09）"
    )

    raid = _submit(engine, "dept_gafj", "bid_rigging_raids", "batch-01", dt.datetime(2025, 11, 20, 3, tzinfo=dt.UTC))
    tick(code, D(2025, 12, 5), url)  # both raids were due 2025-12-01 (30 November was a Sunday)
    late = _rows(engine, code, "periodic_report", "gafj")["2025-Q3"]
    assert late.overdue_days > 5 and late.escalation_level >= 2
    assert _rows(engine, code, "periodic_report", "zjj")["2025-Q3"].overdue_days == 0
    raids = _rows(engine, code, "bid_rigging_raids", "gafj")
    assert raids["batch-02"].overdue_days == 4 and raids["batch-02"].escalation_level == 1
    assert raids["batch-01"].id == raid and raids["batch-01"].overdue_days == 0
    assert _chased(engine, [raids["batch-02"].id]) > 0
    assert _progress(engine, code, "gafj")[("串通投标犯罪集中打击行动：集中收网", "batch-02")] == "1/2"
    assert _chased(engine, [on_time]) == 1  # the one reminder before it was handed in
    _rollup_matches_the_store(engine, spec, D(2025, 12, 5))
