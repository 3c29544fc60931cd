"""Start the dashboard: `streamlit run dashboard/server.py` (app.py plus the dashboard's own routes) as a child
process with our settings.

The child gets its settings through `Settings.child_environment()` (this process's environment is
never written), listens on `settings.dashboard_address` (127.0.0.1 unless configured) and runs in a
process group of its own: SIGTERM or Ctrl+C to the launcher ends the whole group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import webbrowser
from pathlib import Path
from types import FrameType

from settings import Settings

APP = Path(__file__).resolve().parent / "server.py"  # app.py behind the dashboard's own routes
ROOT = APP.parents[1]
STOP_TIMEOUT_S = 10


def command(settings: Settings, port: int | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        settings.dashboard_address,
        "--server.port",
        str(port or settings.dashboard_port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        # Streamlit's English "You can now view your Streamlit app in your browser": `campaign` says where the
        # dashboard is, in Chinese (看板：http://…)
        "--logger.hideWelcomeMessage",
        "true",
    ]


def environment(settings: Settings) -> dict[str, str]:
    """The child's environment: our settings, and the project root importable."""
    env = settings.child_environment()
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def start(settings: Settings, port: int | None = None) -> subprocess.Popen[bytes]:
    """The Streamlit child in a new session (its own process group, so it can be ended as a tree)."""
    return subprocess.Popen(command(settings, port), env=environment(settings), cwd=str(ROOT), start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> int:
    """End the child's process group: SIGTERM, then SIGKILL after STOP_TIMEOUT_S; returns its exit code."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


def run(settings: Settings, port: int | None = None, open_browser: bool = False) -> int:
    """Block until the dashboard exits; SIGTERM or Ctrl+C to this process ends it. Returns its exit code."""
    proc = start(settings, port)

    def terminate(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        if open_browser:
            webbrowser.open(f"http://{settings.dashboard_address}:{port or settings.dashboard_port}")
        return proc.wait()
    except KeyboardInterrupt:
        return stop(proc)
    finally:
        signal.signal(signal.SIGTERM, previous)
