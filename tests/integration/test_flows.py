"""The real Prefect engine (prefect_test_harness) running launch and tick over a real database.

Includes the crash test: a process killed half-way through a tick, then the tick re-run, ends in
exactly the state of an uninterrupted tick.
"""

from __future__ import annotations

import datetime as dt
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
from tests.conftest import LAUNCH_AT, ROOT, SPEC_PATH
from tests.integration.test_engine import snapshot

D = dt.date


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_launch_and_tick_flows_reconcile_the_campaign(prefect_harness, engine):
    from flows.campaign_flows import launch, tick

    spec = load_spec(SPEC_PATH)
    report = launch(spec, LAUNCH_AT, SYSTEM, str(SPEC_PATH), False, _url(engine))
    assert report.created and report.assignments_added == 70
    summary = tick(spec.id, D(2020, 6, 23), _url(engine))
    assert summary.phases == {"mobilize": "closed", "self_check": "open", "verify": "pending", "cases": "pending"}
    assert summary.counts.opened == 22 and summary.counts.escalations == 18
    first = snapshot(engine)
    again = tick(spec.id, D(2020, 6, 23), _url(engine))
    assert again.counts.opened == again.counts.escalations == again.counts.reminders == 0
    assert snapshot(engine) == first


def test_dry_run_launch_writes_nothing(prefect_harness, engine):
    from flows.campaign_flows import launch

    spec = load_spec(SPEC_PATH)
    report = launch(spec, LAUNCH_AT, SYSTEM, None, True, _url(engine))
    assert report.assignments_added == 70
    assert snapshot(engine)["campaign"] == []


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
    from flows.campaign_flows import launch, tick

    url = f"sqlite:///{path}"
    upgrade(make_engine(url))
    launch(load_spec(SPEC_PATH), LAUNCH_AT, SYSTEM, None, False, url)
    tick("yanjiang-2020", D(2020, 6, 17), url)
    return url


@pytest.mark.parametrize("die_after", [2, 4])
def test_a_tick_killed_half_way_and_re_run_leaves_no_duplicates(prefect_harness, tmp_path, die_after):
    from flows.campaign_flows import tick

    reference_url = _launched_sqlite(tmp_path / "reference.db")
    crashed_url = _launched_sqlite(tmp_path / "crashed.db")
    tick("yanjiang-2020", D(2020, 7, 3), reference_url)

    script = tmp_path / "crash.py"
    script.write_text(CRASHING_TICK.format(root=str(ROOT), url=crashed_url), encoding="utf-8")
    env = {**os.environ, "DIE_AFTER_COMMITS": str(die_after), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)  # the child runs its own embedded engine
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # its own ephemeral server database
    log = tmp_path / "crash.log"
    with log.open("wb") as out:  # a file, not a pipe: nothing left holding a pipe open can hang the test
        proc = subprocess.run(
            [sys.executable, str(script)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            timeout=240, start_new_session=True,
        )
    assert proc.returncode == -signal.SIGKILL, log.read_text(errors="replace")[-2000:]

    half = snapshot(make_engine(crashed_url))
    assert half != snapshot(make_engine(reference_url))  # it really stopped part-way

    tick("yanjiang-2020", D(2020, 7, 3), crashed_url)
    assert _without_ids(snapshot(make_engine(crashed_url))) == _without_ids(snapshot(make_engine(reference_url)))


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

    from flows.campaign_flows import launch, tick
    from services import projects
    from services.users import add_user, actor_for
    from store.models import Department, RollupSnapshot, SampleDraw
    from store.uow import UnitOfWork

    spec = load_spec(SPEC_PATH)
    launch(spec, LAUNCH_AT, SYSTEM, None, False, _url(engine))
    register = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n" + "".join(
        f"ZJ-{i:02d},住建项目{i},zjj,2020-03-0{1 + i % 9},{100 + i},某公司,某公司\n" for i in range(10))
    with UnitOfWork(engine) as uow:
        add_user(uow.session, actor=SYSTEM, at=LAUNCH_AT, username="office", display_name="办公室", role="office",
                 department_code=None, email=None, password="Passw0rd!2020")
        projects.import_projects(uow.session, actor=actor_for(uow.session, "office"), at=LAUNCH_AT,
                                 campaign_code=spec.id, data=register.encode(), filename="register.csv")
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
            select(RollupSnapshot).join(Department, Department.id == RollupSnapshot.department_id)
            .where(Department.code == "zjj", RollupSnapshot.phase_key == "", RollupSnapshot.as_of == D(2020, 7, 1)))
        assert (total.projects_sampled, total.projects_supervised) == (2, 10)  # ≥ 20 %
    first = snapshot(engine)
    tick(spec.id, D(2020, 7, 1), _url(engine))
    assert snapshot(engine) == first  # the draw is never repeated
