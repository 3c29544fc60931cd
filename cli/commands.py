"""Which module registers each `campaign` sub-command, and which commands run Prefect flows.

Standard library only: the console script (cli.entry) reads the command from argv before anything
else is imported. A command's parser is built from its own module alone (importing every command
module, pandas and plotly with the reports, cost about a second a command); `campaign --help`, no
command or an unknown one builds them all. tests/unit/test_cli_commands.py checks the map against
what the modules register.
"""

from __future__ import annotations

COMMAND_MODULE: dict[str, str] = {
    **dict.fromkeys(
        ("validate", "schema", "plan", "db", "launch", "tick", "status", "simulate", "demo", "dashboard"),
        "cli.campaign_commands",
    ),
    **dict.fromkeys(("user", "projects", "problems", "leads"), "cli.work_commands"),
    **dict.fromkeys(("serve", "deliver", "deliveries"), "cli.serve_commands"),
    **dict.fromkeys(("report", "narrative", "import", "template", "export"), "cli.report_commands"),
    "audit": "cli.audit_commands",
    **dict.fromkeys(("bids", "risk", "credit"), "cli.risk_commands"),
    **dict.fromkeys(("sign", "extension", "withdraw", "urge"), "cli.supervision_commands"),
    **dict.fromkeys(("instruct", "duban", "score"), "cli.duban_commands"),
}
# Every command module, in the order `campaign --help` lists their commands.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMAND_MODULE.values()))

# Commands that run Prefect flows on the embedded engine.
RUNS_FLOWS = frozenset({"launch", "tick", "simulate", "demo", "deliver", "serve"})
# Those that run long own their engine; the others use the resident one when `campaign serve` offers it
# (flows.api_server), so that their runs never depend on another process staying up for long.
OWNS_ENGINE = frozenset({"serve", "demo"})


def command_named(argv: list[str]) -> str | None:
    """The sub-command in argv, read before any parser exists (the one option before it takes a value)."""
    words = iter(argv)
    for word in words:
        if word == "--database-url":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def modules_for(argv: list[str]) -> tuple[str, ...]:
    """The command modules the parser for argv needs: the command's own, or all of them."""
    command = command_named(argv)
    if command in COMMAND_MODULE:
        return (COMMAND_MODULE[command],)
    return COMMAND_MODULES
