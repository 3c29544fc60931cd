"""The `campaign` console script. When the command runs Prefect flows, the embedded engine's API
server is started first thing (flows.api_server: standard library only), so its ~4 s start overlaps
loading the CLI, Prefect and the command's own work; then the CLI proper (cli.main) runs."""

from __future__ import annotations

import sys

from flows.api_server import start_api_server

# Commands that run Prefect flows on the embedded engine.
RUNS_FLOWS = frozenset({"launch", "tick", "simulate", "demo", "deliver", "serve"})


def command_named(argv: list[str]) -> str | None:
    """The sub-command in argv, read before any parser exists (the one option before it takes a value)."""
    words = iter(argv)
    for word in words:
        if word == "--database-url":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def start_engine_for(argv: list[str]) -> None:
    """Start the API server now if the command will run flows (not for its --help)."""
    if command_named(argv) in RUNS_FLOWS and not {"-h", "--help"} & set(argv):
        start_api_server()


def main() -> int:
    start_engine_for(sys.argv[1:])
    # Imported only now, on purpose: loading the CLI takes a second the server's start overlaps.
    from cli.main import main as run_cli

    return run_cli()


if __name__ == "__main__":
    sys.exit(main())
