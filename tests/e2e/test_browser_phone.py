"""The dashboard on a phone (390×844) in Chromium: the department's task list and the leader's overview
are cards that show due dates and completion (the wide tables are hidden), and the sidebar folds away
after a page is picked. Saves phone screenshots beside the desk ones (test_browser.SHOTS).

The simulated campaign of tests/e2e/test_browser.py on a fresh copy (tests/e2e/browser_support.py).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.browser_support import (
    AS_OF,
    DEPT,
    LOADED_MS,
    SHOTS,
    chromium,
    dashboard,
    settle,
    sign_in,
    simulated_database,
)

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(tmp_path, tmp_path_factory):
    url = simulated_database(tmp_path_factory, tmp_path / "e2e.db")
    with dashboard(url, AS_OF, tmp_path) as base:
        yield base, url


def phone_page(browser):
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    return ctx, ctx.new_page()


def test_phone_shows_cards_with_due_dates_and_completion(server):
    from playwright.sync_api import expect

    base, _url = server
    expect.set_options(timeout=LOADED_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        # The department's tasks: cards with 截止 dates, not the wide table.
        ctx, page = phone_page(browser)
        sign_in(page, base, f"dept_{DEPT}", phone=True)
        expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
        cards = page.locator("[class*='st-key-phone_my_tasks'] .cm-card")
        expect(cards.first).to_be_visible()
        assert re.search(r"截止", cards.first.inner_text()), cards.first.inner_text()
        expect(page.locator("[class*='st-key-wide_my_tasks']")).to_be_hidden()
        settle(page)
        page.screenshot(path=str(SHOTS / "department-phone.png"))

        # Picking a page in the sidebar folds the sidebar away.
        page.get_by_test_id("stExpandSidebarButton").click()
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav).to_be_visible()
        nav.get_by_role("link", name="消息", exact=True).click()
        expect(page.get_by_role("heading", name="消息")).to_be_visible(timeout=LOADED_MS)
        settle(page)
        expect(nav).to_be_hidden()
        ctx.close()

        # The leader's overview: one card per department with its completion.
        ctx, page = phone_page(browser)
        sign_in(page, base, "leader", phone=True)
        board = page.locator("[class*='st-key-phone_overview_departments'] .cm-card")
        expect(board.first).to_be_visible()
        text = board.first.inner_text()
        assert "完成率" in text and re.search(r"\d+(\.\d)?%", text), text
        phases = page.locator("[class*='st-key-phone_gantt'] .cm-card")
        expect(phases.first).to_be_visible()
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", phases.first.inner_text()), phases.first.inner_text()
        settle(page)
        page.screenshot(path=str(SHOTS / "leader-phone.png"))
        ctx.close()
