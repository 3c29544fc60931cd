"""The edge of every flow, and the process-wide Prefect set-up for the embedded engine.

Flows take `as_of`, `db_url` (a string) and, where it matters, the acting user; a flow started
without them (a deployment's cron run) resolves them here from the one settings object. Nothing
below a flow reads the clock or the environment.

The embedded engine's Prefect settings are applied with `prefect.settings.temporary_settings`,
never by writing `os.environ`; its API server process gets the same settings as environment
variables when it is started.

The API server the flows run on is this process's own (flows.api_server), unless a Prefect API URL is
set: the operator's server in production, a test harness's in the tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Iterator
from typing import Any

from flows.api_server import ApiServer, embedded_values, start_api_server
from settings import Settings, load_settings
from store import audit


def flow_settings(settings_or_db_url: Settings | str | None) -> Settings:
    """The settings a flow runs with: the given object, or the environment's with this database URL.
    Where the audit chain keeps its key and anchor follows them (store.audit.configure)."""
    if isinstance(settings_or_db_url, Settings):
        settings = settings_or_db_url
    else:
        settings = load_settings(database_url=settings_or_db_url or None)
    audit.configure(settings)
    return settings


def flow_edge(
    db_url: str | None, as_of: dt.date | None = None, at: dt.datetime | None = None
) -> tuple[str, dt.date, dt.datetime]:
    """(database URL, day, moment) for a flow: what was passed, else from the settings and the clock."""
    if db_url is not None and as_of is not None and at is not None:
        return db_url, as_of, at
    settings = flow_settings(db_url)
    return settings.db_url, as_of or settings.today(), at or settings.now()


def embedded_settings() -> dict[Any, Any]:
    """Prefect settings for the in-process engine (not for a Prefect server with workers).

    Heartbeats let a Prefect server spot crashed runs of workers; in-process they only cost a join
    of up to 1 s at the end of every flow run (measured: 1.1 s -> 0.1 s per flow)."""
    import prefect.settings as ps

    updates: dict[Any, Any] = {getattr(ps, name): value for name, value in embedded_values().items()}
    updates[ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    return updates


@contextlib.contextmanager
def embedded_prefect_settings() -> Iterator[None]:
    """The embedded engine's Prefect settings and log levels, without choosing its API server (a test
    harness brings its own)."""
    from prefect.settings import temporary_settings

    if "PREFECT_LOGGING_LEVEL" not in os.environ:
        # Prefect configured its loggers when it was imported; its run loggers inherit this level.
        logging.getLogger("prefect").setLevel(logging.WARNING)
    # The ephemeral server logs noisy cancellation tracebacks while shutting down at exit.
    logging.getLogger("prefect.server").setLevel(logging.CRITICAL)
    # Prefect's background workers (root-level loggers named after their class) print an English
    # "Still processing items: N items remaining..." while they drain at exit: nothing a user can act on.
    for worker in ("EventsWorker", "APILogWorker"):
        logging.getLogger(worker).setLevel(logging.ERROR)
    with temporary_settings(updates=embedded_settings()):
        yield


@contextlib.contextmanager
def embedded_engine() -> Iterator[None]:
    """Run flows in-process on the embedded engine, set up as measured above: on this process's API
    server unless a Prefect API URL is already set."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

    with contextlib.ExitStack() as stack:
        stack.enter_context(embedded_prefect_settings())
        if not PREFECT_API_URL.value():
            server = start_api_server()
            if server is not None:
                server.wait_ready(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
                stack.enter_context(temporary_settings(updates={PREFECT_API_URL: server.api_url}))
        yield


def offer_engine() -> str | None:
    """`campaign serve`: offer this process's own API server as the resident engine (flows.api_server)
    to the short commands of the same Prefect home, for as long as it runs; returns its URL (None when
    the flows run on a named Prefect API instead)."""
    server = start_api_server()
    if not isinstance(server, ApiServer):
        return None
    server.advertise()
    return server.api_url
