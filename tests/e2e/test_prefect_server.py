"""Production mode end to end: a Prefect server on loopback with PostgreSQL as its database,
the deployments from prefect.yaml, a process worker, and PostgreSQL as the application
database. A run triggered through the `tick-daily` deployment must tick the campaign there.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from domain.access import SYSTEM
from services import campaigns
from services.spec_files import load_spec
from store.db import make_engine
from store.migrate import upgrade
from store.models import Campaign, GeneratedReport, ScheduledRun
from store.uow import UnitOfWork
from tests.conftest import june_report_departments
from tests.machine import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG = "postgres@127.0.0.1:5432"
AS_OF = dt.date(2020, 6, 23)
TIMEOUT_S = 180


def _pg_admin():
    import psycopg

    try:
        return psycopg.connect(f"postgresql://{PG}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {exc}")


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """A fresh Prefect database and a fresh application database, dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = (f"e2e_prefect_{suffix}", f"e2e_app_{suffix}")
    with _pg_admin() as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        with _pg_admin() as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _run_deployment(api: str, name: str, parameters: dict[str, str]) -> None:
    """A flow run of deployment `name` ("flow/deployment") with `parameters`, scheduled now."""
    deployment = httpx.get(f"{api}/deployments/name/{name}", timeout=30)
    assert deployment.status_code == 200, deployment.text
    run = httpx.post(
        f"{api}/deployments/{deployment.json()['id']}/create_flow_run", json={"parameters": parameters}, timeout=30
    )
    assert run.status_code == 201, run.text


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_deployment_run_ticks_campaign_in_postgres(databases: tuple[str, str], tmp_path: Path) -> None:
    prefect_db, app_db = databases
    app_url = f"postgresql+psycopg://{PG}/{app_db}"
    engine = make_engine(app_url)
    upgrade(engine)
    with UnitOfWork(engine) as uow:
        campaigns.launch(
            uow.session,
            load_spec(ROOT / "config/campaigns/yanjiang-2020.yaml"),
            actor=SYSTEM,
            at=dt.datetime(2020, 5, 1, tzinfo=dt.UTC),
        )
        uow.commit()

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PREFECT_", "CAMPAIGN_"))}
    base.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PYTHONPATH=str(ROOT),
        PATH=f"{BIN}{os.pathsep}{base.get('PATH', '')}",
    )
    server_env = dict(base, PREFECT_API_DATABASE_CONNECTION_URL=f"postgresql+asyncpg://{PG}/{prefect_db}")
    client_env = dict(base, PREFECT_API_URL=api)
    worker_env = dict(
        client_env,
        CAMPAIGN_DATABASE_URL=app_url,  # the worker's env, not a job variable
        CAMPAIGN_REPORTS_DIR=str(tmp_path / "reports"),
        CAMPAIGN_DATA_DIR=str(tmp_path / "data"),  # the audit key and anchor of a server database live here
        # The worker polls for scheduled runs every 10 s by default: the second deployment run (the reports)
        # would wait for the next poll. Polling each second only shortens the wait, not what is tested.
        PREFECT_WORKER_QUERY_SECONDS="1",
    )

    server_log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    worker_log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=server_env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    worker: subprocess.Popen | None = None
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "Prefect server did not become healthy"
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

        prefect = str(BIN / "prefect")
        _run([prefect, "work-pool", "create", "campaign-pool", "--type", "process"], client_env)
        # The worker starts (its imports take seconds) while the deployments are made; it polls each second.
        worker = subprocess.Popen(
            [prefect, "worker", "start", "--pool", "campaign-pool", "--type", "process"],
            cwd=ROOT,
            env=worker_env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        out = _run([prefect, "--no-prompt", "deploy", "--all"], client_env)
        assert "tick-daily" in out
        # Runs are asked for through the API (what `prefect deployment run` calls), without a CLI process each.
        _run_deployment(api, "daily/tick-daily", {"as_of": AS_OF.isoformat()})
        last_tick = None
        while time.monotonic() < deadline:
            with UnitOfWork(engine) as uow:
                last_tick = uow.session.scalar(select(Campaign.last_tick_on))
            if last_tick == AS_OF:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(1)
        assert last_tick == AS_OF, (tmp_path / "worker.log").read_text()[-4000:]

        # The schedule from prefect.yaml is on the deployment, in Asia/Shanghai.
        deployment = httpx.get(f"{api}/deployments/name/daily/tick-daily", timeout=10).json()
        [schedule] = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "30 7 * * *"
        assert schedule["schedule"]["timezone"] == "Asia/Shanghai"
        # Deployments are scheduled by Prefect, not by `campaign serve`'s record.
        with UnitOfWork(engine) as uow:
            assert uow.session.scalar(select(ScheduledRun.id)) is None

        # The on-demand report deployment files the departments' June reports (due Monday 22 June).
        _run_deployment(api, "monthly-reports/reports-on-demand", {"campaign": "yanjiang-2020", "as_of": "2020-06-22"})
        filed: list[str] = []
        due = june_report_departments()
        while time.monotonic() < deadline and len(filed) < len(due):
            with UnitOfWork(engine) as uow:
                filed = list(uow.session.scalars(select(GeneratedReport.department_code)))
            time.sleep(1)
        assert sorted(filed) == due and due, (tmp_path / "worker.log").read_text()[-4000:]
        assert len(list((tmp_path / "reports" / "yanjiang-2020").glob("*.docx"))) == len(due)
    finally:
        if worker is not None:
            _stop(worker)
        _stop(server)
        server_log.close()
        worker_log.close()
        engine.dispose()
