"""Launch, apply and tick against a real SQLite file and a real PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, func, select, text

import store.sql as store_sql
from domain.access import SYSTEM
from domain.assignment import AssignmentStatus
from services import submissions, ticking
from services.campaigns import launch
from services.spec_files import SpecInvalid, parse_spec
from services.ticking import TickSummary
from store import audit
from store.models import (
    Assignment,
    AuditEntry,
    Base,
    Department,
    Escalation,
    Outbox,
    Phase,
    RollupSnapshot,
)
from store.uow import UnitOfWork, unit_per_step
from tests.conftest import LAUNCH_AT, SPEC_PATH, expected_escalations, expected_open_by, planned, run_tick

D = dt.date


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every application table (the audit chain excluded: it records who ran what, not state)."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name.startswith("audit_"):
                continue
            cols = ", ".join(f'"{c.name}"' for c in table.columns)
            out[table.name] = sorted(map(tuple, conn.execute(text(f'SELECT {cols} FROM "{table.name}"'))), key=repr)
    return out


def count(engine, model, *where) -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_launch_materialises_the_plan_once(engine, launched_campaign):
    planned_count = len(planned(launched_campaign.spec).assignments)
    assert count(engine, Assignment) == planned_count > 0
    with UnitOfWork(engine) as uow:
        report = launch(uow.session, launched_campaign.spec, actor=SYSTEM, at=LAUNCH_AT)
        uow.commit()
    assert report.unchanged
    assert count(engine, Assignment) == planned_count


def test_tick_opens_phases_and_assignments_for_the_date(engine, launched_campaign):
    with UnitOfWork(engine) as uow:
        states = dict(uow.session.execute(select(Phase.key, Phase.state)).all())
    # `standing` holds the ongoing duties (动态推进，长期坚持): open from the first day to the last
    assert states == {
        "mobilize": "closed",
        "self_check": "open",
        "verify": "pending",
        "cases": "pending",
        "standing": "open",
    }
    assert count(engine, Assignment, Assignment.status == AssignmentStatus.scheduled.value) > 0
    opened = expected_open_by(launched_campaign.spec, launched_campaign.as_of)
    assert count(engine, Assignment, Assignment.status == AssignmentStatus.open.value) == opened > 0


def test_overdue_work_escalates_up_the_ladder_once(engine, launched_campaign, tick):
    # refine_measures was due 2020-05-25; by 2020-06-23 it is far past 10 working days
    tick(D(2020, 6, 23))
    levels = count(engine, Escalation)
    assert levels == expected_escalations(launched_campaign.spec, D(2020, 6, 23)) > 0
    with UnitOfWork(engine) as uow:
        per_assignment = uow.session.execute(
            select(Escalation.assignment_id, func.count()).group_by(Escalation.assignment_id)
        ).all()
    assert per_assignment and all(n <= 3 for _, n in per_assignment)
    tick(D(2020, 6, 24))
    assert count(engine, Escalation) == levels  # nothing new for the same rungs


def submit_self_check(engine, actors, *, on: dt.date) -> int:
    """区住建局 hands in its 自查报告 on `on` (10:00 Beijing); returns the assignment id."""
    with UnitOfWork(engine) as uow:
        target = uow.session.execute(
            text(
                "SELECT a.id FROM assignment a JOIN department d ON d.id=a.department_id "
                "JOIN task_template t ON t.id=a.template_id WHERE t.key='self_check_report' AND d.code='zjj'"
            )
        ).scalar_one()
        submissions.submit(
            uow.session,
            actor=actors["dept_zjj"],
            at=dt.datetime.combine(on, dt.time(2, 0), dt.UTC),
            assignment_id=target,
            text="自查报告正文",
        )
        uow.commit()
    return target


def _record_marker(engine) -> None:
    """An audit entry that changes no state (as a refused read would be): the next tick runs every step."""
    with UnitOfWork(engine) as uow:
        audit.record(uow.session, at=LAUNCH_AT, actor=SYSTEM, action="test.marker", entity="test", entity_key="x")
        uow.commit()


def _tick_naming_steps(engine, code: str, day: dt.date) -> tuple[TickSummary, list[str]]:
    """The tick (tests.conftest.run_tick), and the names of the steps it ran, in order."""
    names: list[str] = []
    steps = unit_per_step(engine)

    def run(name, step):
        names.append(name)
        return steps(name, step)

    return run_tick(engine, code, day, run=run), names


def test_ticking_the_same_day_twice_changes_nothing(engine, launched_campaign, tick):
    """Every step run again (something was recorded in between) finds its work done."""
    tick(D(2020, 6, 17))
    before = snapshot(engine)
    _record_marker(engine)
    _summary, steps = _tick_naming_steps(engine, launched_campaign.code, D(2020, 6, 17))
    assert any(name.startswith("rollup-") for name in steps)  # the full tick ran
    assert snapshot(engine) == before


def test_a_repeat_tick_with_nothing_recorded_since_only_records_itself(engine, launched_campaign, tick):
    first = tick(D(2020, 6, 23))
    before = snapshot(engine)
    again, steps = _tick_naming_steps(engine, launched_campaign.code, D(2020, 6, 23))
    assert steps == [f"unchanged-{launched_campaign.code}-2020-06-23"]
    assert again.phases == first.phases and again.rollup_rows == first.rollup_rows > 0
    assert again.counts == ticking.StepCounts()
    assert snapshot(engine) == before
    with UnitOfWork(engine) as uow:
        newest = uow.session.execute(
            select(AuditEntry.action, AuditEntry.after_json).order_by(AuditEntry.id.desc()).limit(2)
        ).all()
    assert [action for action, _ in newest] == ["campaign.tick", "campaign.tick"]
    assert json.loads(newest[0].after_json or "")["unchanged"] is True
    assert "unchanged" not in json.loads(newest[1].after_json or "")


def test_a_change_since_the_last_tick_makes_the_repeat_a_full_tick(engine, launched_campaign, tick, actors):
    """A submission after the day's tick shows in that day's rollup when the day is ticked again; so does
    a tick of the next day after a repeat."""
    day = D(2020, 6, 17)
    tick(day)
    submit_self_check(engine, actors, on=day)

    def submitted() -> int:
        with UnitOfWork(engine) as uow:
            return uow.session.scalar(
                select(func.sum(RollupSnapshot.submitted)).where(
                    RollupSnapshot.as_of == day, RollupSnapshot.phase_key == ""
                )
            )

    before = submitted()
    _summary, steps = _tick_naming_steps(engine, launched_campaign.code, day)
    assert any(name.startswith("phases-") for name in steps)
    assert submitted() == before + 1
    _summary, steps = _tick_naming_steps(engine, launched_campaign.code, day + dt.timedelta(days=1))
    assert any(name.startswith("phases-") for name in steps)  # a new day is never a repeat


def test_reminders_are_recorded_once_per_rule_and_stamped(engine, launched_campaign, tick):
    tick(D(2020, 6, 17))  # 3 working days before the 6-22 deadline
    n = count(engine, Outbox, Outbox.kind == "before")
    assert n > 0
    tick(D(2020, 6, 17))
    assert count(engine, Outbox, Outbox.kind == "before") == n
    with UnitOfWork(engine) as uow:
        stamped = uow.session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.last_reminder_on == D(2020, 6, 17))
        )
    assert stamped == n


def test_no_reminders_on_a_holiday(engine, launched_campaign, tick):
    tick(D(2020, 6, 24))
    n = count(engine, Outbox, Outbox.kind != "escalation")
    tick(D(2020, 6, 25))  # 端午
    assert count(engine, Outbox, Outbox.kind != "escalation") == n


def test_rollup_counts_by_department_and_phase(engine, launched_campaign, tick):
    tick(D(2020, 6, 23))
    with UnitOfWork(engine) as uow:
        rows = uow.session.scalars(select(RollupSnapshot).where(RollupSnapshot.as_of == D(2020, 6, 23))).all()
        uow.session.expunge_all()
    totals = {r.department_id: r for r in rows if r.phase_key == ""}
    per_phase = [r for r in rows if r.phase_key]
    assert sum(r.assigned for r in totals.values()) == sum(r.assigned for r in per_phase)
    assert sum(r.overdue for r in totals.values()) > 0


def test_applying_a_changed_yaml_keeps_submitted_work(engine, launched_campaign, actors):
    target = submit_self_check(engine, actors, on=D(2020, 6, 10))

    text_yaml = SPEC_PATH.read_text(encoding="utf-8")
    text_yaml = text_yaml.replace("due: 2020-06-20          # 二(二)", "due: 2020-06-24          # 二(二)")
    text_yaml = text_yaml.replace(
        "  - code: jyzx\n",
        "  - code: zrzy\n    name: 区自然资源局\n    kind: industry_regulator\n"
        "    tags: [联席会议成员, 行业监管, 投诉受理]\n"
        "  - code: jyzx\n",
    )
    changed = parse_spec(text_yaml, "changed.yaml")
    with UnitOfWork(engine) as uow:
        dry = launch(uow.session, changed, actor=SYSTEM, at=LAUNCH_AT)  # not committed: a dry run
    assert dry.departments_added == ("区自然资源局",) and dry.deadlines_moved
    assert count(engine, Assignment) == len(planned(launched_campaign.spec).assignments)

    with UnitOfWork(engine) as uow:
        report = launch(uow.session, changed, actor=SYSTEM, at=LAUNCH_AT)
        uow.commit()
    assert report.assignments_added > 0
    with UnitOfWork(engine) as uow:
        a = uow.session.get(Assignment, target)
        assert (a.status, a.due_on) == ("submitted", D(2020, 6, 24))
        _, history = submissions.get_assignment(uow.session, actor=SYSTEM, assignment_id=target)
        assert [s.text for s in history] == ["自查报告正文"]


def test_removing_a_started_task_cancels_it_and_keeps_the_record(engine, launched_campaign):
    text_yaml = SPEC_PATH.read_text(encoding="utf-8")
    start = text_yaml.index("      - key: self_check_ledger")
    end = text_yaml.index("  - key: verify")
    changed = parse_spec(text_yaml[:start] + "\n" + text_yaml[end:], "changed.yaml")
    with UnitOfWork(engine) as uow:
        report = launch(uow.session, changed, actor=SYSTEM, at=LAUNCH_AT)
        uow.commit()
    # its assignments had opened by the launched campaign's tick day: cancelled, kept for the record
    started = sum(
        1
        for a in planned(launched_campaign.spec).assignments
        if a.template_key == "self_check_ledger" and a.opens_on <= launched_campaign.as_of
    )
    assert report.assignments_cancelled == started > 0
    assert count(engine, Assignment, Assignment.status == AssignmentStatus.cancelled.value) == started


def test_applying_a_changed_yaml_after_the_draw_keeps_the_sample_assignments(engine, launched_campaign, tick, actors):
    from services import projects

    register = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）\n" + "".join(
        f"ZJ-{i},住建项目{i},zjj,2020-03-0{i},100\n" for i in range(1, 6)
    )
    office = actors["office"]
    with UnitOfWork(engine) as uow:
        projects.import_projects(
            uow.session,
            actor=office,
            at=LAUNCH_AT,
            campaign_code=launched_campaign.code,
            data=register.encode(),
            filename="register.csv",
        )
        uow.commit()
    tick(D(2020, 7, 1))
    sample_rows = (
        "SELECT a.id, a.status FROM assignment a JOIN task_template t ON t.id=a.template_id "
        "WHERE t.key='verify_sample' ORDER BY a.id"
    )
    with UnitOfWork(engine) as uow:
        [(sample_id, status)] = uow.session.execute(text(sample_rows)).all()
        assert status == "open"
        submissions.submit(
            uow.session,
            actor=actors["dept_zjj"],
            at=LAUNCH_AT.replace(month=7, day=2),
            assignment_id=sample_id,
            text="核查情况",
        )
        uow.commit()

    changed = parse_spec(
        SPEC_PATH.read_text(encoding="utf-8").replace(
            "due: 2020-06-20          # 二(二)", "due: 2020-06-24          # 二(二)"
        ),
        "changed.yaml",
    )
    with UnitOfWork(engine) as uow:
        report = launch(uow.session, changed, actor=SYSTEM, at=LAUNCH_AT.replace(month=7, day=3))
        uow.commit()
    assert report.assignments_cancelled == 0 and report.assignments_removed == 0
    tick(D(2020, 7, 3))
    with UnitOfWork(engine) as uow:
        assert uow.session.execute(text(sample_rows)).all() == [(sample_id, "submitted")]


def test_no_yaml_task_may_take_the_sample_template_key():
    text_yaml = SPEC_PATH.read_text(encoding="utf-8").replace("key: self_check_report", "key: verify_sample")
    with pytest.raises(SpecInvalid, match="verify_sample"):
        parse_spec(text_yaml, "reserved.yaml")


def test_a_campaign_cannot_be_ticked_back_to_an_earlier_day(engine, launched_campaign, tick):
    from domain.errors import Invalid

    tick(D(2020, 6, 24))
    tick(D(2020, 6, 24))  # the same day again is fine
    with pytest.raises(Invalid, match="已推进到 2020-06-24"):
        tick(D(2020, 6, 1))


# --- the fast service tier: an in-memory store, no PostgreSQL needed ------------------------------


def test_the_tick_runs_named_steps_only_for_phases_with_work(memory_engine):
    from services.spec_files import load_spec

    spec = load_spec(SPEC_PATH)
    with UnitOfWork(memory_engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT)
        uow.commit()
    day = spec.start
    summary, names = _tick_naming_steps(memory_engine, spec.id, day)
    live = [p for p in spec.phases if p.start <= day <= p.end]
    assert live and len(live) < len(spec.phases)
    # is it a repeat of the last tick (no), then the phases, and 预警分办 before the phases' steps (issue 14)
    expected = [f"unchanged-{spec.id}-{day}", f"phases-{spec.id}-{day}", f"risk-{spec.id}-{day}"]
    for phase in live:
        expected += [f"{step}-{phase.key}-{day}" for step in ("open", "overdue", "escalate", "remind")]
    # then the campaign-wide steps: 签收提醒, 督办单, 考核评分 (issue 13) and the in-app inbox (issue 12)
    expected += [f"{step}-{spec.id}-{day}" for step in ("acknowledge", "duban", "score", "inbox")]
    assert names == [*expected, f"rollup-{spec.id}-{day}"]
    assert summary.counts.opened == expected_open_by(spec, day)
    with UnitOfWork(memory_engine) as uow:
        assert uow.session.scalar(select(func.count()).select_from(RollupSnapshot)) == summary.rollup_rows > 0


def test_a_tick_to_an_earlier_day_is_refused_before_any_step_changes_anything(memory_uow):
    from domain.errors import Invalid
    from services import ticking
    from services.spec_files import load_spec

    spec = load_spec(SPEC_PATH)
    with memory_uow() as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT)
        ticking.tick(ticking.in_session(uow.session), spec.id, D(2020, 6, 10), actor=SYSTEM, at=LAUNCH_AT)
        uow.commit()
    with memory_uow() as uow, pytest.raises(Invalid, match="2020-06-10"):
        ticking.check_tick_date(uow.session, spec.id, D(2020, 6, 9))


def test_dropping_a_department_deletes_its_unopened_work_and_cancels_the_rest_a_bounded_batch_at_a_time(
    engine, launched_campaign, monkeypatch
):
    """A national spec change drops thousands of departments: their work is deleted (not yet opened) or
    cancelled (opened) by id, a bounded list of ids per statement (PostgreSQL refused one statement of 66,000
    ids). With two ids a statement here, the counts and the rows come out as from one."""
    text_yaml = SPEC_PATH.read_text(encoding="utf-8")
    entry = text_yaml.index("  - code: swj\n")
    text_yaml = text_yaml[:entry] + text_yaml[text_yaml.index("  - code: gtfj\n") :]
    changed = parse_spec(text_yaml.replace("jyj, swj, gtfj", "jyj, gtfj"), "changed.yaml")
    theirs = [a for a in planned(launched_campaign.spec).assignments if a.department_code == "swj"]
    opened = sum(1 for a in theirs if a.opens_on <= launched_campaign.as_of)
    monkeypatch.setattr(store_sql, "ROWS_PER_STATEMENT", 2)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith(("DELETE FROM ASSIGNMENT", "UPDATE ASSIGNMENT SET STATUS")):
            statements.append(statement)

    event.listen(engine, "after_cursor_execute", seen)
    try:
        with UnitOfWork(engine) as uow:
            report = launch(uow.session, changed, actor=SYSTEM, at=LAUNCH_AT)
            uow.commit()
    finally:
        event.remove(engine, "after_cursor_execute", seen)
    assert report.departments_retired == ("区水务局",)
    assert (report.assignments_removed, report.assignments_cancelled) == (len(theirs) - opened, opened)
    assert opened > 0 and len(theirs) - opened > 2 and len(statements) > 2
    with UnitOfWork(engine) as uow:
        left = uow.session.execute(
            select(Assignment.status, func.count())
            .join(Department, Department.id == Assignment.department_id)
            .where(Department.code == "swj")
            .group_by(Assignment.status)
        ).all()
    assert dict(left) == {AssignmentStatus.cancelled.value: opened}
