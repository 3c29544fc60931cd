"""签收, 延期申请, 撤回 and 催办 from the command line, as scripts run them: a real SQLite file, the names and
flags of issue 13, messages and exit code 2 for every user mistake.

The commands run in-process (tests/cli_support.run_cli: same argv, environment, exit code and output) because
a process per call cost ~2-3 s of start-up on a 2-core machine; one test still signs and refuses an unknown
task through real processes (tests/e2e/test_cli.campaign) for the exit status a script sees."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from domain.access import SYSTEM
from services.campaigns import launch
from services.spec_files import load_spec
from store.db import make_engine
from store.migrate import upgrade
from store.uow import UnitOfWork
from tests.cli_support import CliRun, run_cli
from tests.conftest import LAUNCH_AT, PASSWORD, SPEC_PATH, add_accounts, run_tick
from tests.e2e.test_cli import campaign, no_traceback

AS_OF = "2020-06-29"  # self_check_* (due 22 June) are overdue; ledger_in_process opens on 1 July


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, Path]:
    """The campaign launched and ticked, and the accounts, set up in this process (the commands under
    test then only read and write it; launching through Prefect's ephemeral server here only adds minutes)."""
    cwd = tmp_path_factory.mktemp("cli-supervision")
    db = cwd / "campaign.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    spec = load_spec(SPEC_PATH)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT, source_path=str(SPEC_PATH))
        uow.commit()
    run_tick(engine, spec.id, dt.date.fromisoformat(AS_OF))
    with UnitOfWork(engine) as uow:
        add_accounts(
            uow.session,
            (
                ("admin", "联席办", "office", None),
                ("zj1", "住建联络员", "department", "zjj"),
                ("jy1", "交运联络员", "department", "jyj"),
                ("boss", "分管领导", "leader", None),
            ),
            at=LAUNCH_AT,
            campaign_code=spec.id,
        )
        uow.commit()
    engine.dispose()
    return cwd, db


@pytest.fixture
def run(world, monkeypatch, capsys) -> Callable[..., CliRun | subprocess.CompletedProcess[str]]:
    """`run(user, *args)`: `campaign *args` as that user, in-process (tests/cli_support.py) from the database's
    folder as the processes ran; `process=True` runs it as a real process (tests/e2e/test_cli.py)."""
    cwd, db = world
    monkeypatch.chdir(cwd)  # data/ and logs/ beside the database, as for a process started there
    env = {"CAMPAIGN_PASSWORD": PASSWORD, "CAMPAIGN_AS_OF": AS_OF}

    def as_user(user: str, *args: str, process: bool = False) -> CliRun | subprocess.CompletedProcess[str]:
        if process:
            proc = campaign(*args, cwd=cwd, db=db, extra_env=env | {"CAMPAIGN_USER": user})
            no_traceback(proc)
            return proc
        db_env = {"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}", "CAMPAIGN_USER": user}
        return run_cli(*args, env=env | db_env, monkeypatch=monkeypatch, capsys=capsys)

    return as_user


def task_id(world, dept: str, key: str) -> int:
    with sqlite3.connect(world[1]) as c:
        return c.execute(
            "SELECT a.id FROM assignment a JOIN department d ON d.id = a.department_id"
            " JOIN task_template t ON t.id = a.template_id WHERE d.code = ? AND t.key = ? ORDER BY a.id LIMIT 1",
            (dept, key),
        ).fetchone()[0]


def one(world, sql: str, *params: object):
    with sqlite3.connect(world[1]) as c:
        return c.execute(sql, params).fetchone()


def test_sign_one_and_many(world, run):
    a, b = task_id(world, "zjj", "self_check_report"), task_id(world, "zjj", "self_check_ledger")
    signed = run("zj1", "sign", "--assignment", str(a), str(b), process=True)
    assert signed.returncode == 0, signed.stderr
    assert f"任务 {a}：已签收" in signed.stdout and f"任务 {b}：已签收" in signed.stdout
    again = run("zj1", "sign", "--assignment", str(a))
    assert again.returncode == 0 and "此前已签收" in again.stdout
    assert one(world, "SELECT acknowledged_by FROM assignment WHERE id = ?", a) == ("zj1",)
    other = run("jy1", "sign", "--assignment", str(a))
    assert other.returncode == 2 and "无权限" in other.stderr
    missing = run("zj1", "sign", "--assignment", "999999", process=True)
    assert missing.returncode == 2 and "没有编号为 999999 的任务" in missing.stderr
    scheduled = run("zj1", "sign", "--assignment", str(task_id(world, "zjj", "ledger_in_process")))
    assert scheduled.returncode == 2 and "尚未开始" in scheduled.stderr
    assert run("zj1", "sign").returncode == 2  # no --assignment: argparse's message, exit 2


def test_extension_request_decide_and_list(world, run):
    a = task_id(world, "zjj", "self_check_report")
    asked = run("zj1", "extension", "request", "--assignment", str(a), "--until", "2020-07-06", "--reason", "补充核查")
    assert asked.returncode == 0, asked.stderr
    request = int(re.search(r"申请编号：(\d+)", asked.stdout).group(1))
    again = run("zj1", "extension", "request", "--assignment", str(a), "--until", "2020-07-07", "--reason", "再申请")
    assert again.returncode == 2 and "待审批" in again.stderr
    too_far = run(
        "zj1",
        "extension",
        "request",
        "--assignment",
        str(task_id(world, "zjj", "self_check_ledger")),
        "--until",
        "2020-12-31",
        "--reason",
        "x",
    )
    assert too_far.returncode == 2 and "最多 20 个工作日" in too_far.stderr
    bad_date = run("zj1", "extension", "request", "--assignment", str(a), "--until", "2020-07-32", "--reason", "x")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr

    listed = run("boss", "extension", "list", "--campaign", "yanjiang-2020")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.lstrip().startswith(str(request)))
    assert "区住建局" in line and "2020-06-22" in line and "2020-07-06" in line and "待审批" in line

    by_leader = run("boss", "extension", "decide", "--request", str(request), "--approve", "--reason", "同意")
    assert by_leader.returncode == 2 and "无权限" in by_leader.stderr
    no_reason = run("admin", "extension", "decide", "--request", str(request), "--approve", "--reason", " ")
    assert no_reason.returncode == 2 and "审批意见" in no_reason.stderr
    both = run("admin", "extension", "decide", "--request", str(request), "--approve", "--reject", "--reason", "x")
    assert both.returncode == 2
    later = run(
        "admin",
        "extension",
        "decide",
        "--request",
        str(request),
        "--approve",
        "--until",
        "2020-07-08",
        "--reason",
        "x",
    )
    assert later.returncode == 2 and "不能晚于申请的日期" in later.stderr
    ok = run(
        "admin",
        "extension",
        "decide",
        "--request",
        str(request),
        "--approve",
        "--until",
        "2020-07-03",
        "--reason",
        "同意",
    )
    assert ok.returncode == 0, ok.stderr
    assert "2020-06-22 → 2020-07-03" in ok.stdout
    assert one(world, "SELECT due_on, original_due_on FROM assignment WHERE id = ?", a) == ("2020-07-03", "2020-06-22")
    twice = run("admin", "extension", "decide", "--request", str(request), "--reject", "--reason", "改判")
    assert twice.returncode == 2 and "已被处理" in twice.stderr
    assert one(world, "SELECT due_on FROM assignment WHERE id = ?", a) == ("2020-07-03",)
    status = run("admin", "status", "--campaign", "yanjiang-2020")
    assert status.returncode == 0, status.stderr
    assert "原定期限" in status.stdout and re.search(r"2020-06-22\s+2020-07-03", status.stdout)

    mine = run("jy1", "extension", "list", "--campaign", "yanjiang-2020")
    assert mine.returncode == 0 and "共 0 份延期申请" in mine.stdout  # jyj sees its own only
    missing = run("admin", "extension", "decide", "--request", "999999", "--reject", "--reason", "x")
    assert missing.returncode == 2 and "没有编号为 999999 的延期申请" in missing.stderr


def test_withdraw(world, run):
    a = task_id(world, "jyj", "self_check_report")
    db = world[1]
    nothing = run("jy1", "withdraw", "--assignment", str(a))
    assert nothing.returncode == 2 and "没有待审核的报送" in nothing.stderr
    with sqlite3.connect(db) as c:  # a submission made on the dashboard; the CLI withdraws it
        c.execute("UPDATE assignment SET status = 'submitted' WHERE id = ?", (a,))
        c.execute(
            "INSERT INTO submission (assignment_id, seq, submitted_by, submitted_at, text, rows_json, state)"
            " VALUES (?, 1, 'jy1', '2020-06-29 02:00:00.000000', '自查报告', '[]', 'pending')",
            (a,),
        )
    other = run("zj1", "withdraw", "--assignment", str(a))
    assert other.returncode == 2 and "无权限" in other.stderr
    done = run("jy1", "withdraw", "--assignment", str(a))
    assert done.returncode == 0, done.stderr
    assert "已撤回" in done.stdout and "办理中" in done.stdout
    assert one(world, "SELECT state FROM submission WHERE assignment_id = ?", a) == ("withdrawn",)


def test_urge(world, run):
    one_task = task_id(world, "zjj", "self_check_ledger")
    first = run(
        "admin", "urge", "--campaign", "yanjiang-2020", "--assignment", str(one_task), "--message", "请本周报送"
    )
    assert first.returncode == 0, first.stderr
    assert "已催办 1 项任务" in first.stdout
    dept = run("boss", "urge", "--campaign", "yanjiang-2020", "--department", "jyj")
    assert dept.returncode == 0, dept.stderr
    everyone = run("boss", "urge", "--campaign", "yanjiang-2020", "--all-overdue", "--message", "全部催办")
    assert everyone.returncode == 0, everyone.stderr
    overdue = one(
        world,
        "SELECT count(*) FROM assignment WHERE status IN ('open', 'returned') AND overdue_days > 0",
    )[0]
    assert f"已催办 {overdue} 项任务" in everyone.stdout or "已催办过" in everyone.stdout
    assert one(world, "SELECT count(*) FROM urge WHERE assignment_id = ?", one_task)[0] >= 2
    refused = run("zj1", "urge", "--campaign", "yanjiang-2020", "--all-overdue")
    assert refused.returncode == 2 and "无权限" in refused.stderr
    none = run("admin", "urge", "--campaign", "yanjiang-2020")
    assert none.returncode == 2  # one of --assignment / --department / --all-overdue is required
    unknown = run("admin", "urge", "--campaign", "yanjiang-2020", "--department", "nope")
    assert unknown.returncode == 2 and "没有代码为 nope 的部门" in unknown.stderr
    done_task = run(
        "admin",
        "urge",
        "--campaign",
        "yanjiang-2020",
        "--assignment",
        str(task_id(world, "zjj", "ledger_in_process")),
    )
    assert done_task.returncode == 2 and "不需要催办" in done_task.stderr
