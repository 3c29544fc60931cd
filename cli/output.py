"""Printing for the CLI: plain tables, progress, and errors mapped to messages and exit codes."""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Iterable, Sequence

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


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric_from: int = 1) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, widths[i], i >= numeric_from) for i, h in enumerate(headers))]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(pad(c, widths[i], i >= numeric_from) for i, c in enumerate(r)))
    return "\n".join(lines)


class Progress:
    """A one-line progress counter on stderr (only when it is a terminal or forced)."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done = total, label, 0
        self.live = sys.stderr.isatty() or os.environ.get("CAMPAIGN_PROGRESS") == "1"

    def step(self, note: str = "") -> None:
        self.done += 1
        if self.live:
            sys.stderr.write(f"\r{self.label} {self.done}/{self.total} {note}   ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


def report_exception(exc: BaseException) -> int:
    """Known errors become one message; anything else a short notice (details with CAMPAIGN_DEBUG=1)."""
    from domain.access import Forbidden
    from domain.calendar import CalendarUnknown
    from domain.errors import UserError
    from services.spec_files import SpecInvalid
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, SpecInvalid):
        for problem in exc.problems:
            err(str(problem))
        err(f"共 {len(exc.problems)} 处问题。")
        return EXIT_BAD_INPUT
    if isinstance(exc, (UserError, Forbidden, CalendarUnknown, LookupError, ValueError)):
        err(f"错误：{exc}")
        return EXIT_BAD_INPUT
    if isinstance(exc, OperationalError):
        err(f"数据库不可用：{str(exc.orig).strip() if exc.orig else exc}（检查 CAMPAIGN_DATABASE_URL）")
        return EXIT_FAILURE
    if os.environ.get("CAMPAIGN_DEBUG") == "1":
        raise exc
    err(f"内部错误：{type(exc).__name__}: {exc}（设置 CAMPAIGN_DEBUG=1 查看详细信息）")
    return EXIT_FAILURE
