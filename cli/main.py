"""`campaign` command line. Bad input gets a plain Chinese message and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from cli import output

# Modules that add sub-commands: each has register(subparsers).
COMMAND_MODULES: list[str] = [
    "cli.campaign_commands",
    "cli.work_commands",
    "cli.serve_commands",
    "cli.report_commands",
]

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A message for the user; exit code 2."""


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期 {text!r} 格式不对，应为 YYYY-MM-DD（例如 2020-06-20）") from None


def existing_file(text: str) -> Path:
    p = Path(text)
    if not p.is_file():
        raise argparse.ArgumentTypeError(f"文件不存在: {text}")
    return p


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors, in our exit code
        self.print_usage(sys.stderr)
        print(f"{self.prog}: 参数错误: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="campaign", description="招投标专项整治 专项行动管理（YAML 专项行动 → Prefect 流程 → 看板）")
    parser.add_argument("--database-url", help="数据库 URL（默认读取 CAMPAIGN_DATABASE_URL，或 data/campaign.db）")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["CAMPAIGN_DATABASE_URL"] = args.database_url
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args) or 0
    except KeyboardInterrupt:
        output.err("已中断。")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, not a traceback
        return output.report_exception(exc)


if __name__ == "__main__":
    sys.exit(main())
