"""`campaign serve` across restarts: each day is ticked exactly once, none is missed.

The scheduler is the edge that reads the clock; the one clock override (Settings.as_of,
CAMPAIGN_AS_OF) pins "today" so the test can move through days. Every run is killed with
SIGKILL — no graceful shutdown — and restarted on a later "today".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select, text

from flows.api_server import ADVERT_NAME
from flows.schedule import JOB_ID, JOBS_TABLE, days_to_run
from store.db import make_engine
from store.models import Campaign, GeneratedReport, RollupSnapshot, ScheduledRun
from store.uow import UnitOfWork
from tests.cli_support import console_script
from tests.conftest import june_report_departments, launched_sqlite_file, seeded_prefect_home

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "config" / "campaigns" / "yanjiang-2020.yaml"
D = dt.date


def test_days_to_run() -> None:
    assert days_to_run(None, D(2020, 6, 22)) == [D(2020, 6, 22)]  # first start: today only
    assert days_to_run(D(2020, 6, 22), D(2020, 6, 22)) == []
    assert days_to_run(D(2020, 6, 22), D(2020, 6, 24)) == [D(2020, 6, 23), D(2020, 6, 24)]
    assert len(days_to_run(D(2020, 1, 1), D(2020, 6, 24))) == 31  # bounded catch-up


def reports_dir(db_url: str) -> Path:
    """Filed monthly reports go beside the test's database, not into the checkout's data/."""
    return Path(db_url.removeprefix("sqlite:///")).parent / "reports"


class Serve:
    """`campaign serve` as a child process, its stdout collected line by line."""

    def __init__(self, db_url: str, today: str, prefect_home: Path):
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("CAMPAIGN_", "PREFECT_"))}
        env.update(
            PREFECT_HOME=str(prefect_home),  # its embedded Prefect server's database: a migrated copy, not ~/.prefect
            CAMPAIGN_DATABASE_URL=db_url,
            CAMPAIGN_AS_OF=today,
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            CAMPAIGN_REPORTS_DIR=str(reports_dir(db_url)),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # killed as a group: the crash takes its Prefect server child too
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, fragment: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.lines.append(line)
            if fragment in line:
                return
        raise AssertionError(f"no {fragment!r} from serve; got {self.lines}")

    def kill(self) -> None:
        """Like a power cut: the serve process and the embedded Prefect server it started die at once
        (a SIGKILL of serve alone would leave that server running as an orphan)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        while not self._queue.empty():
            self.lines.append(self._queue.get())


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return launched_sqlite_file(tmp_path / "serve.db")


def test_restarted_serve_ticks_each_day_exactly_once(
    db_url: str, tmp_path: Path, prefect_database_template: Path
) -> None:
    out: list[str] = []
    home = seeded_prefect_home(tmp_path / "prefect-home", prefect_database_template)

    first = Serve(db_url, "2020-06-22", home)
    first.wait_for("scheduler started")
    first.kill()
    out += first.lines

    # Down for a day: the restart on the 24th catches up the 23rd, then runs the 24th.
    second = Serve(db_url, "2020-06-24", home)
    second.wait_for("scheduler started")
    second.kill()
    out += second.lines

    # A restart on the same day runs nothing again.
    third = Serve(db_url, "2020-06-24", home)
    third.wait_for("scheduler started")
    third.kill()
    out += third.lines

    done = [line.split()[1] for line in out if line.startswith(f"{JOB_ID} ") and " done" in line]
    assert done == ["2020-06-22", "2020-06-23", "2020-06-24"]
    assert any("nothing to run up to 2020-06-24" in line for line in third.lines)

    engine = make_engine(db_url)
    with UnitOfWork(engine) as uow:
        s = uow.session
        runs = s.execute(
            select(ScheduledRun.day, ScheduledRun.finished_at)
            .where(ScheduledRun.job == JOB_ID)
            .order_by(ScheduledRun.day)
        ).all()
        assert [r.day for r in runs] == [D(2020, 6, 22), D(2020, 6, 23), D(2020, 6, 24)]
        assert all(r.finished_at is not None for r in runs)
        assert s.scalar(select(Campaign.last_tick_on)) == D(2020, 6, 24)
        ticked_days = set(s.scalars(select(RollupSnapshot.as_of).distinct()))
        assert ticked_days == {D(2020, 6, 22), D(2020, 6, 23), D(2020, 6, 24)}
        # The persistent job store holds the one daily job under its fixed id (replace_existing).
        jobs = s.execute(text(f"SELECT id FROM {JOBS_TABLE}")).scalars().all()
        assert jobs == [JOB_ID]
        # The departments' June reports fell due on Monday the 22nd (the 20th was a Saturday): filed once.
        filed = sorted(s.execute(select(GeneratedReport.period, GeneratedReport.department_code)).tuples())
        due = june_report_departments()
        assert filed == [("2020-06", code) for code in due] and due
        assert len(list(reports_dir(db_url).glob("yanjiang-2020/*_2020-06_*.docx"))) == len(due)
    engine.dispose()


def test_while_serve_runs_a_tick_command_runs_its_flow_on_serves_engine(
    db_url: str, tmp_path: Path, prefect_database_template: Path
) -> None:
    """The resident engine (flows.api_server): `campaign serve` offers its API server in the Prefect home; a
    `campaign tick` (the console script's own code path, cli.entry) finds it answering and runs its flow there
    instead of starting a server. When serve stops, the offer goes with it."""
    home = seeded_prefect_home(tmp_path / "prefect-home", prefect_database_template)
    serve = Serve(db_url, "2020-06-23", home)  # a day with no monthly reports to file
    try:
        serve.wait_for("scheduler started")
        advert = json.loads((home / ADVERT_NAME).read_text(encoding="utf-8"))
        assert any(line.startswith(f"常驻引擎：{advert['url']}") for line in serve.lines), serve.lines
        # No time at all to wait for a server of its own: only a server already answering can run its flow.
        ticked = console_script(
            "tick",
            "--as-of",
            "2020-06-24",
            cwd=ROOT,
            prefect_home=home,
            db_url=db_url,
            data_dir=tmp_path / "data",
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0",
        )
        assert ticked.returncode == 0, ticked.stderr[-3000:]
        assert "推进到 2020-06-24" in ticked.stdout
        request = urllib.request.Request(
            f"{advert['url']}/flow_runs/filter",
            data=json.dumps({"flow_runs": {"name": {"any_": ["tick-yanjiang-2020-2020-06-24"]}}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            runs = json.loads(response.read())
        assert [run["state_type"] for run in runs] == ["COMPLETED"]  # the command's run, on serve's server
    finally:
        serve.proc.send_signal(signal.SIGTERM)  # a graceful stop: serve's exit handlers withdraw the offer
        serve.proc.wait(timeout=60)
    assert not (home / ADVERT_NAME).exists()
