"""The `campaign` console script. When the command runs Prefect flows, the embedded engine's API
server is started first thing (flows.api_server: standard library only), so its ~4 s start overlaps
loading the CLI, Prefect and the command's own work; then the CLI proper (cli.main) runs."""

from __future__ import annotations

import gc
import sys

from cli.commands import OWNS_ENGINE, RUNS_FLOWS, command_named
from flows.api_server import start_api_server


def start_engine_for(argv: list[str]) -> None:
    """Find the resident engine or start the API server now if the command will run flows (not for its
    --help)."""
    command = command_named(argv)
    if command in RUNS_FLOWS and not {"-h", "--help"} & set(argv):
        start_api_server(use_resident=command not in OWNS_ENGINE)


def main() -> int:
    start_engine_for(sys.argv[1:])
    # Imported only now, on purpose: loading the CLI takes a second the server's start overlaps.
    from cli.main import main as run_cli

    try:
        return run_cli()
    finally:
        # Measured: after the command's work (cli.main has closed its database connections by now), the
        # interpreter's own finalization spent 0.6-0.7 s collecting the garbage of every module it had loaded
        # (Prefect, SQLAlchemy, pydantic). Frozen, those objects are left to the operating system; the exit
        # handlers (Prefect's drain, the API server's stop, logging's flush) still run as usual.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
