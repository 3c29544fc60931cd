"""The edge of every flow, and the process-wide Prefect set-up for the embedded engine.

Flows take `as_of`, `db_url` (a string) and, where it matters, the acting user; a flow started
without them (a deployment's cron run) resolves them here from the one settings object. Nothing
below a flow reads the clock or the environment.

The embedded engine's Prefect settings are applied with `prefect.settings.temporary_settings`,
never by writing `os.environ`; its API server process gets the same settings as environment
variables when it is started.

The API server is Prefect's own app (`prefect.server.api.server:create_app`) served by uvicorn on a
free loopback port, exactly as Prefect's ephemeral mode runs it — but started by this module
(`start_api_server`), so that a command can start it before it imports Prefect and its own code:
measured here, the server process takes ~4 s to import and start, and Prefect's ephemeral mode also
imports the whole server package into the calling process first (~2-4 s) and only then starts the
process and waits for it. A Prefect API URL the operator (or a test harness) chose wins: then no
server is started.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from settings import Settings, load_settings
from store import audit


def flow_settings(settings_or_db_url: Settings | str | None) -> Settings:
    """The settings a flow runs with: the given object, or the environment's with this database URL.
    Where the audit chain keeps its key and anchor follows them (store.audit.configure)."""
    if isinstance(settings_or_db_url, Settings):
        settings = settings_or_db_url
    else:
        settings = load_settings(database_url=settings_or_db_url or None)
    audit.configure(settings)
    return settings


def flow_edge(
    db_url: str | None, as_of: dt.date | None = None, at: dt.datetime | None = None
) -> tuple[str, dt.date, dt.datetime]:
    """(database URL, day, moment) for a flow: what was passed, else from the settings and the clock."""
    if db_url is not None and as_of is not None and at is not None:
        return db_url, as_of, at
    settings = flow_settings(db_url)
    return settings.db_url, as_of or settings.today(), at or settings.now()


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


def _embedded_values() -> dict[str, Any]:
    """The embedded engine's Prefect settings by their environment names; a value the operator set in
    the environment wins (these only fill what is unset)."""
    wanted: dict[str, Any] = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": False,
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": 60,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        **{f"PREFECT_SERVER_SERVICES_{name}_ENABLED": False for name in _EMBEDDED_SERVER_SERVICES_OFF},
    }
    return {name: value for name, value in wanted.items() if name not in os.environ}


def embedded_settings() -> dict[Any, Any]:
    """Prefect settings for the in-process engine (not for a Prefect server with workers).

    Heartbeats let a Prefect server spot crashed runs of workers; in-process they only cost a join
    of up to 1 s at the end of every flow run (measured: 1.1 s -> 0.1 s per flow)."""
    import prefect.settings as ps

    updates: dict[Any, Any] = {getattr(ps, name): value for name, value in _embedded_values().items()}
    updates[ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    return updates


# --------------------------------------------------------------------------- the API server


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

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._spawn()
        atexit.register(self.stop)

    def _spawn(self) -> None:
        self.port = _free_port()
        env = {**os.environ, **_SERVER_ENV, **{k: _env_text(v) for k, v in _embedded_values().items()}}
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
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_started: list[ApiServer] = []  # this process's server, once started


def start_api_server() -> ApiServer | None:
    """Start this process's Prefect API server if none is running and the environment names no Prefect
    API (then None); return at once — the caller goes on with its own work while the server starts."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if not _started or _started[-1].process is None or _started[-1].process.poll() not in (None, _PORT_TAKEN):
        _started.append(ApiServer())
    return _started[-1]


@contextlib.contextmanager
def embedded_prefect_settings() -> Iterator[None]:
    """The embedded engine's Prefect settings and log levels, without choosing its API server (a test
    harness brings its own)."""
    from prefect.settings import temporary_settings

    if "PREFECT_LOGGING_LEVEL" not in os.environ:
        # Prefect configured its loggers when it was imported; its run loggers inherit this level.
        logging.getLogger("prefect").setLevel(logging.WARNING)
    # The ephemeral server logs noisy cancellation tracebacks while shutting down at exit.
    logging.getLogger("prefect.server").setLevel(logging.CRITICAL)
    # Prefect's background workers (root-level loggers named after their class) print an English
    # "Still processing items: N items remaining..." while they drain at exit: nothing a user can act on.
    for worker in ("EventsWorker", "APILogWorker"):
        logging.getLogger(worker).setLevel(logging.ERROR)
    with temporary_settings(updates=embedded_settings()):
        yield


@contextlib.contextmanager
def embedded_engine() -> Iterator[None]:
    """Run flows in-process on the embedded engine, set up as measured above: on this process's API
    server unless a Prefect API URL is already set."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

    with contextlib.ExitStack() as stack:
        stack.enter_context(embedded_prefect_settings())
        if not PREFECT_API_URL.value():
            server = start_api_server()
            if server is not None:
                server.wait_ready(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
                stack.enter_context(temporary_settings(updates={PREFECT_API_URL: server.api_url}))
        yield
