"""Every page of every role in Chromium reads in Chinese: none of Streamlit's or Plotly's English
interface strings on screen (uploader, form hint, menus, toolbars, chart dates such as "Jun 2020"), and
no raw department code where a person reads a heading, a label or the sidebar, and no campaign code
or account username anywhere (titles and names instead).

The real server and database of tests/e2e/test_browser.py (its `server` fixture); Debian's Chromium.
"""

from __future__ import annotations

import re

import pytest

from dashboard.navigation import PAGES
from domain.access import Role
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, DEPT, PASSWORD, server  # noqa: F401

pytestmark = pytest.mark.slow

ACCOUNTS = {Role.office: "office", Role.leader: "leader", Role.department: f"dept_{DEPT}"}
CAMPAIGN = "yanjiang-2020"  # people read the campaign's title, accounts by their names
ENGLISH = [  # Streamlit's and Plotly's own words, as they appeared before (issue 12)
    "Drag and drop",
    "Browse files",
    "200MB",
    "per file",
    "Press Enter",
    "Select all",
    "Page not found",
    "Deploy",
    "Rerun",
    "Running...",
    "Choose an option",
    "Download plot",
    "Skip to main content",
    "Upload",
    "No results",
    "Add row",
]
WORDS = re.compile(r"\b(None|nan|NaT|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")

# Visible text nodes (icons' ligature names excluded, as are elements hidden or 1px "screen-reader only"),
# and the tooltips and empty-field placeholders a person sees.
VISIBLE_TEXT = """
(scope) => {
  const root = scope ? document.querySelector(scope) : document.body;
  if (!root) return [];
  const out = [];
  const visible = (el) => {
    if (!el.checkVisibility({ visibilityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.nodeValue.trim();
    const el = n.parentElement;
    if (!t || !el || el.closest('[data-testid="stIconMaterial"], script, style, noscript') || !visible(el)) continue;
    out.push(t);
  }
  for (const el of root.querySelectorAll('[title], [data-title], input[placeholder], textarea[placeholder]')) {
    if (!visible(el)) continue;
    for (const a of ['title', 'data-title']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    if (el.placeholder && !el.value) out.push(el.placeholder);
  }
  return out;
}
"""
# Where a person reads names: headings, widget and metric labels, tabs, expanders, the sidebar.
LABELS = (
    "h1, h2, h3, h4, [data-testid='stWidgetLabel'], [data-testid='stMetricLabel'], [role='tab'],"
    " [data-testid='stExpander'] summary, [data-testid='stSidebarUserContent'] [data-testid='stCaptionContainer']"
)
LABEL_TEXT = """
(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.checkVisibility())
  .map((el) => el.innerText.trim())
  .filter(Boolean)
"""
CHARTS_DRAWN = """
() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
  .filter((el) => el.checkVisibility())
  .every((el) => el.querySelector('.main-svg'))
"""


LOADED_MS = 120_000  # a machine shared with other test runs can take long over one page


def settle(page) -> None:
    """Until the script run is over (the running indicator is gone), on a loaded machine too."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LOADED_MS)
    page.wait_for_timeout(700)


def sign_in(page, base: str, username: str, *, phone: bool = False) -> None:
    """Log in; on a phone the sidebar (with 退出登录) starts folded, so wait for its handle instead."""
    page.goto(base)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    ready = page.get_by_test_id("stExpandSidebarButton") if phone else page.get_by_text("退出登录")
    ready.wait_for(timeout=LOADED_MS)
    settle(page)


def department_codes(url: str) -> list[str]:
    from sqlalchemy import select

    from store.models import Department
    from store.uow import UnitOfWork

    with UnitOfWork(url) as uow:
        return sorted(set(uow.session.scalars(select(Department.code))))


def english_in(texts: list[str]) -> list[str]:
    found = [f"{s!r} in {t!r}" for t in texts for s in ENGLISH if s in t]
    found += [f"{m.group(0)!r} in {t!r}" for t in texts for m in WORDS.finditer(t)]
    return found


def codes_in(texts: list[str], codes: list[str]) -> list[str]:
    pattern = re.compile(r"(?<![A-Za-z0-9_-])(" + "|".join(map(re.escape, codes)) + r")(?![A-Za-z0-9_])")
    return [f"{m.group(0)!r} in {t!r}" for t in texts for m in pattern.finditer(t)]


def read_page(page) -> tuple[list[str], list[str]]:
    """What the page shows once its script and its charts are done: (all texts, label texts)."""
    page.wait_for_function(CHARTS_DRAWN, timeout=LOADED_MS)
    page.wait_for_timeout(500)
    return page.evaluate(VISIBLE_TEXT, None), page.evaluate(LABEL_TEXT, LABELS)


def open_dropdowns(page) -> list[str]:
    """Opens the first multiselect and selectbox of the page (their option lists speak too) and reads them."""
    texts: list[str] = []
    for test_id in ("stMultiSelect", "stSelectbox"):
        box = page.get_by_test_id(test_id).first
        if box.count() and box.is_visible():
            box.click()
            page.wait_for_timeout(400)
            texts += page.evaluate(VISIBLE_TEXT, "[data-baseweb='popover']")
            page.keyboard.press("Escape")
    return texts


def test_every_page_of_every_role_reads_in_chinese(server):  # noqa: F811 - the fixture imported above
    from playwright.sync_api import sync_playwright

    base, url = server
    codes = department_codes(url)
    assert DEPT in codes
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page = ctx.new_page()
            page.goto(base)
            page.get_by_label("用户名").wait_for(timeout=LOADED_MS)
            texts, labels = read_page(page)
            problems += [f"登录页: {p}" for p in english_in(texts)]
            ctx.close()
            walked = 0
            for role, username in ACCOUNTS.items():
                ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
                page = ctx.new_page()
                sign_in(page, base, username)
                for section in PAGES[role].values():
                    for _path, title, _icon in section:
                        page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
                        settle(page)
                        texts, labels = read_page(page)
                        texts += open_dropdowns(page)
                        where = f"{username} · {title}"
                        problems += [f"{where}: {p}" for p in english_in(texts)]
                        problems += [f"{where}: {p}" for p in codes_in(labels, codes)]
                        problems += [f"{where}: {p}" for p in codes_in(texts, [CAMPAIGN, *ACCOUNTS.values()])]
                        walked += 1
                ctx.close()
        finally:
            browser.close()
    assert walked == sum(len(s) for r in ACCOUNTS for s in PAGES[r].values())
    assert not problems, "\n".join(problems)
