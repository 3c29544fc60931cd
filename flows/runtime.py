"""The edge of every flow, and the process-wide Prefect set-up for the embedded engine.

Flows take `as_of`, `db_url` (a string) and, where it matters, the acting user; a flow started
without them (a deployment's cron run) resolves them here from the one settings object. Nothing
below a flow reads the clock or the environment.

The embedded engine's Prefect settings are applied with `prefect.settings.temporary_settings`,
never by writing `os.environ`: the ephemeral server process Prefect starts inherits the current
settings (it is launched with `get_current_settings().to_environment_variables()`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Iterator
from typing import Any

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


# Measured here: with the task-run recorder and event persister on, the ephemeral server's own
# SQLite file is written by several services at once and ticks stall on 'database is locked'
# (0.4 s to 70 s for the same tick). The application's tables are the record, so the embedded
# engine does not persist task runs or events.
_EMBEDDED_SERVER_SERVICES_OFF = (
    "TASK_RUN_RECORDER",
    "EVENT_PERSISTER",
    "TRIGGERS",
    "SCHEDULER",
    "LATE_RUNS",
    "FOREMAN",
)


def embedded_settings() -> dict[Any, Any]:
    """Prefect settings for the in-process engine (not for a Prefect server with workers). A value
    the operator set in the environment wins (the defaults only fill what is unset).

    Heartbeats let a Prefect server spot crashed runs of workers; in-process they only cost a join
    of up to 1 s at the end of every flow run (measured: 1.1 s -> 0.1 s per flow)."""
    import prefect.settings as ps

    wanted: dict[str, Any] = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": False,
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": 60,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        **{f"PREFECT_SERVER_SERVICES_{name}_ENABLED": False for name in _EMBEDDED_SERVER_SERVICES_OFF},
    }
    updates: dict[Any, Any] = {getattr(ps, name): value for name, value in wanted.items() if name not in os.environ}
    updates[ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    return updates


@contextlib.contextmanager
def embedded_engine() -> Iterator[None]:
    """Run flows in-process on Prefect's ephemeral engine, set up as measured above."""
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
