"""`campaign instruct`, `campaign duban list|respond`, `campaign score` as users run them: a real SQLite file,
acting via --as, user mistakes exit 2 with a Chinese message and no traceback.

The commands run in-process (tests/cli_support.run_cli: same argv, environment, exit code and output) because
a process per call cost ~2-3 s of start-up on a 2-core machine; the score test still runs a leader's ranking and
a department's refusal as real processes (tests/e2e/test_cli.campaign) for the exit status a script sees."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from domain.access import SYSTEM
from services.campaigns import launch
from services.spec_files import load_spec
from services.ticking import tick
from services.users import add_user
from store.db import make_engine
from store.migrate import upgrade
from store.models import Department, Duban
from store.uow import UnitOfWork, unit_per_step
from tests.cli_support import CliRun, run_cli
from tests.conftest import LAUNCH_AT, PASSWORD, SPEC_PATH
from tests.e2e.test_cli import campaign, no_traceback

DAY = dt.date(2020, 7, 3)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """The example campaign ticked to 3 July (督办单 issued), with an office, a leader and two departments."""
    path = tmp_path_factory.mktemp("duban-cli") / "campaign.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    spec = load_spec(SPEC_PATH)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT)
        for username, role, dept in (
            ("office", "office", None),
            ("leader", "leader", None),
            ("dept_zjj", "department", "zjj"),
            ("dept_jyj", "department", "jyj"),
        ):
            add_user(
                uow.session,
                actor=SYSTEM,
                at=LAUNCH_AT,
                username=username,
                display_name=username,
                role=role,
                department_code=dept,
                email=None,
                password=PASSWORD,
                campaign_code=spec.id if dept else None,
            )
        uow.commit()
    for day in (dt.date(2020, 6, 17), DAY):
        tick(unit_per_step(engine), spec.id, day, actor=SYSTEM, at=dt.datetime.combine(day, dt.time(2), dt.UTC))
    return path


@pytest.fixture
def run(db: Path, monkeypatch, capsys) -> Callable[..., CliRun | subprocess.CompletedProcess[str]]:
    """`run(who, *args)`: `campaign *args --as who`, in-process (tests/cli_support.py) from the database's folder
    as the processes ran; `process=True` runs it as a real process (tests/e2e/test_cli.py)."""
    monkeypatch.chdir(db.parent)  # data/ and logs/ beside the database, as for a process started there
    env = {"CAMPAIGN_PASSWORD": PASSWORD, "CAMPAIGN_AS_OF": "2020-07-06"}

    def as_user(who: str, *args: str, process: bool = False) -> CliRun | subprocess.CompletedProcess[str]:
        if process:
            proc = campaign(*args, "--as", who, cwd=db.parent, db=db, extra_env=env)
            no_traceback(proc)
            return proc
        env_with_db = env | {"CAMPAIGN_DATABASE_URL": f"sqlite:///{db}"}
        return run_cli(*args, "--as", who, env=env_with_db, monkeypatch=monkeypatch, capsys=capsys)

    return as_user


def _zjj_notice(db: Path) -> int:
    with UnitOfWork(make_engine(f"sqlite:///{db}")) as uow:
        return uow.session.scalar(
            select(Duban.id)
            .join(Department, Department.id == Duban.department_id)
            .where(Department.code == "zjj", Duban.state == "issued")
            .order_by(Duban.id)
        )


def test_instruct_with_a_due_date_makes_a_task_and_without_one_a_note(run):
    proc = run("leader", "instruct", "--campaign", "yanjiang-2020", "--department", "zjj",
               "--text", "请抓紧整改逾期事项", "--due", "2020-07-17")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    task_id = int(re.search(r"任务编号 (\d+)", proc.stdout).group(1))
    assert "批示编号：" in proc.stdout and "办理期限 2020-07-17" in proc.stdout
    note = run("office", "instruct", "--campaign", "yanjiang-2020", "--department", "jyj", "--text", "请阅知")
    assert note.returncode == 0 and "阅知" in note.stdout and "任务编号" not in note.stdout
    assert task_id > 0


def test_instruct_refusals_and_bad_input_exit_2(run):
    refused = run("dept_zjj", "instruct", "--campaign", "yanjiang-2020", "--department", "zjj", "--text", "自己批")
    assert refused.returncode == 2 and "无权限" in refused.stderr and "批示" in refused.stderr
    unknown = run("leader", "instruct", "--campaign", "yanjiang-2020", "--department", "nosuch", "--text", "x")
    assert unknown.returncode == 2 and "nosuch" in unknown.stderr
    bad_day = run("leader", "instruct", "--campaign", "yanjiang-2020", "--department", "zjj",
                  "--text", "x", "--due", "2020-07-32")  # fmt: skip
    assert bad_day.returncode == 2 and "YYYY-MM-DD" in bad_day.stderr
    past = run("leader", "instruct", "--campaign", "yanjiang-2020", "--department", "zjj",
               "--text", "x", "--due", "2020-07-01")  # fmt: skip
    assert past.returncode == 2 and "早于今天" in past.stderr
    missing = run("leader", "instruct", "--campaign", "yanjiang-2020", "--department", "zjj")
    assert missing.returncode == 2 and "--text" in missing.stderr


def test_duban_list_is_scoped_and_respond_answers_once(db, run):
    mine = run("dept_zjj", "duban", "list", "--campaign", "yanjiang-2020")
    everyone = run("leader", "duban", "list", "--campaign", "yanjiang-2020")
    assert mine.returncode == everyone.returncode == 0
    assert "雁督〔2020〕" in mine.stdout and "区住建局" in mine.stdout and "区交运局" not in mine.stdout
    assert "区交运局" in everyone.stdout and "反馈期限" in everyone.stdout
    notice = _zjj_notice(db)
    refused = run("leader", "duban", "respond", "--duban", str(notice), "--text", "代答")
    assert refused.returncode == 2 and "无权限" in refused.stderr
    other = run("dept_jyj", "duban", "respond", "--duban", str(notice), "--text", "代答")
    assert other.returncode == 2 and "无权限" in other.stderr
    ok = run("dept_zjj", "duban", "respond", "--duban", str(notice), "--text", "已办结并报送")
    assert ok.returncode == 0 and "已反馈督办单 雁督〔2020〕" in ok.stdout
    again = run("dept_zjj", "duban", "respond", "--duban", str(notice), "--text", "再答")
    assert again.returncode == 2 and "不能重复反馈" in again.stderr
    nowhere = run("dept_zjj", "duban", "respond", "--duban", "999999", "--text", "x")
    assert nowhere.returncode == 2 and "没有编号为 999999 的督办单" in nowhere.stderr
    listed = run("dept_zjj", "duban", "list", "--campaign", "yanjiang-2020")
    assert "已反馈" in listed.stdout and "已办结并报送" in listed.stdout


def test_score_prints_the_ranking_for_leaders_and_refuses_departments(run):
    proc = run("leader", "score", "--campaign", "yanjiang-2020", process=True)
    assert proc.returncode == 0, proc.stderr
    assert "截至 2020-07-03" in proc.stdout  # the campaign's last tick day
    lines = [line for line in proc.stdout.splitlines() if re.match(r"\s*\d+\s", line)]
    assert len(lines) == 6 and all(re.search(r"\s[绿黄红]\s", line) for line in lines)
    ranks = [int(line.split()[0]) for line in lines]
    assert ranks == sorted(ranks) and ranks[0] == 1
    earlier = run("office", "score", "--campaign", "yanjiang-2020", "--as-of", "2020-06-10")
    assert earlier.returncode == 0 and "截至 2020-06-10" in earlier.stdout
    refused = run("dept_zjj", "score", "--campaign", "yanjiang-2020", process=True)
    assert refused.returncode == 2 and "无权限" in refused.stderr and "考核排名" in refused.stderr
    too_early = run("leader", "score", "--campaign", "yanjiang-2020", "--as-of", "2019-01-01")
    assert too_early.returncode == 2 and "早于专项行动开始日期" in too_early.stderr
    nowhere = run("leader", "score", "--campaign", "nosuch")
    assert nowhere.returncode == 2 and "nosuch" in nowhere.stderr
