"""The embedded engine's Prefect API server (flows.runtime): one real uvicorn process per command,
started before the command's imports, reused by every flow the command runs, gone when the command
ends — even when the command is killed — and never started when a Prefect API is named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, seeded_prefect_home

pytestmark = pytest.mark.slow

# A command that starts the server, runs two flows on the embedded engine and prints what it used.
TWO_FLOWS = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from flows.runtime import embedded_engine, start_api_server
    server = start_api_server()
    print("server", server.process.pid, flush=True)
    from prefect import flow
    from prefect.settings import PREFECT_API_URL

    @flow
    def probe() -> str:
        return PREFECT_API_URL.value()

    with embedded_engine():
        first = probe()
    with embedded_engine():
        second = probe()
    print("urls", first, second, server.api_url, flush=True)
    """
)

# A command killed (SIGKILL: no atexit) while its server is up.
KILLED = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from flows.runtime import start_api_server
    server = start_api_server()
    server.wait_ready(120)
    print(server.process.pid, flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def prefect_home(tmp_path: Path, prefect_database_template: Path) -> Path:
    return seeded_prefect_home(tmp_path / "prefect", prefect_database_template)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(home), **extra}


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie (exited, not yet reaped by init) counts as gone
        status = Path(f"/proc/{pid}/status")
        if status.exists() and "\nState:\tZ" in status.read_text():
            return True
        time.sleep(0.1)
    return False


def test_one_server_serves_every_flow_of_a_command_and_ends_with_it(prefect_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", TWO_FLOWS.format(root=str(ROOT))],
        env=_env(prefect_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    first, second, own = lines["urls"].split()
    assert first == second == own and own.startswith("http://127.0.0.1:")
    assert _gone(int(lines["server"]), 10)


def test_a_killed_command_leaves_no_server_behind(prefect_home: Path) -> None:
    command = subprocess.Popen(
        [sys.executable, "-c", KILLED.format(root=str(ROOT))],
        env=_env(prefect_home),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert command.stdout is not None
        server_pid = int(command.stdout.readline())
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=30)
        assert _gone(server_pid, 20)
    finally:
        command.kill()


def test_a_named_prefect_api_is_used_and_no_server_is_started(prefect_home: Path) -> None:
    probe = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, {root!r})
        from flows.runtime import start_api_server
        print(start_api_server())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe.format(root=str(ROOT))],
        env=_env(prefect_home, PREFECT_API_URL="http://127.0.0.1:9/api"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == "None", done.stderr
