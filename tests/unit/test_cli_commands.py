"""The map of `campaign` sub-commands to the modules that register them (cli.commands) is what the
modules register, and a command's parser is built from its module alone."""

from __future__ import annotations

import argparse
import importlib

import pytest

from cli.commands import COMMAND_MODULE, COMMAND_MODULES, RUNS_FLOWS, command_named, modules_for
from cli.main import build_parser


def registered(module: str) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_the_map_is_what_each_module_registers() -> None:
    for module in COMMAND_MODULES:
        assert registered(module) == {c for c, m in COMMAND_MODULE.items() if m == module}, module
    assert set(COMMAND_MODULE) >= RUNS_FLOWS


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["tick", "--as-of", "2020-06-01"], ("cli.campaign_commands",)),
        (["--database-url", "sqlite:///x.db", "report", "monthly"], ("cli.report_commands",)),
        (["duban", "list"], ("cli.duban_commands",)),
        (["--help"], COMMAND_MODULES),
        ([], COMMAND_MODULES),
        (["no-such-command"], COMMAND_MODULES),
    ],
)
def test_a_command_needs_only_its_module(argv: list[str], expected: tuple[str, ...]) -> None:
    assert modules_for(argv) == expected


def test_the_full_parser_lists_every_command_and_a_commands_parser_parses_it() -> None:
    full = build_parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMAND_MODULE)
    argv = ["status", "--campaign", "yanjiang-2020"]
    args = build_parser(modules_for(argv)).parse_args(argv)
    assert command_named(argv) == args.command == "status"
