"""The embedded engine's Prefect API server: Prefect's own app (`prefect.server.api.server:create_app`)
served by uvicorn on a free loopback port, exactly as Prefect's ephemeral mode runs it — but started
by this module, standard library only, so that the `campaign` command can start it first thing,
before it imports Prefect and its own code (cli.entry). Measured here: the server process takes ~4 s
to import and start, and Prefect's ephemeral mode also imports the whole server package into the
calling process first (~2-4 s) and only then starts the process and waits for it. One server per
process, reused by every flow it runs, ended with it (flows.api_server_process: even when the
process is killed). A Prefect API URL in the environment (a Prefect server in production) wins: then
none is started.

The resident engine: `campaign serve` runs all day, and its server is advertised in the Prefect home
(`campaign-engine.json`) while it lives. A short command with the same Prefect home and database
runs its flows on that server instead of starting one (measured: a Yanjiang `campaign tick` 4.0-4.2 ->
2.6-2.9 s), after checking that the process is alive and the server answers. A long-running process
always owns its server, so that another's exit cannot take its engine away.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
        self._advertised = False
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

    def advertise(self) -> None:
        """Offer this server to the short commands of this Prefect home while this process lives (the
        module's docstring); the offer is withdrawn at exit. Idempotent."""
        if self._advertised:
            return
        assert self.process is not None
        advert = {"pid": os.getpid(), "url": self.api_url, "identity": database_identity()}
        path = advert_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_text(json.dumps(advert), encoding="utf-8")
        scratch.chmod(0o600)
        os.replace(scratch, path)  # a reader sees the old offer or the new one, never half of one
        self._advertised = True
        atexit.register(self._withdraw)  # atexit runs last-in first: withdrawn before the server stops

    def _withdraw(self) -> None:
        path = advert_path()
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


ADVERT_NAME = "campaign-engine.json"
# What decides which Prefect database a server uses: only a command whose values are the same may use it.
_IDENTITY_VARIABLES = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL")


def advert_path() -> Path:
    """Where the resident engine is offered: in the Prefect home (Prefect's default, ~/.prefect)."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser() / ADVERT_NAME


def database_identity() -> str:
    """A digest of those values: a database URL may hold a password, which the offer must not show."""
    values = json.dumps({name: os.environ.get(name, "") for name in _IDENTITY_VARIABLES}, sort_keys=True)
    return hashlib.sha256(values.encode()).hexdigest()


@dataclass(frozen=True)
class ResidentServer:
    """Another process's API server (`campaign serve`'s), found answering: nothing to wait for."""

    api_url: str
    pid: int

    def wait_ready(self, timeout_s: float) -> None:
        return None


class EngineServer(Protocol):
    """What a command needs of the server its flows run on."""

    @property
    def api_url(self) -> str: ...

    def wait_ready(self, timeout_s: float) -> None: ...


def resident_server() -> ResidentServer | None:
    """The advertised server, if it may be trusted and used: the offer is this user's own and nobody
    else may write it, names a loopback server on the same Prefect database, its process is alive and
    the server answers now. Anything else (no offer, a stale one, a server going down): None."""
    path = advert_path()
    try:
        info = path.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022 or path.parent.stat().st_mode & 0o002:
            return None
        advert = json.loads(path.read_text(encoding="utf-8"))
        pid, url = int(advert["pid"]), str(advert["url"])
        if advert.get("identity") != database_identity() or not url.startswith("http://127.0.0.1:"):
            return None
        os.kill(pid, 0)  # alive (ProcessLookupError otherwise)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ResidentServer(url, pid) if _answers(url) else None


def _answers(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


_started: list[ApiServer] = []  # this process's own server, once started
_resident: list[ResidentServer] = []  # or the resident engine it uses


def start_api_server(*, use_resident: bool = False) -> EngineServer | None:
    """The server this process's flows run on: None when the environment names a Prefect API; with
    `use_resident` (a short command), the resident engine if one answers; else this process's own,
    started now if it is not running — return at once, the caller goes on while it starts."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if _resident:
        if _answers(_resident[-1].api_url):  # asked again before every flow: `serve` may have stopped since
            return _resident[-1]
        _resident.clear()  # from now on this process runs its flows on its own server
        return own_api_server()
    if not _started and use_resident and (found := resident_server()) is not None:
        _resident.append(found)
        return found
    return own_api_server()


def lost_resident() -> ResidentServer | None:
    """The resident engine this process was running its flows on, if it no longer answers (its `serve`
    stopped while a flow ran): what a command that failed then tells its user."""
    if _resident and not _answers(_resident[-1].api_url):
        return _resident[-1]
    return None


def own_api_server() -> ApiServer:
    """This process's own server, started now if it is not running."""
    if not _started or _started[-1].process is None or _started[-1].process.poll() not in (None, _PORT_TAKEN):
        _started.append(ApiServer())
    return _started[-1]
