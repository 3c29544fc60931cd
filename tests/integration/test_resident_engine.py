"""The resident engine (flows.api_server): a short command uses the API server `campaign serve` offers in the
Prefect home only when the offer can be trusted — this user's own file that nobody else may write, a loopback
server on the same Prefect database, a live process, a server that answers now. Anything else and the command
starts its own, as it always did. A real HTTP server on loopback stands in for the API server's health check
here; tests/integration/test_serve.py runs the real `campaign serve` and a `campaign tick` on its engine."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows import api_server
from flows.api_server import (
    ADVERT_NAME,
    ResidentServer,
    database_identity,
    lost_resident,
    resident_server,
    start_api_server,
)
from tests.cli_support import console_script
from tests.conftest import ROOT, launched_sqlite_file


class _Health(http.server.BaseHTTPRequestHandler):
    """Answers the health check (a `serve` that stops after `health_checks` of them stops listening)."""

    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")
        if self.path == "/api/health":
            server.checks += 1
            if server.checks == server.stop_after:
                threading.Thread(target=server.stop, daemon=True).start()

    def log_message(self, *args: object) -> None:
        return None


class _Server(http.server.ThreadingHTTPServer):
    checks = 0
    stop_after = 0  # never

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _serving(stop_after: int = 0) -> _Server:
    server = _Server(("127.0.0.1", 0), _Health)
    server.stop_after = stop_after
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/api"


@pytest.fixture
def answering_url() -> Iterator[str]:
    server = _serving()
    try:
        yield _url(server)
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Prefect home of this test's own; no Prefect API named, no server started or found yet."""
    home = tmp_path / "prefect-home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    for name in ("PREFECT_API_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(api_server, "_started", [])
    monkeypatch.setattr(api_server, "_resident", [])
    return home


def offer(home: Path, url: str, *, pid: int | None = None, mode: int = 0o600, **changes: object) -> Path:
    """An offer as ApiServer.advertise writes it, with `changes` to its fields."""
    advert: dict[str, object] = {
        "pid": os.getpid() if pid is None else pid,
        "url": url,
        "identity": database_identity(),
    }
    advert.update(changes)
    path = home / ADVERT_NAME
    path.write_text(json.dumps(advert), encoding="utf-8")
    path.chmod(mode)
    return path


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_trusted_offer_is_used_and_no_server_is_started(home: Path, answering_url: str) -> None:
    offer(home, answering_url)
    assert resident_server() == ResidentServer(answering_url, os.getpid())
    found = start_api_server(use_resident=True)
    assert found == ResidentServer(answering_url, os.getpid())
    assert api_server._started == []  # no process of its own
    assert start_api_server() is found  # every later flow of the command runs on it too


def test_a_long_running_command_never_uses_anothers_engine(home: Path, answering_url: str) -> None:
    offer(home, answering_url)
    server = start_api_server(use_resident=False)
    try:
        assert isinstance(server, api_server.ApiServer) and server.api_url != answering_url
    finally:
        assert isinstance(server, api_server.ApiServer)
        server.stop()


@pytest.mark.parametrize(
    "why",
    [
        "others may write it",
        "its process is gone",
        "another Prefect database",
        "not on loopback",
        "nothing answers",
        "not an offer",
        "no offer",
    ],
)
def test_an_offer_that_cannot_be_trusted_is_not_used(
    home: Path, answering_url: str, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if why == "others may write it":
        offer(home, answering_url, mode=0o622)
    elif why == "its process is gone":
        offer(home, answering_url, pid=dead_pid())
    elif why == "another Prefect database":
        monkeypatch.setenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite:///other.db")
        offer(home, answering_url, identity=database_identity())
        monkeypatch.delenv("PREFECT_SERVER_DATABASE_CONNECTION_URL")
    elif why == "not on loopback":
        offer(home, answering_url.replace("127.0.0.1", "192.0.2.1"))
    elif why == "nothing answers":
        offer(home, answering_url.replace("/api", "/elsewhere"))
    elif why == "not an offer":
        (home / ADVERT_NAME).write_text("{not json", encoding="utf-8")
        (home / ADVERT_NAME).chmod(0o600)
    assert resident_server() is None


def test_the_offer_is_written_whole_and_withdrawn_when_its_process_ends(tmp_path: Path) -> None:
    """The serve side: ApiServer.advertise in a process of its own; gone from the home when it exits."""
    home = tmp_path / "prefect-home"
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from flows.api_server import ApiServer\n"
        "server = ApiServer()\n"
        "server.advertise(); server.advertise()\n"  # idempotent
        f"print(open({str(home / ADVERT_NAME)!r}).read(), flush=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "PREFECT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    advert = json.loads(done.stdout)
    assert advert["url"].startswith("http://127.0.0.1:") and isinstance(advert["pid"], int)
    assert len(advert["identity"]) == 64  # a digest: a Prefect database URL's password is not written down
    assert not (home / ADVERT_NAME).exists()
    assert not [p.name for p in home.iterdir() if p.name.startswith(".")]  # no scratch copy left behind


def test_an_engine_that_stopped_since_is_dropped_and_the_next_flow_runs_on_a_server_of_its_own(home: Path) -> None:
    server = _serving()
    offer(home, _url(server))
    assert isinstance(start_api_server(use_resident=True), ResidentServer)
    server.stop()  # `serve` stopped between two flows of the command
    assert lost_resident() is not None  # what the command would say if a flow were running on it now
    own = start_api_server()
    try:
        assert isinstance(own, api_server.ApiServer)
        assert lost_resident() is None  # it runs on its own from now on
    finally:
        assert isinstance(own, api_server.ApiServer)
        own.stop()


def test_a_command_whose_engine_stops_while_its_flow_runs_says_so(home: Path, tmp_path: Path) -> None:
    """`campaign tick` as the console script runs it, on an engine that answers its two health checks (finding it,
    and again before the flow) and then stops listening: the user reads what happened and that re-running is safe,
    not an internal error; the traceback is in the log."""
    url = launched_sqlite_file(tmp_path / "campaign.db")
    server = _serving(stop_after=2)
    offer(home, _url(server))
    done = console_script(
        "tick", "--as-of", "2020-06-23", cwd=tmp_path, prefect_home=home, db_url=url, data_dir=tmp_path / "data"
    )
    assert done.returncode == 1, done.stderr
    assert f"常驻引擎已停止：本命令的流程运行在 campaign serve（进程 {os.getpid()}）" in done.stderr, done.stderr
    assert "重新运行本命令即可" in done.stderr
    assert "内部错误" not in done.stderr and "Traceback" not in done.stderr
    incident = done.stderr.rsplit("事件编号 ", 1)[1][:12]
    assert f"=== 事件 {incident}" in (tmp_path / "data" / "logs" / "campaign.log").read_text(encoding="utf-8")
