"""The `campaign` command as users run it: real processes, a real SQLite file, exit codes and messages.

The demo (the README's main job) runs end to end, dashboard included, in the slow tier.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from services.spec_files import load_spec
from store.migrate import head_revision
from tests.cli_support import PREFECT_HOME, run_cli
from tests.conftest import ROOT, SPEC_PATH, planned
from tests.machine import free_port

EXAMPLES = sorted((ROOT / "config" / "campaigns").glob("*.yaml"))


def campaign(
    *args: str,
    cwd: Path,
    db: Path | None = None,
    timeout: float = 300,
    extra_env: dict[str, str] | None = None,
    module: str = "cli.main",
) -> subprocess.CompletedProcess:
    """`campaign *args` as a process; module="cli.entry" is the console script's own code path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "PREFECT_API_URL"))}
    env.update(extra_env or {})
    env.setdefault("PREFECT_HOME", str(PREFECT_HOME))
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    if db is not None:
        env["CAMPAIGN_DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]


def test_validate_names_file_line_and_column_of_each_mistake(tmp_path):
    broken = tmp_path / "broken.yaml"
    text = SPEC_PATH.read_text(encoding="utf-8")
    text = text.replace("office: fgj\n", "office: fgj\nowner: 张三\n", 1)  # unknown key
    text = text.replace("due: 2020-06-20          #", "due: 2020-06-31          #", 1)  # no such day
    broken.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    owner_line = lines.index("owner: 张三") + 1

    proc = campaign("validate", str(broken), str(SPEC_PATH), cwd=tmp_path)

    assert proc.returncode == 2
    no_traceback(proc)
    assert f"{broken}:{owner_line}:1: owner:" in proc.stderr
    bad_day_line = next(i for i, line in enumerate(lines, 1) if "2020-06-31" in line)
    assert f"{broken}:{bad_day_line}:" in proc.stderr and "phases[1].tasks[0].due" in proc.stderr
    assert f"{SPEC_PATH}: 通过" in proc.stdout  # the good file is still checked and reported


def test_every_example_campaign_validates(tmp_path):
    proc = campaign("validate", *map(str, EXAMPLES), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("通过") == len(EXAMPLES) >= 2


def test_broken_yaml_syntax_and_bad_arguments_are_messages_not_tracebacks(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nphases: [\n", encoding="utf-8")
    proc = campaign("validate", str(bad), cwd=tmp_path)  # as a process: the exit status the shell sees
    assert proc.returncode == 2 and proc.stderr.startswith(f"{bad}:")
    no_traceback(proc)

    def cli(*argv: str, db: Path | None = None):  # the rest in-process: same argv, exit code and output
        return run_cli(*argv, env={"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}"} if db else {}, **fixtures)

    fixtures = {"monkeypatch": monkeypatch, "capsys": capsys}
    monkeypatch.chdir(tmp_path)
    proc = cli("tick", "--as-of", "2020-13-01")
    assert proc.returncode == 2 and "--as-of" in proc.stderr and "YYYY-MM-DD" in proc.stderr
    proc = cli("plan", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2 and "missing.yaml" in proc.stderr
    empty = tmp_path / "empty.db"
    proc = cli("status", "--campaign", "nope", db=empty)
    assert proc.returncode == 2 and "campaign db upgrade" in proc.stderr  # not migrated: says what to run
    upgraded = cli("db", "upgrade", db=empty)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "（空库）" in upgraded.stdout and head_revision() in upgraded.stdout
    again = cli("db", "upgrade", db=empty)
    assert again.returncode == 0 and "已是最新" in again.stdout
    proc = cli("status", "--campaign", "nope", db=empty)
    assert proc.returncode == 2 and "nope" in proc.stderr


INTERNAL_ERROR = """
import sys
import cli.campaign_commands as commands
import cli.main

def broken(args):
    return {}["a key the code forgot"]  # a bug, not the user's mistake

commands.cmd_schema = broken
sys.exit(cli.main.main(["schema"]))
"""


def test_a_bug_is_one_line_with_an_incident_id_and_the_traceback_goes_to_the_log(tmp_path):
    logs = tmp_path / "logs"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env["CAMPAIGN_LOG_DIR"] = str(logs)
    proc = subprocess.run(
        [sys.executable, "-c", INTERNAL_ERROR], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    match = re.fullmatch(r"内部错误（事件编号 ([0-9a-f]+)），详细信息已写入 (.+)", line)
    assert match, line
    incident, log_path = match.groups()
    assert Path(log_path) == logs / "campaign.log"
    logged = Path(log_path).read_text(encoding="utf-8")
    assert f"事件 {incident}" in logged and "Traceback" in logged and "a key the code forgot" in logged
    assert "KeyError" not in proc.stdout + proc.stderr  # the user sees no internals


def test_a_user_mistake_is_its_message_with_exit_2_and_nothing_logged(tmp_path, monkeypatch, capsys):
    db = tmp_path / "mistake.db"
    env = {"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}", "CAMPAIGN_LOG_DIR": str(tmp_path / "logs")}
    fixtures = {"monkeypatch": monkeypatch, "capsys": capsys}
    assert run_cli("db", "upgrade", env=env, **fixtures).returncode == 0
    proc = run_cli("tick", "--campaign", "no-such-campaign", env=env, **fixtures)
    assert proc.returncode == 2 and proc.stderr.startswith("错误：") and "no-such-campaign" in proc.stderr
    assert not (tmp_path / "logs").exists()
    bad_setting = run_cli("status", env={**env, "CAMPAIGN_DASHBOARD_PORT": "not-a-port"}, **fixtures)
    assert bad_setting.returncode == 2 and "dashboard_port" in bad_setting.stderr


def test_an_unreachable_database_is_said_plainly(tmp_path):
    proc = campaign(
        "status", cwd=tmp_path, extra_env={"CAMPAIGN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    assert proc.returncode == 1 and "数据库不可用" in proc.stderr
    no_traceback(proc)


def test_schema_is_json_schema_an_editor_can_use(tmp_path):
    proc = campaign("schema", cwd=tmp_path)
    schema = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert {"phases", "departments", "escalation", "sampling"} <= set(schema["properties"])


def test_plan_lists_working_day_deadlines_per_department(tmp_path):
    proc = campaign("plan", str(SPEC_PATH), "--department", "zjj", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "区住建局" in proc.stdout and "2020-06-20" in proc.stdout and "报送自查报告" in proc.stdout


def test_launch_dry_run_tick_and_status_on_a_sqlite_file(tmp_path, prefect_harness, monkeypatch, capsys):
    """The launches in-process (tests/cli_support) on the session's Prefect engine; the tick and the status as
    processes, the tick on its own embedded engine as a user's `campaign tick` runs."""
    db = tmp_path / "campaign.db"
    env = {"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}"}
    monkeypatch.chdir(tmp_path)
    dry = run_cli("launch", str(SPEC_PATH), "--dry-run", env=env, monkeypatch=monkeypatch, capsys=capsys)
    assert dry.returncode == 0, dry.stderr
    assert f"新增任务 {len(planned(load_spec(SPEC_PATH)).assignments)} 项" in dry.stdout
    assert run_cli("status", env=env, monkeypatch=monkeypatch, capsys=capsys).returncode != 0  # nothing written

    assert run_cli("launch", str(SPEC_PATH), env=env, monkeypatch=monkeypatch, capsys=capsys).returncode == 0
    # As the console script runs it (cli.entry: its API server started first, its memory left to the system at
    # the end): the connections are closed first all the same, so SQLite has folded its WAL into the file.
    ticked = campaign(
        "tick", "--campaign", "yanjiang-2020", "--as-of", "2020-06-23", cwd=tmp_path, db=db, module="cli.entry"
    )
    assert ticked.returncode == 0, ticked.stderr
    assert "推进到 2020-06-23" in ticked.stdout
    assert not (tmp_path / "campaign.db-wal").exists()
    # Re-ticking the same day with nothing recorded since is settled without the engine: Prefect is not
    # even imported (the interpreter lists every module it imports on stderr).
    again = campaign("tick", "--as-of", "2020-06-23", cwd=tmp_path, db=db, extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert again.returncode == 0, again.stderr[-3000:]
    assert "推进到 2020-06-23：开启任务 0，逾期更新 0，新升级 0，新提醒 0（自上次推进到这一天以来" in again.stdout
    assert "没有新的记录" not in ticked.stdout
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in again.stderr.splitlines() if line.startswith("import time:")
    ]
    assert "sqlalchemy" in imported and not [m for m in imported if m.split(".")[0] == "prefect"]
    status = campaign("status", "--campaign", "yanjiang-2020", cwd=tmp_path, db=db)
    assert status.returncode == 0, status.stderr
    assert "截至 2020-06-23" in status.stdout and "区住建局" in status.stdout
    # nothing was submitted: the 动员部署 work due in May is > 10 working days late by now
    assert "约谈" in status.stdout and "严重滞后" in status.stdout


def serve_until_healthy(args: list[str], *, cwd: Path, timeout: float) -> str:
    """Run a `campaign` command that ends in a dashboard until the dashboard answers its health
    check, then SIGTERM its process group; returns everything it printed."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "PREFECT_API_URL"))}
    env.update(PREFECT_HOME=str(PREFECT_HOME), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    log = cwd / f"{args[0]}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args, "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            healthy = False
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        healthy = r.status == 200
                        break
                except OSError:
                    time.sleep(1)
            text = log.read_text()
            assert healthy, text[-3000:]
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    return text


@pytest.mark.slow
def test_demo_simulates_prints_status_and_serves_the_dashboard(tmp_path):
    """The README's first command, as a user runs it: everything ends in a live dashboard."""
    text = serve_until_healthy(["demo"], cwd=tmp_path, timeout=240)
    assert "Traceback" not in text
    assert "截至 2020-07-15" in text and "区住建局" in text
    assert "演示账号" in text and "dept-zjj" in text and "demo-pass-2020" in text
    assert "看板：http://" in text and "You can now view" not in text  # where the dashboard is, in Chinese only
    assert "导入监管项目" in text and "受理线索" in text
    assert (tmp_path / "data" / "demo.db").is_file()  # under the directory it was run from

    # A second demo keeps the first one's database (work done in the dashboard stays) ...
    again = campaign("demo", "--no-dashboard", cwd=tmp_path)
    no_traceback(again)
    assert again.returncode == 0 and "沿用上次的演示数据库" in again.stdout and "重新生成" not in again.stdout
    assert "截至 2020-07-15" in again.stdout and "dept-zjj" in again.stdout and "责任部门" in again.stdout
    # ... and `campaign dashboard` with nothing configured opens it, saying so.
    text = serve_until_healthy(["dashboard"], cwd=tmp_path, timeout=120)
    assert "打开演示数据库" in text and "demo.db" in text


def test_first_user_must_be_the_office_then_the_office_adds_the_rest(tmp_path, prefect_harness, monkeypatch, capsys):
    """In-process (tests/cli_support): the flows run on the test session's Prefect engine."""

    def campaign(*argv: str, cwd: Path, db: Path, extra_env: dict[str, str] | None = None):
        env = {"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}", **(extra_env or {})}
        return run_cli(*argv, env=env, monkeypatch=monkeypatch, capsys=capsys)

    db = tmp_path / "users.db"
    assert campaign("launch", str(SPEC_PATH), cwd=tmp_path, db=db).returncode == 0
    secret = {"CAMPAIGN_NEW_PASSWORD": "Passw0rd!2020"}

    first = campaign(
        "user",
        "add",
        "zj1",
        "--name",
        "住建联络员",
        "--role",
        "department",
        "--department",
        "zjj",
        cwd=tmp_path,
        db=db,
        extra_env=secret,
    )
    assert first.returncode == 2 and "第一个账号必须是牵头办公室" in first.stderr
    no_traceback(first)
    office = campaign(
        "user", "add", "admin", "--name", "联席办", "--role", "office", cwd=tmp_path, db=db, extra_env=secret
    )
    assert office.returncode == 0, office.stderr
    as_office = {**secret, "CAMPAIGN_USER": "admin", "CAMPAIGN_PASSWORD": "Passw0rd!2020"}
    dept = campaign(
        "user",
        "add",
        "zj1",
        "--name",
        "住建联络员",
        "--role",
        "department",
        "--department",
        "zjj",
        cwd=tmp_path,
        db=db,
        extra_env=as_office,
    )
    assert dept.returncode == 0, dept.stderr
    listed = campaign("user", "list", cwd=tmp_path, db=db, extra_env=as_office)
    assert "admin" in listed.stdout and "zj1" in listed.stdout
    verified = campaign("audit", "verify", cwd=tmp_path, db=db, extra_env=as_office)
    assert verified.returncode == 0, verified.stderr
    head = verified.stdout.split("当前链头：")[1].split("（")[0]
    again = campaign("audit", "verify", "--expect", head, cwd=tmp_path, db=db, extra_env=as_office)
    assert again.returncode == 0, again.stderr
    bad = campaign(
        "audit", "verify", "--expect", "9999:" + head.split(":")[1], cwd=tmp_path, db=db, extra_env=as_office
    )
    assert bad.returncode == 1 and "最新的记录被删除" in bad.stderr


def test_ticking_backwards_is_refused_with_a_message(tmp_path, prefect_harness, monkeypatch, capsys):
    """In-process (tests/cli_support): the flows run on the test session's Prefect engine."""

    def campaign(*argv: str, cwd: Path, db: Path):
        return run_cli(*argv, env={"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}"}, monkeypatch=monkeypatch, capsys=capsys)

    db = tmp_path / "back.db"
    assert campaign("launch", str(SPEC_PATH), cwd=tmp_path, db=db).returncode == 0
    assert campaign("tick", "--as-of", "2020-06-24", cwd=tmp_path, db=db).returncode == 0
    back = campaign("tick", "--as-of", "2020-06-01", cwd=tmp_path, db=db)
    assert back.returncode == 2 and "已推进到 2020-06-24" in back.stderr
    no_traceback(back)
