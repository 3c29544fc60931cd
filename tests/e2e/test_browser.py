"""The dashboard in Debian's Chromium through Playwright: a department submits, the office accepts,
the leader board shows the change; on the way the department reads its inbox and each role downloads
an .xlsx that is opened and checked. Saves screenshots of each role's pages under
test-artifacts/screenshots; to refresh the ones in the README run it with
CAMPAIGN_SCREENSHOTS_DIR=docs/screenshots.

Never downloads a browser: it drives /usr/bin/chromium, installed with apt (chromium and
fonts-wqy-zenhei, for Chinese glyphs) in the set-up when missing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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
AS_OF = dt.date(2020, 7, 6)
PASSWORD = "Passw0rd!2020"
DEPT = "zjj"
TEXT = "住建局月度工作报告：本月核查项目 8 个，发现问题 2 个，均已建立整改台账。"

pytestmark = pytest.mark.slow


def prepare_database(url: str) -> None:
    """yanjiang-2020 launched, simulated (submissions, register, ledger, leads) and ticked day by day to
    AS_OF, with the in-app inbox planned each day (services, no Prefect); users."""
    from domain.access import SYSTEM
    from services.campaigns import launch
    from services.delivery import plan_deliveries
    from services.simulation import enlist_simulated_people, simulate_day, simulate_work
    from services.spec_files import load_spec
    from services.users import add_user
    from settings import Settings
    from store.db import make_engine
    from store.migrate import upgrade
    from store.uow import UnitOfWork
    from tests.conftest import run_tick

    upgrade(make_engine(url))  # migrations are an explicit step
    spec = load_spec(ROOT / "config" / "campaigns" / "yanjiang-2020.yaml")
    at = dt.datetime(2020, 5, 8, 1, 0, tzinfo=dt.UTC)
    with UnitOfWork(url) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=at)
        enlist_simulated_people(uow.session, spec.id, at)  # the accounts the simulated work is done by
        add_user(
            uow.session,
            actor=SYSTEM,
            at=at,
            username="office",
            display_name="联席办 王主任",
            role="office",
            department_code=None,
            email=None,
            password=PASSWORD,
        )
        add_user(
            uow.session,
            actor=SYSTEM,
            at=at,
            username="leader",
            display_name="分管区领导 李区长",
            role="leader",
            department_code=None,
            email=None,
            password=PASSWORD,
        )
        add_user(
            uow.session,
            actor=SYSTEM,
            at=at,
            username=f"dept_{DEPT}",
            display_name="区住建局联络员",
            role="department",
            department_code=DEPT,
            email=None,
            password=PASSWORD,
        )
        uow.commit()
    inbox_only = Settings(smtp_host=None, webhooks=[])
    day = spec.start
    while day <= AS_OF:
        with UnitOfWork(url) as uow:
            simulate_day(uow.session, spec.id, day, 7)
            simulate_work(uow.session, spec.id, day, 7)
            uow.commit()
        run_tick(uow.engine, spec.id, day)
        with UnitOfWork(url) as uow:
            plan_deliveries(uow.session, spec.id, day, inbox_only, at=dt.datetime.combine(day, dt.time(2, 0), dt.UTC))
            uow.commit()
        day += dt.timedelta(days=1)


def open_assignment(url: str) -> tuple[int, str]:
    """An open or returned assignment of the department, to submit through the browser."""
    from sqlalchemy import select

    from store.models import Assignment, Department, TaskTemplate
    from store.uow import UnitOfWork

    with UnitOfWork(url) as uow:
        row = uow.session.execute(
            select(Assignment.id, TaskTemplate.title)
            .join(Department, Department.id == Assignment.department_id)
            .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
            .where(Department.code == DEPT, Assignment.status.in_(("open", "returned")))
            .order_by(Assignment.due_on)
            .limit(1)
        ).first()
    assert row is not None, "the simulation left the department nothing to do"
    return row[0], row[1]


@pytest.fixture
def server(tmp_path):
    try:
        ensure_browser()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"Chromium: {exc}", pytrace=False)
    from dashboard.launcher import command, environment
    from settings import Settings

    url = f"sqlite:///{(tmp_path / 'e2e.db').as_posix()}"
    prepare_database(url)
    settings = Settings(
        database_url=url,
        as_of=AS_OF,
        attachment_dir=tmp_path / "attachments",
        log_dir=tmp_path / "logs",
        dashboard_port=free_port(),
    )
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - the child writes it until the fixture ends
    proc = subprocess.Popen(
        command(settings), env=environment(settings), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    port = settings.dashboard_port
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start:\n{(tmp_path / 'streamlit.log').read_text()}")
        time.sleep(0.3)
    try:
        yield base, url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def wait_idle(page) -> None:
    """Until the script run is over (the running indicator is gone) and the charts have drawn."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    page.wait_for_timeout(700)


def login(page, base: str, username: str) -> None:
    page.goto(base)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("退出登录").wait_for(timeout=30_000)
    wait_idle(page)


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text()


def download_xlsx(page, button) -> list[tuple]:
    """Click a download button; the rows of the first sheet of the .xlsx the browser receives."""
    import io

    import openpyxl

    with page.expect_download(timeout=30_000) as info:
        button.click()
    path = info.value.path()
    assert info.value.suggested_filename.endswith(".xlsx"), info.value.suggested_filename
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()))
    return list(book.active.iter_rows(values_only=True))


def open_nav(page, name: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=30_000)
    wait_idle(page)


def test_submit_accept_and_the_board_changes(server):
    from playwright.sync_api import expect, sync_playwright

    base, url = server
    assignment_id, title = open_assignment(url)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:

            def fresh():
                ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
                return ctx, ctx.new_page()

            # The leader's board before.
            ctx, page = fresh()
            login(page, base, "leader")
            expect(page.get_by_role("heading", name="雁江区工程招标投标领域突出问题系统治理")).to_be_visible()
            before = metric(page, "完成率")
            ctx.close()

            # The department: its unread messages, its task list as Excel, then it submits.
            ctx, page = fresh()
            login(page, base, f"dept_{DEPT}")
            expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
            badge = page.get_by_role("link", name=re.compile(r"未读消息 \d+ 条"))
            expect(badge).to_be_visible()
            page.screenshot(path=str(SHOTS / "department.png"))
            rows = download_xlsx(page, page.get_by_role("button", name="下载 Excel").first)
            assert rows[0][:4] == ("任务编号", "灯", "任务", "截止日期") and len(rows) > 1, rows[:2]
            badge.click()
            expect(page.get_by_role("heading", name="消息")).to_be_visible(timeout=30_000)
            wait_idle(page)
            page.screenshot(path=str(SHOTS / "department-inbox.png"))
            page.get_by_role("button", name="全部标为已读").click()
            expect(page.get_by_text(re.compile(r"已将 \d+ 条消息标为已读"))).to_be_visible(timeout=30_000)
            expect(page.get_by_role("link", name=re.compile("未读消息"))).to_have_count(0)
            open_nav(page, "我的任务")
            box = page.get_by_label("或输入任务编号打开")
            box.fill(str(assignment_id))
            box.press("Enter")
            wait_idle(page)
            page.get_by_label("报送内容").fill(TEXT)
            late = page.get_by_label("逾期原因（已超过截止日期，必填）")  # asked when past the deadline
            if late.count():
                late.fill("核查项目较多，未能按期完成")
            page.get_by_role("button", name="提交报送").click()
            expect(page.get_by_text(f"已提交「{title}」")).to_be_visible(timeout=30_000)
            ctx.close()

            # The office accepts.
            ctx, page = fresh()
            login(page, base, "office")
            expect(page.get_by_role("heading", name="待办", exact=True)).to_be_visible()  # the office's landing page
            open_nav(page, "审核队列")
            item = page.get_by_test_id("stExpander").filter(has_text=f"区住建局 · {title}").first
            if not item.get_by_text(TEXT).is_visible():
                item.locator("summary").click()
            expect(item.get_by_text(TEXT)).to_be_visible()
            page.screenshot(path=str(SHOTS / "office.png"))
            item.get_by_role("button", name="通过").click()
            expect(page.get_by_text(f"已通过：区住建局 · {title}")).to_be_visible(timeout=30_000)
            open_nav(page, "线索办理")
            page.screenshot(path=str(SHOTS / "office-leads.png"))
            page.get_by_role("link", name="台账与线索", exact=True).click()
            expect(page.get_by_role("heading", name="问题台账与案件线索")).to_be_visible(timeout=30_000)
            wait_idle(page)
            ledger = download_xlsx(page, page.get_by_role("button", name="下载整改台账（含销号过程）"))
            assert ledger[0][0] == "序号" and ledger[0][-1] == "销号过程" and len(ledger) > 1, ledger[:2]
            ctx.close()

            # The leader sees the change.
            ctx, page = fresh()
            login(page, base, "leader")
            after = metric(page, "完成率")
            assert float(after.rstrip("%")) > float(before.rstrip("%")), (before, after)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(SHOTS / "leader.png"))
            page.get_by_role("link", name="部门进度").click()
            expect(page.get_by_role("heading", name="部门进度")).to_be_visible()
            wait_idle(page)
            page.screenshot(path=str(SHOTS / "leader-departments.png"))
            ctx.close()
        finally:
            browser.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_launcher_binds_to_localhost_and_sigterm_ends_the_streamlit_child(tmp_path):
    """`campaign dashboard`'s launcher: settings reach the child through its environment, it listens on
    127.0.0.1 only, and SIGTERM to the launcher leaves no Streamlit process behind."""
    import signal

    from settings import Settings
    from store.db import make_engine
    from store.migrate import upgrade

    url = f"sqlite:///{(tmp_path / 'launcher.db').as_posix()}"
    upgrade(make_engine(url))
    settings = Settings(database_url=url, log_dir=tmp_path / "logs", dashboard_port=free_port())
    assert settings.dashboard_address == "127.0.0.1"
    script = (
        "import sys; from dashboard.launcher import run; from settings import load_settings; "
        "sys.exit(run(load_settings()))"
    )
    launcher = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=settings.child_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{settings.dashboard_port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert launcher.poll() is None and time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.3)
    children = subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) == 1, children
    child = int(children[0])
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    ours = [line for line in listening.splitlines() if f":{settings.dashboard_port} " in line]
    assert ours and all("127.0.0.1:" in line for line in ours), ours
    launcher.send_signal(signal.SIGTERM)
    launcher.wait(timeout=20)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(child), "the Streamlit child outlived its launcher"
