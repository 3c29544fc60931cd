"""Printing for the CLI: plain tables, progress, and errors mapped to messages and exit codes."""

from __future__ import annotations

import datetime as dt
import sys
import traceback
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy.exc import DBAPIError, OperationalError

from domain.errors import SpecInvalid, UserError
from flows.api_server import lost_resident

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def out(text: str = "") -> None:
    print(text, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, n: int, right: bool = False) -> str:
    space = " " * max(0, n - width(text))
    return space + text if right else text + space


ROWS_SHOWN = 50  # a table's default length: a national campaign has tens of thousands of departments


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    numeric_from: int = 1,
    limit: int | None = None,
    more_hint: str = "",
) -> str:
    """Aligned columns; with `limit`, only the first rows and a note of how many were left out."""
    all_rows = list(rows)
    shown = all_rows if limit is None else all_rows[:limit]
    cells = [[str(c) for c in r] for r in shown]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, widths[i], i >= numeric_from) for i, h in enumerate(headers))]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(pad(c, widths[i], i >= numeric_from) for i, c in enumerate(r)))
    if len(shown) < len(all_rows):
        hint = f"，{more_hint}" if more_hint else ""
        lines.append(f"……共 {len(all_rows):,} 行，只显示前 {len(shown):,} 行{hint}")
    return "\n".join(lines)


class Progress:
    """A one-line progress counter on stderr (only when it is a terminal)."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done = total, label, 0
        self.live = sys.stderr.isatty()

    def step(self, note: str = "") -> None:
        self.done += 1
        if self.live:
            sys.stderr.write(f"\r{self.label} {self.done}/{self.total} {note}   ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


LOG_NAME = "campaign.log"


def report_exception(exc: BaseException, logs_dir: Path) -> int:
    """The one error rule: a `UserError` is the user's to fix (its message, exit 2); an unreachable
    database is said so (exit 1); so is a resident engine (`campaign serve`'s) that stopped while this
    command's flow ran on it (exit 1, logged like a bug); anything else is a bug — one line with an
    incident id (exit 1), the traceback appended to <logs_dir>/campaign.log under that id."""
    if isinstance(exc, SpecInvalid):
        for problem in exc.problems:
            err(str(problem))
        err(f"共 {len(exc.problems)} 处问题。")
        return EXIT_BAD_INPUT
    if isinstance(exc, UserError):
        err(f"错误：{exc}")
        return EXIT_BAD_INPUT
    if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or _unreachable(exc):
        orig = getattr(exc, "orig", None)
        err(f"数据库不可用：{str(orig).strip() if orig else exc}（检查 CAMPAIGN_DATABASE_URL 或 --database-url）")
        return EXIT_FAILURE
    incident = uuid.uuid4().hex[:12]
    lost = lost_resident()
    if lost is not None:
        # Not a bug of this program: the traceback still goes to the log, but the line says what happened.
        err(
            f"常驻引擎已停止：本命令的流程运行在 campaign serve（进程 {lost.pid}）的 Prefect 服务器上，"
            "运行中它不再应答。已完成的步骤都已保存；重新运行本命令即可"
            f"（推进、启动可以安全地重复运行，serve 没有运行时命令自己启动引擎）。事件编号 {incident}。"
        )
    log = logs_dir / LOG_NAME
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as f:
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            f.write(f"=== 事件 {incident} {stamp} campaign {' '.join(sys.argv[1:])}\n")
            f.write("".join(traceback.format_exception(exc)))
    except OSError as write_error:
        err(f"内部错误（事件编号 {incident}），日志 {log} 无法写入（{write_error}）：")
        traceback.print_exception(exc, file=sys.stderr)
        return EXIT_FAILURE
    if lost is None:
        err(f"内部错误（事件编号 {incident}），详细信息已写入 {log}")
    return EXIT_FAILURE


def _unreachable(exc: BaseException) -> bool:
    """The database server or file cannot be reached at all (not a bad statement on a reachable one)."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return any(
        sign in text
        for sign in (
            "connection",
            "could not connect",
            "unable to open database",
            "timeout",
            "server closed",
            "no route",
            "name or service not known",
        )
    )
