"""In Debian's Chromium through Playwright: the leader writes a 批示 asking 区住建局 to act, and the department
sees the new task in 我的任务 and the instruction on its 领导批示 page; the leader then sees it pending.

The server, browser and waits are tests/e2e/browser_support.py's (never downloads a browser)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from domain.access import SYSTEM
from services.campaigns import launch
from services.spec_files import load_spec
from store.db import make_engine
from store.migrate import upgrade
from store.uow import UnitOfWork
from tests.conftest import SPEC_PATH, add_accounts, run_tick
from tests.e2e.browser_support import LOADED_MS, SHOTS, chromium, dashboard, desk_page, go, settle, sign_in

pytestmark = pytest.mark.slow
AS_OF = dt.date(2020, 7, 6)
TEXT = "请住建局主要负责同志亲自研究逾期事项，逐项整改，按期报送结果。"


def prepare(url: str) -> None:
    upgrade(make_engine(url))
    spec = load_spec(SPEC_PATH)
    at = dt.datetime(2020, 5, 8, 1, 0, tzinfo=dt.UTC)
    with UnitOfWork(url) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=at)
        add_accounts(
            uow.session,
            (
                ("leader", "分管区领导 李区长", "leader", None),
                ("dept_zjj", "区住建局联络员", "department", "zjj"),
            ),
            at=at,
            campaign_code=spec.id,
        )
        uow.commit()
    engine = make_engine(url)
    for day in (dt.date(2020, 6, 17), AS_OF):
        run_tick(engine, spec.id, day)


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{(tmp_path / 'e2e.db').as_posix()}"
    prepare(url)
    with dashboard(url, AS_OF, tmp_path) as base:
        yield base


def test_leader_writes_an_instruction_and_the_department_sees_the_new_task(server):
    from playwright.sync_api import expect

    base = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=LOADED_MS)
    with chromium() as browser:
        ctx, page = desk_page(browser)
        sign_in(page, base, "leader")
        go(page, "领导批示")
        expect(page.get_by_role("heading", name="领导批示")).to_be_visible()
        expect(page.get_by_role("combobox", name="部门")).to_have_value("区住建局")
        page.get_by_label("批示内容").fill(TEXT)  # to 区住建局, the first member department, on its work
        page.get_by_role("button", name="发送批示").click()
        expect(page.get_by_text(re.compile(r"批示 1 已交办，办理期限 2020-07-13：区住建局"))).to_be_visible()
        settle(page)
        expect(page.get_by_text(TEXT)).to_be_visible()
        page.screenshot(path=str(SHOTS / "leader-instruction.png"))
        ctx.close()

        ctx, page = desk_page(browser)
        sign_in(page, base, "dept_zjj")
        expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
        page.get_by_role("combobox", name="选择任务").click()
        page.keyboard.type("领导批示")  # the list is long: filter it as a user would
        expect(
            page.get_by_role("option", name=re.compile(r"领导批示交办事项 · 批示1（截止 2020-07-13）"))
        ).to_be_visible()
        page.keyboard.press("Escape")
        go(page, "领导批示")
        expect(page.get_by_role("heading", name="领导批示")).to_be_visible()
        expect(page.get_by_text(TEXT)).to_be_visible()
        expect(page.get_by_text(re.compile("已交办为任务"))).to_be_visible()
        page.screenshot(path=str(SHOTS / "department-instruction.png"))
        ctx.close()
