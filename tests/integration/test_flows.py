"""The real Prefect engine (prefect_test_harness) running launch and tick over a real database.

Includes the crash test: a process killed half-way through a tick, then the tick re-run, ends in
exactly the state of an uninterrupted tick.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from domain.access import SYSTEM
from services.spec_files import load_spec
from store.db import make_engine
from store.migrate import upgrade
from tests.cli_support import PREFECT_HOME
from tests.conftest import (
    LAUNCH_AT,
    ROOT,
    SPEC_PATH,
    copy_database,
    expected_escalations,
    expected_open_by,
    planned,
)
from tests.integration.test_engine import snapshot

D = dt.date


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _enlist(engine, code: str) -> None:
    """The accounts the tests act as (services.guard.resolve acts only as recorded users)."""
    from services.users import add_user
    from store.uow import UnitOfWork

    with UnitOfWork(engine) as uow:
        for username, role, dept in (("office", "office", None), ("dept_zjj", "department", "zjj")):
            add_user(
                uow.session,
                actor=SYSTEM,
                at=LAUNCH_AT,
                username=username,
                display_name=username,
                role=role,
                department_code=dept,
                email=None,
                password="Passw0rd!2020",
                campaign_code=code if dept else None,
            )
        uow.commit()


def _phase_states(spec, as_of: dt.date) -> dict[str, str]:
    return {p.key: "pending" if as_of < p.start else ("open" if as_of <= p.end else "closed") for p in spec.phases}


def test_launch_and_tick_flows_reconcile_the_campaign(prefect_harness, engine):
    from flows.campaign_flows import tick
    from flows.entries import run_launch

    spec = load_spec(SPEC_PATH)
    as_of = D(2020, 6, 23)
    report = run_launch(spec, settings_or_db_url=_url(engine), at=LAUNCH_AT, source_path=str(SPEC_PATH), dry_run=False)
    assert report.created and report.assignments_added == len(planned(spec).assignments)
    summary = tick(spec.id, as_of, _url(engine))
    assert summary.phases == _phase_states(spec, as_of)
    assert summary.counts.opened == expected_open_by(spec, as_of) > 0
    assert summary.counts.escalations == expected_escalations(spec, as_of) > 0
    first = snapshot(engine)
    again = tick(spec.id, as_of, _url(engine))
    assert again.counts.opened == again.counts.escalations == again.counts.reminders == 0
    assert snapshot(engine) == first


def test_each_tick_step_that_changed_something_is_audited_with_counts(prefect_harness, engine):
    from sqlalchemy import func, select

    from domain.access import Actor, Role
    from flows.entries import run_launch, run_tick
    from store.audit import ids_digest
    from store.models import Assignment, AuditEntry, Escalation, Outbox, Phase
    from store.uow import UnitOfWork

    spec = load_spec(SPEC_PATH)
    run_launch(spec, settings_or_db_url=_url(engine), at=LAUNCH_AT, source_path=None, dry_run=False)
    _enlist(engine, spec.id)
    office = Actor("office", Role.office, None)
    as_of = D(2020, 6, 23)
    run_tick(spec.id, as_of, settings_or_db_url=_url(engine), actor=office, at=LAUNCH_AT)

    def entries(action: str) -> list[dict]:
        with UnitOfWork(engine) as uow:
            rows = uow.session.execute(
                select(AuditEntry.actor, AuditEntry.after_json)
                .where(AuditEntry.action == action)
                .order_by(AuditEntry.id)
            ).all()
        assert all(actor == "office" for actor, _ in rows)
        return [json.loads(after) for _, after in rows]

    with UnitOfWork(engine) as uow:
        s = uow.session
        opened_ids = s.scalars(select(Assignment.id).where(Assignment.status != "scheduled")).all()
        by_phase: dict[str, list[int]] = {}
        for key, assignment_id in s.execute(
            select(Phase.key, Assignment.id)
            .join(Phase, Phase.id == Assignment.phase_id)
            .where(Assignment.status != "scheduled")
        ):
            by_phase.setdefault(key, []).append(assignment_id)
        escalations = s.scalar(select(func.count()).select_from(Escalation))
        reminders = s.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.kind.in_(("before", "due", "overdue")))
        )
        # each 督办单 issued (one per item and rung) owes its department one message
        duban_messages = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "duban"))
    opened = entries("tick.open")
    assert sum(e["count"] for e in opened) == len(opened_ids) == expected_open_by(spec, as_of)
    assert {e["phase"]: e["ids_sha256"] for e in opened} == {k: ids_digest(v) for k, v in by_phase.items()}
    assert sum(e["escalations"] for e in entries("tick.escalate")) == escalations > 0
    assert sum(e.get("reminders", 0) for e in entries("tick.remind")) == reminders
    assert sum(e["count"] for e in entries("duban.issue")) == duban_messages > 0
    [done] = entries("campaign.tick")
    assert (done["as_of"], done["escalations"], done["opened"]) == (as_of.isoformat(), escalations, len(opened_ids))

    # Re-ticking the day changes nothing: only the tick itself is recorded again, as unchanged, and that is
    # settled before the engine is involved (no flow run).
    before = {a: len(entries(a)) for a in ("tick.open", "tick.overdue", "tick.escalate", "tick.remind")}
    runs_before = _flow_runs_named(f"tick-{spec.id}-{as_of}")
    assert runs_before >= 1
    again = run_tick(spec.id, as_of, settings_or_db_url=_url(engine), actor=office, at=LAUNCH_AT)
    assert {a: len(entries(a)) for a in before} == before
    first, repeat = entries("campaign.tick")
    assert repeat == {
        **first,
        "unchanged": True,
        "opened": 0,
        "overdue_updated": 0,
        "escalations": 0,
        "reminders": 0,
        "samples_drawn": 0,
    }
    assert (again.phases, again.rollup_rows, again.unchanged) == (first["phases"], first["rollup_rows"], True)
    assert _flow_runs_named(f"tick-{spec.id}-{as_of}") == runs_before


def _flow_runs_named(name: str) -> int:
    """How many flow runs of that name the Prefect API server has (the test harness's)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        return len(client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))))


def test_a_department_may_not_tick_and_the_refusal_is_audited(prefect_harness, engine):
    from sqlalchemy import select

    from domain.access import Actor, Role
    from domain.errors import Forbidden
    from flows.entries import run_launch, run_tick
    from store.models import AuditEntry
    from store.uow import UnitOfWork

    spec = load_spec(SPEC_PATH)
    run_launch(spec, settings_or_db_url=_url(engine), at=LAUNCH_AT, source_path=None, dry_run=False)
    _enlist(engine, spec.id)
    dept = Actor("dept_zjj", Role.department, "zjj")
    with pytest.raises(Forbidden):
        run_tick(spec.id, D(2020, 6, 23), settings_or_db_url=_url(engine), actor=dept, at=LAUNCH_AT)
    with UnitOfWork(engine) as uow:
        refused = uow.session.execute(
            select(AuditEntry.actor, AuditEntry.outcome).where(AuditEntry.action == "campaign.tick")
        ).all()
    assert [tuple(r) for r in refused] == [("dept_zjj", "refused")]


def test_dry_run_launch_writes_nothing(prefect_harness, engine):
    from flows.entries import run_launch

    spec = load_spec(SPEC_PATH)
    report = run_launch(spec, settings_or_db_url=_url(engine), at=LAUNCH_AT, source_path=None, dry_run=True)
    assert report.assignments_added == len(planned(spec).assignments)
    assert snapshot(engine)["campaign"] == []


PREFECT_PARAMETER_LIMIT = 512 * 1024


def test_a_spec_larger_than_prefects_parameter_limit_launches_through_the_flow(prefect_harness, engine):
    """The launch flow takes the campaign code and the stored spec's digest, never the spec: a
    campaign with thousands of departments (a spec of several hundred KB) launches."""
    from sqlalchemy import func, select

    from domain.spec import Department
    from flows.entries import run_launch
    from services.campaigns import spec_digest
    from store.models import Department as DepartmentRow
    from store.models import SpecVersion
    from store.uow import UnitOfWork

    spec = load_spec(SPEC_PATH)
    extra = tuple(
        Department(
            code=f"x{i:04d}",
            name=f"第{i}号乡镇人民政府招标投标监督管理办公室（项目建设与招标采购专项工作组）",
            kind="other",
            tags=("乡镇", "基层监管", f"片区{i % 40}"),
        )
        for i in range(2400)
    )
    big = spec.model_copy(update={"departments": spec.departments + extra})
    assert len(big.model_dump_json().encode()) > PREFECT_PARAMETER_LIMIT
    report = run_launch(big, settings_or_db_url=_url(engine), at=LAUNCH_AT)
    assert report.created
    with UnitOfWork(engine) as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(DepartmentRow)) == len(big.departments)
        assert s.scalar(select(SpecVersion.sha256).where(SpecVersion.campaign_code == spec.id)) == spec_digest(big)
    again = run_launch(big, settings_or_db_url=_url(engine), at=LAUNCH_AT)
    assert again.unchanged  # the same spec, stored once, changes nothing
    with UnitOfWork(engine) as uow:
        assert uow.session.scalar(select(func.count()).select_from(SpecVersion)) == 1


CRASHING_TICK = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    sys.path.insert(0, {root!r})
    from flows.runtime import embedded_engine
    import store.uow

    commits = 0
    real_commit = store.uow.UnitOfWork.commit

    def commit_then_die(self):
        global commits
        real_commit(self)
        commits += 1
        if commits == int(os.environ["DIE_AFTER_COMMITS"]):
            # Like the power going out between two steps: the whole process group dies at once,
            # including the ephemeral Prefect server this process started.
            os.killpg(0, signal.SIGKILL)

    store.uow.UnitOfWork.commit = commit_then_die
    with embedded_engine():
        from flows.campaign_flows import tick
        tick("yanjiang-2020", dt.date(2020, 7, 3), {url!r})
    """
)


def _launched_sqlite(path: Path) -> str:
    from flows.campaign_flows import tick
    from flows.entries import run_launch

    url = f"sqlite:///{path}"
    upgrade(make_engine(url))
    run_launch(load_spec(SPEC_PATH), settings_or_db_url=url, at=LAUNCH_AT)
    tick("yanjiang-2020", D(2020, 6, 17), url)
    return url


@pytest.fixture(scope="module")
def ticked_to_june_17(prefect_harness, tmp_path_factory) -> Path:
    """The example launched and ticked to 17 June through the flows, once for the crash tests (they copy it)."""
    path = tmp_path_factory.mktemp("june-17") / "campaign.db"
    _launched_sqlite(path)
    return path


@pytest.fixture(scope="module")
def reference_end_state(ticked_to_june_17, tmp_path_factory) -> dict[str, list[tuple]]:
    """What an uninterrupted tick of 3 July leaves (ids aside), from a copy of the 17 June campaign."""
    from flows.campaign_flows import tick

    url = copy_database(ticked_to_june_17, tmp_path_factory.mktemp("reference") / "campaign.db")
    tick("yanjiang-2020", D(2020, 7, 3), url)
    return _without_ids(snapshot(make_engine(url)))


@pytest.mark.parametrize("die_after", [2, 4])
def test_a_tick_killed_half_way_and_re_run_leaves_no_duplicates(
    prefect_harness, tmp_path, die_after, ticked_to_june_17, reference_end_state
):
    from flows.campaign_flows import tick

    (tmp_path / "crashed").mkdir()
    crashed_url = copy_database(ticked_to_june_17, tmp_path / "crashed" / "campaign.db")

    script = tmp_path / "crash.py"
    script.write_text(CRASHING_TICK.format(root=str(ROOT), url=crashed_url), encoding="utf-8")
    env = {**os.environ, "DIE_AFTER_COMMITS": str(die_after), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)  # the child runs its own embedded engine
    env["PREFECT_HOME"] = str(PREFECT_HOME)  # its own ephemeral server, on the test process's Prefect home
    log = tmp_path / "crash.log"
    with log.open("wb") as out:  # a file, not a pipe: nothing left holding a pipe open can hang the test
        proc = subprocess.run(
            [sys.executable, str(script)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=240,
            start_new_session=True,
        )
    assert proc.returncode == -signal.SIGKILL, log.read_text(errors="replace")[-2000:]

    assert _without_ids(snapshot(make_engine(crashed_url))) != reference_end_state  # it really stopped part-way

    tick("yanjiang-2020", D(2020, 7, 3), crashed_url)
    assert _without_ids(snapshot(make_engine(crashed_url))) == reference_end_state


def _without_ids(snap: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    # Surrogate ids depend on insertion order, which a crash may change; natural keys may not.
    from store.models import Base

    out = {}
    for table in Base.metadata.sorted_tables:
        if table.name not in snap:
            continue
        keep = [i for i, c in enumerate(table.columns) if not (c.primary_key and c.name == "id")]
        out[table.name] = sorted((tuple(row[i] for i in keep) for row in snap[table.name]), key=repr)
    return out


def test_tick_flow_draws_verification_samples_and_counts_them_in_the_rollup(prefect_harness, engine):
    from sqlalchemy import select

    from flows.campaign_flows import tick
    from flows.entries import run_launch
    from services import projects
    from services.users import actor_for, add_user
    from store.models import Department, RollupSnapshot, SampleDraw
    from store.uow import UnitOfWork

    spec = load_spec(SPEC_PATH)
    run_launch(spec, settings_or_db_url=_url(engine), at=LAUNCH_AT, source_path=None, dry_run=False)
    register = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n" + "".join(
        f"ZJ-{i:02d},住建项目{i},zjj,2020-03-0{1 + i % 9},{100 + i},某公司,某公司\n" for i in range(10)
    )
    with UnitOfWork(engine) as uow:
        add_user(
            uow.session,
            actor=SYSTEM,
            at=LAUNCH_AT,
            username="office",
            display_name="办公室",
            role="office",
            department_code=None,
            email=None,
            password="Passw0rd!2020",
        )
        projects.import_projects(
            uow.session,
            actor=actor_for(uow.session, "office"),
            at=LAUNCH_AT,
            campaign_code=spec.id,
            data=register.encode(),
            filename="register.csv",
        )
        uow.commit()

    tick(spec.id, D(2020, 6, 30), _url(engine))  # 重点核查 has not started: nothing drawn
    with UnitOfWork(engine) as uow:
        assert uow.session.scalars(select(SampleDraw)).all() == []
    summary = tick(spec.id, D(2020, 7, 1), _url(engine))
    assert summary.phases["verify"] == "open"
    with UnitOfWork(engine) as uow:
        [draw] = uow.session.scalars(select(SampleDraw)).all()
        assert (draw.population, draw.seed) == (10, 2020)
        total = uow.session.scalar(
            select(RollupSnapshot)
            .join(Department, Department.id == RollupSnapshot.department_id)
            .where(Department.code == "zjj", RollupSnapshot.phase_key == "", RollupSnapshot.as_of == D(2020, 7, 1))
        )
        assert (total.projects_sampled, total.projects_supervised) == (2, 10)  # ≥ 20 %
    first = snapshot(engine)
    tick(spec.id, D(2020, 7, 1), _url(engine))
    assert snapshot(engine) == first  # the draw is never repeated


def _analysed_since(engine, before, tables: tuple[str, ...]) -> dict[str, bool]:
    from sqlalchemy import bindparam, text

    query = text(
        "SELECT relname, COALESCE(last_analyze >= :before, false) FROM pg_stat_user_tables"
        " WHERE schemaname = current_schema() AND relname IN :tables"  # not the tests' snapshot schemas' copies
    ).bindparams(bindparam("tables", expanding=True))
    with engine.connect() as conn:
        return dict(conn.execute(query, {"before": before, "tables": list(tables)}).all())


def test_a_bulk_launch_and_a_busy_tick_refresh_the_databases_statistics(prefect_harness, engine, monkeypatch):
    """PostgreSQL plans the first tick after a bulk launch, and the boards after a busy tick, on the real
    table sizes (ANALYZE in the same transaction); SQLite needs no statistics and gets no ANALYZE."""
    from sqlalchemy import text

    from flows.entries import run_launch, run_tick
    from services import ticking
    from store.sql import LAUNCHED_TABLES, TICKED_TABLES
    from tasks import campaign_tasks

    # the example campaign's 70 assignments and its first busy day count as bulk here
    monkeypatch.setattr(campaign_tasks, "BULK_ROWS", 1)
    monkeypatch.setattr(ticking, "BULK_ROWS", 1)
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT now()")).scalar_one()
    spec = load_spec(SPEC_PATH)
    run_launch(spec, settings_or_db_url=_url(engine), at=LAUNCH_AT)
    if postgres:
        assert _analysed_since(engine, before, LAUNCHED_TABLES) == dict.fromkeys(LAUNCHED_TABLES, True)
        with engine.connect() as conn:
            before = conn.execute(text("SELECT now()")).scalar_one()
    run_tick(spec.id, dt.date(2020, 6, 1), settings_or_db_url=_url(engine), at=LAUNCH_AT)
    if postgres:
        assert _analysed_since(engine, before, TICKED_TABLES) == dict.fromkeys(TICKED_TABLES, True)
