"""Engines: SQLite file by default (`CAMPAIGN_DATABASE_URL` overrides), PostgreSQL in production."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_SQLITE_PATH = Path("data") / "campaign.db"


def database_url() -> str:
    return os.environ.get("CAMPAIGN_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"


def describe(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers (the dashboard) never block the tick
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def shared_engine(url: str) -> Engine:
    """One engine per URL per process (Prefect tasks receive the URL, not the engine)."""
    from store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine
