"""Engines: a SQLite file in the embedded default, PostgreSQL in production. Opening an engine
never changes the schema: migrations are an explicit step (`campaign db upgrade`, run by
launch / demo / serve), see store.migrate."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from weakref import WeakSet

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry


def describe(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers (the dashboard) never block the tick
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True)


_shared_engines: WeakSet[Engine] = WeakSet()  # what close_shared_engines closes


@lru_cache(maxsize=8)
def shared_engine(url: str) -> Engine:
    """One engine per URL per process (Prefect tasks receive the URL, not the engine)."""
    engine = make_engine(url)
    _shared_engines.add(engine)
    return engine


def close_shared_engines() -> None:
    """Close the shared engines' pooled connections: SQLite then copies its WAL into the database file and
    removes it, so the file alone holds everything (a copy of `campaign.db` is a complete backup). `campaign`
    calls this on its way out (cli.main), before cli.entry leaves the rest of its memory to the system."""
    for engine in list(_shared_engines):
        engine.dispose()
