"""The embedded engine's Prefect API server: Prefect's own app (`prefect.server.api.server:create_app`)
served by uvicorn on a free loopback port, exactly as Prefect's ephemeral mode runs it — but started
by this module, standard library only, so that the `campaign` command can start it first thing,
before it imports Prefect and its own code (cli.entry). Measured here: the server process takes ~4 s
to import and start, and Prefect's ephemeral mode also imports the whole server package into the
calling process first (~2-4 s) and only then starts the process and waits for it. One server per
process, reused by every flow it runs, ended with it (flows.api_server_process: even when the
process is killed). A Prefect API URL in the environment (a Prefect server in production) wins: then
none is started.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

# Measured here: with the task-run recorder and event persister on, the ephemeral server's own
# SQLite file is written by several services at once and ticks stall on 'database is locked'
# (0.4 s to 70 s for the same tick). The application's tables are the record, so the embedded
# engine does not persist task runs or events.
_EMBEDDED_SERVER_SERVICES_OFF = (
    "TASK_RUN_RECORDER",
    "EVENT_PERSISTER",
    "TRIGGERS",
    "SCHEDULER",
    "LATE_RUNS",
    "FOREMAN",
)


def embedded_values() -> dict[str, Any]:
    """The embedded engine's Prefect settings by their environment names; a value the operator set in
    the environment wins (these only fill what is unset)."""
    wanted: dict[str, Any] = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": False,
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": 60,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        **{f"PREFECT_SERVER_SERVICES_{name}_ENABLED": False for name in _EMBEDDED_SERVER_SERVICES_OFF},
    }
    return {name: value for name, value in wanted.items() if name not in os.environ}


_SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
_PORT_TAKEN = 3  # uvicorn's exit status when its port was taken meanwhile (Prefect retries likewise)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class ApiServer:
    """This process's Prefect API server (see the module's docstring); `wait_ready` before use."""

    def __init__(self, environment: dict[str, str] | None = None) -> None:
        """`environment`: more variables for the server process (a test harness names its own database)."""
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._environment = environment or {}
        self._spawn()
        atexit.register(self.stop)

    def _spawn(self) -> None:
        self.port = _free_port()
        env = {**os.environ, **_SERVER_ENV, **{k: _env_text(v) for k, v in embedded_values().items()}}
        env.update(self._environment)
        command = [sys.executable, "-m", "flows.api_server_process", str(os.getpid())]
        command += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code == _PORT_TAKEN:
                self._spawn()
                continue
            if code is not None:
                raise RuntimeError(f"Prefect API server exited with status {code} while starting")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"Prefect API server did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        """At exit (Prefect's own exit handlers, registered later, have drained to it by then): ask the
        server to stop and leave at once — waiting for uvicorn's graceful shutdown cost a second at the
        end of every command. It exits by itself; the kernel's init reaps it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()


_started: list[ApiServer] = []  # this process's server, once started


def start_api_server() -> ApiServer | None:
    """Start this process's Prefect API server if none is running and the environment names no Prefect
    API (then None); return at once — the caller goes on with its own work while the server starts."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if not _started or _started[-1].process is None or _started[-1].process.poll() not in (None, _PORT_TAKEN):
        _started.append(ApiServer())
    return _started[-1]
