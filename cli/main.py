"""`campaign` command line.

The edge: it builds the one settings object once (`--database-url` over CAMPAIGN_DATABASE_URL /
the settings file) and hands it to the command as `args.settings`; it prepares the store as the
command needs (nothing, the migration step, or a check that the schema is current); and it applies
the one error rule (cli.output.report_exception): a user's mistake is a message and exit 2, a bug
is one line with an incident id and exit 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from cli import output
from cli.commands import COMMAND_MODULES, modules_for
from domain.errors import Invalid
from settings import DEFAULT_DATA_DIR, Settings, load_settings
from store import audit
from store.db import close_shared_engines, shared_engine
from store.migrate import current_revision, require_current, upgrade

EXIT_BAD_INPUT = 2

# What a command needs of the store before it runs. Not listed: the schema must be current
# (store.migrate.require_current says to run `campaign db upgrade` otherwise).
NO_STORE = frozenset(
    {"validate", "schema", "plan", "template", "db", "demo", "simulate", "dashboard"}
)  # the last three choose their database themselves (demo and simulate migrate it, dashboard checks it)
MIGRATES_FIRST = frozenset({"launch", "serve"})


class CliError(Invalid):
    """A message for the user about how the command was called; exit code 2."""


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
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse's usage errors, in our exit code
        self.print_usage(sys.stderr)
        print(f"{self.prog}: 参数错误: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the sub-commands of `modules` (each has register(subparsers)); main builds only
    the module of the command it was given (cli.commands)."""
    parser = _Parser(prog="campaign", description="招投标专项整治 专项行动管理（YAML 专项行动 → Prefect 流程 → 看板）")
    parser.add_argument("--database-url", help="数据库 URL（默认读取 CAMPAIGN_DATABASE_URL，或 data/campaign.db）")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def upgrade_store(settings: Settings, report: Callable[[str], None] | None = None) -> tuple[str | None, str | None]:
    """The migration step (`campaign db upgrade`, and first thing in launch / demo / serve / simulate):
    returns the schema revision before and after."""

    engine = shared_engine(settings.db_url)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    if report is not None and before != after:
        report(f"数据库结构已升级：{before or '（空库）'} → {after}")
    return before, after


def require_current_store(settings: Settings) -> None:

    require_current(shared_engine(settings.db_url))


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(modules_for(given))
    args = parser.parse_args(given)
    handler: Callable[[argparse.Namespace], int] = args.handler
    logs_dir = DEFAULT_DATA_DIR / "logs"
    try:
        args.settings = load_settings(database_url=args.database_url)
        logs_dir = args.settings.logs_path
        audit.configure(args.settings)
        if args.command in MIGRATES_FIRST:
            upgrade_store(args.settings, output.err)
        elif args.command not in NO_STORE and not getattr(args, "no_store", False):  # a sub-command may need none
            require_current_store(args.settings)
        return handler(args) or 0
    except KeyboardInterrupt:
        output.err("已中断。")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: the one error rule
        return output.report_exception(exc, logs_dir)
    finally:
        close_shared_engines()  # SQLite folds its WAL into the file: the file alone is the whole store


if __name__ == "__main__":
    sys.exit(main())
