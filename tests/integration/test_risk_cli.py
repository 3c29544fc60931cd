"""`campaign risk / bids / credit` on the test database (SQLite and PostgreSQL): output, the acting user, exit
code 2 with a Chinese message for a user's mistake, and no second lead from a second scan.

The commands run in-process (tests/cli_support.run_cli: same argv, environment, exit code and output) because
a process per call cost ~2-3 s of start-up on a 2-core machine; the first scan and a department's refused
look at another's flags still run as real processes, for the exit status a script sees and the database URL
(PostgreSQL's password included) reaching a process through the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.cli_support import CliRun, run_cli
from tests.conftest import PASSWORD, ROOT
from tests.integration.test_risk_flow import risky  # noqa: F401 - the planted campaign fixture

CODE = "yanjiang-2020"


@pytest.fixture
def campaign(engine, tmp_path, monkeypatch, capsys) -> Callable[..., CliRun | subprocess.CompletedProcess[str]]:
    """`campaign(*args, user=...)`: in-process; `process=True` runs `python -m cli.main` as a real process."""
    env = {
        "CAMPAIGN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CAMPAIGN_PASSWORD": PASSWORD,
        "CAMPAIGN_AS_OF": "2020-06-02",
        "CAMPAIGN_DATA_DIR": str(tmp_path / "data"),
    }

    def run(
        *args: str, user: str | None = "office", process: bool = False
    ) -> CliRun | subprocess.CompletedProcess[str]:
        argv = [*args, "--as", user] if user else list(args)
        if not process:
            return run_cli(*argv, env=env, monkeypatch=monkeypatch, capsys=capsys)
        proc = subprocess.run(
            [sys.executable, "-m", "cli.main", *argv],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")} | env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-2000:]
        return proc

    return run


def test_scan_lists_flags_per_project_and_rule_and_dispatches_once(campaign, risky):  # noqa: F811
    first = campaign("risk", "scan", "--campaign", CODE, process=True)
    assert first.returncode == 0, first.stderr
    assert "命中规则" in first.stdout and "C40-MAC" in first.stdout and "《招标投标法实施条例》第四十条" in first.stdout
    new = int(first.stdout.split("本次新转线索 ")[1].split(" 条")[0])
    assert new > 0
    second = campaign("risk", "scan", "--campaign", CODE)
    assert second.returncode == 0 and "本次新转线索 0 条" in second.stdout

    own = campaign("risk", "flags", "--campaign", CODE, user="dept_zjj")
    assert own.returncode == 0
    rows = [line.split() for line in own.stdout.splitlines()[2:] if line.strip()]
    assert rows and all(row[2] == "zjj" for row in rows)
    other = campaign("risk", "flags", "--campaign", CODE, "--department", "fgj", user="dept_zjj", process=True)
    assert other.returncode == 2 and "责任部门只能查看本部门项目的预警" in other.stderr

    network = campaign("risk", "network", "--campaign", CODE, user="leader")
    assert network.returncode == 0 and "关联企业群" in network.stdout
    refused = campaign("risk", "network", "--campaign", CODE, user="dept_zjj")
    assert refused.returncode == 2 and "错误" in refused.stderr
    hits = campaign("risk", "hits", "--campaign", CODE, user="leader")
    assert hits.returncode == 0 and "命中率" in hits.stdout

    credit = campaign("credit", "list", "--campaign", CODE, "--blacklist", user="leader")
    assert credit.returncode == 0 and "信用状态" in credit.stdout


def test_user_mistakes_exit_2_in_chinese(campaign, risky, tmp_path):  # noqa: F811
    missing = campaign("risk", "scan", "--campaign", "nosuch")
    assert missing.returncode == 2 and "nosuch" in missing.stderr
    leader = campaign("risk", "scan", "--campaign", CODE, user="leader")
    assert leader.returncode == 2 and "牵头办公室" in leader.stderr
    bad = tmp_path / "投标.csv"
    bad.write_text("项目编号,项目名称\nX-1,某工程\n", encoding="gbk")
    rejected = campaign("bids", "import", str(bad), "--campaign", CODE)
    assert rejected.returncode == 2 and "缺少必需的列" in rejected.stderr
    template = campaign("bids", "template", "--out", str(tmp_path / "t.xlsx"), user=None)
    assert template.returncode == 0 and (tmp_path / "t.xlsx").stat().st_size > 0
