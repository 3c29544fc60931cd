"""The dashboard in Debian's Chromium through Playwright: a department submits, the office accepts,
the leader board shows the change; on the way the department reads its inbox and each role downloads
an .xlsx that is opened and checked. Saves screenshots of each role's pages under
test-artifacts/screenshots; to refresh the ones in the README run it with
CAMPAIGN_SCREENSHOTS_DIR=docs/screenshots.

The server, the simulated database and the waits are tests/e2e/browser_support.py's (never downloads a
browser: /usr/bin/chromium, installed with apt when missing).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.browser_support import (  # noqa: F401 - AS_OF, CHROMIUM, CHROMIUM_ARGS, prepare_database: docs/screenshots
    AS_OF,
    CHROMIUM,
    CHROMIUM_ARGS,
    DEPT,
    LOADED_MS,
    ROOT,
    SHOTS,
    chromium,
    dashboard,
    desk_page,
    go,
    open_task,
    prepare_database,
    settle,
    sign_in,
    simulated_database,
    wait_healthy,
)
from tests.machine import free_port

TEXT = "住建局月度工作报告：本月核查项目 8 个，发现问题 2 个，均已建立整改台账。"

pytestmark = pytest.mark.slow


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
def server(tmp_path, tmp_path_factory):
    """The real dashboard on a fresh copy of the simulated campaign (this test changes it)."""
    url = simulated_database(tmp_path_factory, tmp_path / "e2e.db")
    with dashboard(url, AS_OF, tmp_path) as base:
        yield base, url


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text()


def download_xlsx(page, button) -> list[tuple]:
    """Click a download button; the rows of the first sheet of the .xlsx the browser receives."""
    import io

    import openpyxl

    with page.expect_download(timeout=LOADED_MS) as info:
        button.click()
    path = info.value.path()
    assert info.value.suggested_filename.endswith(".xlsx"), info.value.suggested_filename
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()))
    return list(book.active.iter_rows(values_only=True))


def test_submit_accept_and_the_board_changes(server):
    from playwright.sync_api import expect

    base, url = server
    assignment_id, title = open_assignment(url)
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=LOADED_MS)
    with chromium() as browser:
        # The leader's board before (the leader's browser stays open for after).
        leader_ctx, leader = desk_page(browser)
        sign_in(leader, base, "leader")
        expect(leader.get_by_role("heading", name="雁江区工程招标投标领域突出问题系统治理")).to_be_visible()
        before = metric(leader, "完成率")

        # The department: its unread messages, its task list as Excel, then it submits.
        ctx, page = desk_page(browser)
        sign_in(page, base, f"dept_{DEPT}")
        expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
        badge = page.get_by_role("link", name=re.compile(r"未读消息 \d+ 条"))
        expect(badge).to_be_visible()
        page.screenshot(path=str(SHOTS / "department.png"))
        rows = download_xlsx(page, page.get_by_role("button", name="下载 Excel").first)
        assert rows[0][:4] == ("任务编号", "灯", "任务", "截止日期") and len(rows) > 1, rows[:2]
        badge.click()
        expect(page.get_by_role("heading", name="消息")).to_be_visible()
        settle(page)
        page.screenshot(path=str(SHOTS / "department-inbox.png"))
        page.get_by_role("button", name="全部标为已读").click()
        expect(page.get_by_text(re.compile(r"已将 \d+ 条消息标为已读"))).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("未读消息"))).to_have_count(0)
        go(page, "我的任务")
        expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
        open_task(page, assignment_id)
        page.get_by_label("报送内容").fill(TEXT)
        late = page.get_by_label("逾期原因（已超过截止日期，必填）")  # asked when past the deadline
        if late.count():
            late.fill("核查项目较多，未能按期完成")
        page.get_by_role("button", name="提交报送").click()
        expect(page.get_by_text(f"已提交「{title}」")).to_be_visible()
        ctx.close()

        # The office accepts.
        ctx, page = desk_page(browser)
        sign_in(page, base, "office")
        expect(page.get_by_role("heading", name="待办", exact=True)).to_be_visible()  # the office's landing page
        go(page, "审核队列")
        expect(page.get_by_role("heading", name="审核队列")).to_be_visible()
        item = page.get_by_test_id("stExpander").filter(has_text=f"区住建局 · {title}").first
        if not item.get_by_text(TEXT).is_visible():
            item.locator("summary").click()
        expect(item.get_by_text(TEXT)).to_be_visible()
        page.screenshot(path=str(SHOTS / "office.png"))
        item.get_by_role("button", name="通过").click()
        expect(page.get_by_text(f"已通过：区住建局 · {title}")).to_be_visible()
        settle(page)
        go(page, "线索办理")
        expect(page.get_by_role("heading", name="线索办理")).to_be_visible()
        page.screenshot(path=str(SHOTS / "office-leads.png"))
        go(page, "台账与线索")
        expect(page.get_by_role("heading", name="问题台账与案件线索")).to_be_visible()
        ledger = download_xlsx(page, page.get_by_role("button", name="下载整改台账（含销号过程）"))
        assert ledger[0][0] == "序号" and ledger[0][-1] == "销号过程" and len(ledger) > 1, ledger[:2]
        ctx.close()

        # The leader sees the change on reloading the board.
        page = leader
        page.reload()
        page.get_by_text("退出登录").wait_for(timeout=LOADED_MS)
        settle(page)
        expect(page.get_by_role("heading", name="雁江区工程招标投标领域突出问题系统治理")).to_be_visible()
        after = metric(page, "完成率")
        assert float(after.rstrip("%")) > float(before.rstrip("%")), (before, after)
        page.screenshot(path=str(SHOTS / "leader.png"))
        go(page, "部门进度")
        expect(page.get_by_role("heading", name="部门进度")).to_be_visible()
        page.screenshot(path=str(SHOTS / "leader-departments.png"))
        leader_ctx.close()


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
    assert wait_healthy(base, lambda: launcher.poll() is None), "the dashboard did not start"
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
