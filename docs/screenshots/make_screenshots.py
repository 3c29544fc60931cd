"""Refresh the screenshots in docs/screenshots: each role's pages on a desk (1440×1000) and on a phone
(390×844), from the browser tests' database (yanjiang-2020 simulated to 2020-07-06) served by the real
launcher command, in Debian's Chromium.

Run from the project root: `.venv/bin/python docs/screenshots/make_screenshots.py` (about two minutes).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.launcher import command, environment  # noqa: E402
from settings import Settings  # noqa: E402
from tests.e2e.browser_support import (  # noqa: E402
    AS_OF,
    CHROMIUM,
    CHROMIUM_ARGS,
    DEPT,
    LOADED_MS,
    prepare_database,
    settle,
    sign_in,
)
from tests.machine import ensure_browser, free_port  # noqa: E402

OUT = Path(__file__).resolve().parent
DESK = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}
# account -> [(page title in the sidebar, or None for the landing page; file stem)]
SHOTS: dict[str, list[tuple[str | None, str]]] = {
    "office": [(None, "office"), ("线索办理", "office-leads")],
    "leader": [(None, "leader"), ("部门进度", "leader-departments")],
    f"dept_{DEPT}": [(None, "department"), ("消息", "department-inbox")],
}
CHARTS_DRAWN = """
() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
  .filter((el) => el.checkVisibility())
  .every((el) => el.querySelector('.main-svg'))
"""


def serve(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    url = f"sqlite:///{(workdir / 'shots.db').as_posix()}"
    prepare_database(url)
    settings = Settings(
        database_url=url,
        as_of=AS_OF,
        attachment_dir=workdir / "attachments",
        log_dir=workdir / "logs",
        dashboard_port=free_port(),
    )
    proc = subprocess.Popen(
        command(settings), env=environment(settings), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{settings.dashboard_port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the dashboard did not start")


def go_to(page: Any, title: str | None, phone: bool) -> None:
    if title is None:
        return
    if phone:  # the sidebar starts folded on a phone
        page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    settle(page)


def shoot(browser: Any, base: str, username: str, shots: list[tuple[str | None, str]]) -> list[Path]:
    made = []
    for viewport, suffix in ((DESK, ""), (PHONE, "-phone")):
        phone = viewport is PHONE
        ctx = browser.new_context(
            viewport=viewport, locale="zh-CN", is_mobile=phone, has_touch=phone, device_scale_factor=1
        )
        page = ctx.new_page()
        sign_in(page, base, username, phone=phone)
        for title, stem in shots:
            go_to(page, title, phone)
            page.wait_for_function(CHARTS_DRAWN, timeout=LOADED_MS)
            page.wait_for_timeout(800)
            path = OUT / f"{stem}{suffix}.png"
            page.screenshot(path=str(path))
            made.append(path)
        ctx.close()
    return made


def main() -> None:
    from playwright.sync_api import sync_playwright

    ensure_browser()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = serve(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for username, shots in SHOTS.items():
                        for path in shoot(browser, base, username, shots):
                            print(path.relative_to(ROOT))
                finally:
                    browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
