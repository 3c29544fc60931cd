"""Sessions and downloads in Debian's Chromium against the real server (`campaign dashboard`'s
command, dashboard/server.py): a login survives refresh and is shared by a second tab; logout ends
both; a bookmarked page while logged out shows the login and then that page; a download URL works
once, only in the browser and login that asked for it, only for minutes, and not for a user disabled
while the page is open.

One server for the module (tests/e2e/browser_support.py): each test signs in in a browser context of its
own, and what one test changes (a ticket expired, 区住建局's account disabled) no other test uses.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.e2e.browser_support import LOADED_MS, PASSWORD, ROOT, chromium, dashboard, settle, wait_healthy
from tests.machine import free_port

AS_OF = dt.date(2020, 5, 11)
AT = dt.datetime(2020, 5, 8, 1, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
COOKIE = "campaign_session"

pytestmark = pytest.mark.slow


def prepare_database(url: str, attachments: Path) -> None:
    """yanjiang-2020 launched and ticked to AS_OF; office, leader and 区住建局 accounts; one submission with a PDF."""
    from sqlalchemy import select

    from domain.access import SYSTEM
    from services import submissions
    from services.attachments import Upload
    from services.campaigns import launch
    from services.spec_files import load_spec
    from services.users import actor_for, add_user
    from store.db import make_engine
    from store.migrate import upgrade
    from store.models import Assignment, Department
    from store.uow import UnitOfWork
    from tests.conftest import run_tick

    upgrade(make_engine(url))
    spec = load_spec(ROOT / "config" / "campaigns" / "yanjiang-2020.yaml")
    with UnitOfWork(url) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=AT)
        for username, role, dept in (
            ("office", "office", None),
            ("leader", "leader", None),
            ("dept_zjj", "department", "zjj"),
        ):
            add_user(
                uow.session,
                actor=SYSTEM,
                at=AT,
                username=username,
                display_name=f"{username} 用户",
                role=role,
                department_code=dept,
                email=None,
                password=PASSWORD,
            )
        uow.commit()
    run_tick(make_engine(url), spec.id, AS_OF)  # the first tasks open
    with UnitOfWork(url) as uow:
        target = uow.session.scalar(
            select(Assignment.id)
            .join(Department, Department.id == Assignment.department_id)
            .where(Department.code == "zjj", Assignment.status == "open")
            .order_by(Assignment.due_on.desc())
            .limit(1)
        )
        submissions.submit(
            uow.session,
            actor=actor_for(uow.session, "dept_zjj"),
            at=AT,
            assignment_id=target,
            text="自查报告见附件",
            attachments=[Upload("自查报告.pdf", "application/pdf", PDF)],
            attachment_dir=attachments,
        )
        uow.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sessions")
    url = f"sqlite:///{(workdir / 'sessions.db').as_posix()}"
    prepare_database(url, workdir / "attachments")
    with dashboard(url, AS_OF, workdir) as base:
        yield base, url


@pytest.fixture(scope="module")
def browser():
    with chromium() as it:
        yield it


def logged_in(page) -> None:
    page.get_by_text("退出登录").wait_for(timeout=LOADED_MS)
    settle(page)


def login_form(page) -> None:
    page.get_by_label("用户名").wait_for(timeout=LOADED_MS)
    settle(page)


def login(page, username: str) -> None:
    """Log in on the page's login form; returns once the browser holds its session cookie."""
    login_form(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    logged_in(page)
    deadline = time.monotonic() + 10
    while not any(c["name"] == COOKIE for c in page.context.cookies()):  # httpOnly: page scripts cannot see it
        assert time.monotonic() < deadline, "no session cookie after login"
        page.wait_for_timeout(50)


def open_page(context, base: str, path: str = ""):
    page = context.new_page()
    page.goto(f"{base}/{path}")
    return page


def test_refresh_keeps_the_login_a_second_tab_shares_it_and_logout_ends_both(server, browser):
    base, _url = server
    context = browser.new_context(locale="zh-CN")
    first = open_page(context, base)
    login(first, "leader")
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > time.time() + 3600
    assert first.evaluate("document.cookie").find(COOKIE) == -1  # page scripts cannot read it

    first.reload()
    logged_in(first)  # F5 keeps the login
    assert first.get_by_label("用户名").count() == 0

    second = open_page(context, base, "leader_departments")
    logged_in(second)  # a second tab of the same browser is logged in, on the page it asked for
    second.get_by_role("heading", name="部门进度").first.wait_for(timeout=LOADED_MS)

    first.get_by_role("button", name="退出登录").click()
    login_form(first)
    second.get_by_role("link", name="专项总览").first.click()  # the other tab's next interaction
    login_form(second)
    assert second.get_by_text("已退出登录").count() >= 1
    second.reload()
    login_form(second)  # and a refresh does not bring it back
    assert not any(c["name"] == COOKIE for c in context.cookies())
    context.close()


def test_a_deep_link_while_logged_out_shows_the_login_then_the_page(server, browser):
    base, _url = server
    context = browser.new_context(locale="zh-CN")
    page = open_page(context, base, "office_users")
    login_form(page)
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_text("not found", exact=False).count() == 0
    page.get_by_label("用户名").fill("office")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    logged_in(page)
    page.get_by_role("heading", name="用户管理").first.wait_for(timeout=LOADED_MS)
    assert page.url.rstrip("/").endswith("/office_users")
    assert page.get_by_text("not found", exact=False).count() == 0
    context.close()

    # Another role's page: said in Chinese, with the way home.
    context = browser.new_context(locale="zh-CN")
    page = open_page(context, base, "office_users")
    login_form(page)
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("无权访问此页面").first.wait_for(timeout=LOADED_MS)
    assert page.get_by_text("not found", exact=False).count() == 0
    page.get_by_role("link", name="返回首页").first.click()
    logged_in(page)  # the leader's first page, with its sidebar
    assert page.get_by_text("无权访问此页面").count() == 0
    context.close()


def _capture_ticket_url(page, button) -> str:
    """Click a download button but keep the browser from following the link the page hands it: the
    ticket URL, still unused."""
    page.evaluate(
        "() => { window.__held = []; window.__click = HTMLAnchorElement.prototype.click;"
        " HTMLAnchorElement.prototype.click = function () { window.__held.push(this.href); }; }"
    )
    button.click()
    page.wait_for_function("() => window.__held.length > 0", timeout=LOADED_MS)
    held = page.evaluate("() => { HTMLAnchorElement.prototype.click = window.__click; return window.__held[0]; }")
    settle(page)
    return held


def test_a_download_url_serves_once_only_to_the_login_that_asked_within_minutes(server, browser):
    from store.models import DownloadTicket
    from store.uow import UnitOfWork

    base, url = server
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = open_page(context, base)
    login(page, "office")
    page.goto(f"{base}/office_review")  # 审核队列: the department's submission and its PDF
    logged_in(page)
    button = page.get_by_role("button", name="附件：自查报告.pdf", exact=False).first
    with page.expect_download(timeout=LOADED_MS) as info:
        button.click()
    assert Path(info.value.path()).read_bytes() == PDF
    assert info.value.suggested_filename == "自查报告.pdf"
    used = info.value.url
    assert "/files/" in used and "/media/" not in used

    assert context.request.get(used).status == 403  # a second use, even by the same login
    ticket = _capture_ticket_url(page, button)
    stranger = browser.new_context(locale="zh-CN")
    refused = stranger.new_page()
    refused.goto(ticket)  # the URL copied into a browser without the login
    assert refused.get_by_text("登录状态下").count() == 1
    assert stranger.request.get(ticket).status == 403
    stranger.close()
    served = context.request.get(ticket)  # the refused attempts did not use it up
    assert served.status == 200 and served.body() == PDF
    assert served.headers["cache-control"] == "no-store"
    again = context.request.get(ticket)
    assert again.status == 403 and "已经使用过" in again.text()

    late = _capture_ticket_url(page, button)
    with UnitOfWork(url) as uow:  # minutes pass: the ticket's expiry is behind the server's clock
        uow.session.execute(update(DownloadTicket).values(expires_at=AT))
        uow.commit()
    expired = context.request.get(late)
    assert expired.status == 403 and "过期" in expired.text()
    context.close()


def test_a_user_disabled_while_the_page_is_open_cannot_download(server, browser):
    import io

    import openpyxl

    from domain.access import SYSTEM
    from services.users import disable_user
    from store.uow import UnitOfWork

    base, url = server
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = open_page(context, base)
    login(page, "dept_zjj")  # 我的任务, with its table's Excel download
    button = page.get_by_role("button", name="下载 Excel").first
    with page.expect_download(timeout=LOADED_MS) as info:
        button.click()
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert book.active.max_row > 1
    pending = _capture_ticket_url(page, button)

    with UnitOfWork(url) as uow:
        disable_user(uow.session, actor=SYSTEM, at=dt.datetime.now(dt.UTC), username="dept_zjj")
        uow.commit()
    refused = context.request.get(pending)  # a URL issued before, in the same browser
    assert refused.status == 403 and "停用" in refused.text()
    downloads: list[object] = []

    def started(download: object) -> None:  # Playwright wants a Python function, not a bound builtin
        downloads.append(download)

    page.on("download", started)
    button.click()  # the open page: the click logs the user out instead
    login_form(page)
    assert page.get_by_text("停用").count() >= 1
    page.wait_for_timeout(1000)
    assert downloads == []
    context.close()


def _listeners(port: int) -> list[str]:
    """Local addresses with a socket listening on `port` (from /proc/net/tcp{,6})."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


def test_campaign_dashboard_listens_on_loopback_and_sigterm_ends_the_whole_tree(tmp_path):
    """`campaign dashboard` (the server with its routes) on 127.0.0.1 only; one SIGTERM to the command
    ends it and the server it started."""
    import os
    import signal
    import sys

    url = f"sqlite:///{(tmp_path / 'tree.db').as_posix()}"
    prepare_database(url, tmp_path / "attachments")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env.update(CAMPAIGN_DATABASE_URL=url, CAMPAIGN_ATTACHMENT_DIR=str(tmp_path / "attachments"))
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "dashboard", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        healthy = wait_healthy(f"http://127.0.0.1:{port}", lambda: proc.poll() is None)
        assert healthy, (tmp_path / "dashboard.log").read_text()
        assert set(_listeners(port)) == {"0100007F"}, _listeners(port)  # 127.0.0.1, nothing else
        proc.send_signal(signal.SIGTERM)  # the command only, as a service manager would
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _listeners(port):
            assert time.monotonic() < deadline, "the dashboard server outlived its command"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
