"""The `campaign` command run in-process: the same argv, environment, exit code and output as a process,
without paying a Python start-up and the imports for every call (~2 s each on a 2-core machine).

A few tests per command family still run real processes (tests/e2e/test_cli.py's `campaign`) for what only
a process shows: the exit status the shell sees, nothing printed as a traceback, signals.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main

# One Prefect home per test process for the child processes that run flows on their own embedded engine, as a
# user has one ~/.prefect: a fresh home per child would first build Prefect's own database (~10 s more per child
# on a loaded 2-core machine).
PREFECT_HOME = Path(tempfile.mkdtemp(prefix="campaign-tests-prefect-home-"))


@dataclass(frozen=True)
class CliRun:
    """What subprocess.run(..., capture_output=True, text=True) would give: same attribute names."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *argv: str, env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> CliRun:
    """`campaign *argv` with exactly `env`'s CAMPAIGN_* variables (the developer's shell's are dropped)."""
    for name in list(os.environ):
        if name.upper().startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()  # what earlier steps printed is not this command's output
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors exit 2, as the process would
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err, out.err[-3000:]
    return CliRun(code, out.out, out.err)


def console_script(
    *argv: str, cwd: Path, prefect_home: Path, db_url: str, data_dir: Path, **environment: str
) -> subprocess.CompletedProcess[str]:
    """`campaign *argv` as a process through the console script's own path (cli.entry: the engine found or
    started first), on `prefect_home`, `db_url` and `data_dir` alone: the developer's CAMPAIGN_* and PREFECT_*
    variables are dropped, `environment` adds to it."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("CAMPAIGN_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        CAMPAIGN_DATABASE_URL=db_url,
        CAMPAIGN_DATA_DIR=str(data_dir),
        PYTHONPATH=str(root),
        **environment,
    )
    return subprocess.run(
        [sys.executable, "-m", "cli.entry", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
