"""What the Chromium tests (tests/e2e/test_browser*.py) share, defined once: the browser's path and
flags, the real dashboard server started on a prepared database, the simulated campaign database
(built once per test run and copied for each server), and the waits for Streamlit.

Waiting: never a fixed sleep. After an action the tests wait for what the action brings (a heading,
the page's URL, a message), then `settle`: Streamlit's own run state on the app root
(`data-test-script-state="notRunning"`, connected) and every visible Plotly chart drawn, holding for
QUIET_MS — the short span in which a run the browser already asked for has to show as running.
Timeouts stay generous (LOADED_MS) for a machine loaded by other test runs.

Never downloads a browser: it drives /usr/bin/chromium, installed with apt (chromium and
fonts-wqy-zenhei, for Chinese glyphs) in the set-up when missing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, copy_database  # PASSWORD: the accounts' password (add_accounts)
from tests.machine import ensure_browser, free_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("CAMPAIGN_SCREENSHOTS_DIR") or ROOT / "test-artifacts" / "screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESK = {"width": 1440, "height": 1000}
LOADED_MS = 120_000  # a machine shared with other test runs can take long over one page
START_S = 90  # for the Streamlit child to answer its health check
QUIET_MS = 100

# The simulated campaign of test_browser.py, language and phone: yanjiang-2020 simulated to AS_OF.
AS_OF = dt.date(2020, 7, 6)
DEPT = "zjj"


def need_browser() -> None:
    try:
        ensure_browser()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"Chromium: {exc}", pytrace=False)


# --- the server ---------------------------------------------------------------------------------


def wait_healthy(base: str, alive: Callable[[], bool], timeout_s: float = START_S) -> bool:
    """Until the dashboard at `base` answers its health check; False when it died or took too long."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.1)


@contextmanager
def dashboard(url: str, as_of: dt.date, workdir: Path) -> Iterator[str]:
    """The real dashboard (the launcher's command, its own process group) on the database at `url`,
    with `as_of` as its day; yields its base URL and ends the whole group afterwards."""
    from dashboard import launcher
    from settings import Settings

    settings = Settings(
        database_url=url,
        as_of=as_of,
        attachment_dir=workdir / "attachments",
        log_dir=workdir / "logs",
        dashboard_port=free_port(),
    )
    log_path = workdir / "streamlit.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            launcher.command(settings),
            env=launcher.environment(settings),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so launcher.stop ends the child and anything it started
        )
        base = f"http://127.0.0.1:{settings.dashboard_port}"
        try:
            if not wait_healthy(base, lambda: proc.poll() is None):
                pytest.fail(f"streamlit did not start:\n{log_path.read_text()}", pytrace=False)
            yield base
        finally:
            launcher.stop(proc)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    need_browser()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def desk_page(browser: Any, viewport: dict[str, int] | None = None) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport=viewport or DESK, locale="zh-CN")
    return ctx, ctx.new_page()


# --- the simulated campaign's database, built once --------------------------------------------------


def prepare_database(url: str) -> None:
    """yanjiang-2020 launched, simulated (submissions, register, ledger, leads) and ticked day by day to
    AS_OF, with the in-app inbox planned each day (services, no Prefect); users."""
    from domain.access import SYSTEM
    from services.campaigns import launch
    from services.delivery import plan_deliveries
    from services.simulation import enlist_simulated_people, simulate_day, simulate_work
    from services.spec_files import load_spec
    from settings import Settings
    from store.db import make_engine
    from store.migrate import upgrade
    from store.uow import UnitOfWork
    from tests.conftest import add_accounts, run_tick

    engine = make_engine(url)
    upgrade(engine)  # migrations are an explicit step
    spec = load_spec(ROOT / "config" / "campaigns" / "yanjiang-2020.yaml")
    at = dt.datetime(2020, 5, 8, 1, 0, tzinfo=dt.UTC)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=at)
        enlist_simulated_people(uow.session, spec.id, at)  # the accounts the simulated work is done by
        add_accounts(
            uow.session,
            (
                ("office", "联席办 王主任", "office", None),
                ("leader", "分管区领导 李区长", "leader", None),
                (f"dept_{DEPT}", "区住建局联络员", "department", DEPT),
            ),
            at=at,
        )
        uow.commit()
    inbox_only = Settings(smtp_host=None, webhooks=[])
    day = spec.start
    while day <= AS_OF:
        with UnitOfWork(engine) as uow:
            simulate_day(uow.session, spec.id, day, 7)
            simulate_work(uow.session, spec.id, day, 7)
            uow.commit()
        run_tick(engine, spec.id, day)
        with UnitOfWork(engine) as uow:
            plan_deliveries(uow.session, spec.id, day, inbox_only, at=dt.datetime.combine(day, dt.time(2, 0), dt.UTC))
            uow.commit()
        day += dt.timedelta(days=1)
    engine.dispose()


def _run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of this test run that every xdist worker of it sees (its own base otherwise)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def simulated_database(tmp_path_factory: pytest.TempPathFactory, target: Path) -> str:
    """A fresh copy at `target` (in a directory of its own) of the simulated campaign's database
    (prepare_database), which is built once per test run — the first worker to need it builds it, under
    a lock, the others wait — since building it is the slow part (two months simulated day by day).
    Returns the copy's URL."""
    run = _run_dir(tmp_path_factory)
    built = run / "browser-simulated" / "campaign.db"
    with (run / "browser-simulated.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not built.exists():
                work = run / "browser-simulated.work"
                if work.exists():
                    shutil.rmtree(work)  # a build that did not finish
                work.mkdir()
                prepare_database(f"sqlite:///{(work / 'campaign.db').as_posix()}")
                work.rename(built.parent)  # only a complete build gets the name
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return copy_database(built, target)


# --- waiting for Streamlit ------------------------------------------------------------------------

# True once the app is connected, no script run is under way or asked for, and every visible Plotly
# chart has drawn — and that has held for `quietMs` (a rerun the browser has just asked for shows as
# running within it).
SETTLED = """
(quietMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter((el) => el.checkVisibility());
  const busy = !app
    || app.getAttribute('data-test-script-state') !== 'notRunning'
    || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
    || !charts.every((el) => el.querySelector('.main-svg'));
  const now = performance.now();
  if (busy) { window.__settledSince = null; return false; }
  if (window.__settledSince == null) window.__settledSince = now;
  return now - window.__settledSince >= quietMs;
}
"""


def settle(page: Any, timeout: int = LOADED_MS) -> None:
    """Until the script run is over and the charts are drawn, on a loaded machine too."""
    page.evaluate("() => { window.__settledSince = null; }")
    page.wait_for_function(SETTLED, arg=QUIET_MS, timeout=timeout, polling=20)


def sign_in(page: Any, base: str, username: str, *, phone: bool = False) -> None:
    """Log in; on a phone the sidebar (with 退出登录) starts folded, so wait for its handle instead."""
    page.goto(base)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    ready = page.get_by_test_id("stExpandSidebarButton") if phone else page.get_by_text("退出登录")
    ready.wait_for(timeout=LOADED_MS)
    settle(page)


def go(page: Any, title: str) -> None:
    """Open the page `title` from the sidebar's navigation (showing all of a long one first) and wait
    until it has run. Its URL changes when the server starts the page's run; already there, it stays."""
    nav = page.get_by_test_id("stSidebarNav")
    link = nav.get_by_role("link", name=title, exact=True)
    more = page.get_by_test_id("stSidebarNavViewButton")  # a long navigation shows its first pages only
    if not link.is_visible() and more.count():
        more.first.click()
    path = link.evaluate("(a) => new URL(a.href).pathname")
    if page.evaluate("() => location.pathname") != path:
        link.click()
        page.wait_for_function("(path) => location.pathname === path", arg=path, timeout=LOADED_MS)
    settle(page)


def open_task(page: Any, assignment_id: int) -> None:
    """我的任务: open a task by its number, until its line (title · … · 截止 …) shows."""
    import re

    box = page.get_by_label("或输入任务编号打开")
    box.fill(str(assignment_id))
    box.press("Enter")
    page.get_by_text(re.compile(r" · 截止 \d{4}-\d{2}-\d{2}")).filter(visible=True).first.wait_for(timeout=LOADED_MS)
    settle(page)
