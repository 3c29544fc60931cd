"""Start the dashboard: `streamlit run dashboard/app.py` as a subprocess on a database URL."""

from __future__ import annotations

import os
import subprocess
import sys
import webbrowser
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
    ]


def environment(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["CAMPAIGN_DATABASE_URL"] = db_url
    root = str(APP.parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run(db_url: str, port: int = 8501, open_browser: bool = False) -> int:
    """Block until the dashboard exits (Ctrl+C stops it); returns its exit code."""
    proc = subprocess.Popen(command(port), env=environment(db_url), cwd=str(APP.parents[1]))
    if open_browser:
        webbrowser.open(f"http://localhost:{port}")
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
