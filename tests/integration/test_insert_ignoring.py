"""store.sql.insert_ignoring: INSERT … ON CONFLICT DO NOTHING on both databases, compiled once per shape.

SQLAlchemy 2.0's own dialect inserts with ON CONFLICT opt out of its statement cache, so every tick
step and every message owed compiled its INSERT afresh (a third of a simulated campaign's SQL time).
These tests hold the two promises the helper makes: a duplicate natural key adds nothing and raises
nothing, and the second execution of the same shape is a cache hit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, event, literal, select
from sqlalchemy.orm import Session

from store.sql import insert_ignoring, insert_ignoring_duplicates, insert_rows_ignoring_duplicates

_metadata = MetaData()
PROBE = Table(
    "insert_ignoring_probe",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("natural_key", String(40), nullable=False, unique=True),
    Column("value", Integer, nullable=False),
)


@pytest.fixture
def probe(engine: Engine) -> Iterator[Engine]:
    _metadata.create_all(engine)
    try:
        yield engine
    finally:
        _metadata.drop_all(engine)


@contextmanager
def _cache_outcomes(engine: Engine, statements: list[str]) -> Iterator[None]:
    """Collect, for each INSERT into the probe table, whether SQLAlchemy found it compiled already."""

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if "insert_ignoring_probe" in statement and statement.lstrip().upper().startswith(("INSERT", "WITH")):
            statements.append(str(context.cache_hit))

    event.listen(engine, "after_cursor_execute", seen)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", seen)


def test_a_duplicate_key_adds_nothing_and_the_shape_is_compiled_once(probe: Engine) -> None:
    outcomes: list[str] = []
    with Session(probe) as session, session.begin():
        with _cache_outcomes(probe, outcomes):
            statement = insert_ignoring(session, PROBE, ["natural_key"]).returning(PROBE.c.id)
            ids = [
                session.scalar(statement.values(natural_key=key, value=n)) for n, key in enumerate(["a", "b", "a", "c"])
            ]
        rows = session.execute(select(PROBE.c.natural_key, PROBE.c.value).order_by(PROBE.c.natural_key)).all()
    assert ids[0] is not None and ids[1] is not None and ids[3] is not None
    assert ids[2] is None  # "a" again: ignored, no IntegrityError
    assert [tuple(r) for r in rows] == [("a", 0), ("b", 1), ("c", 3)]  # the first "a" kept its value
    assert len(outcomes) == 4
    assert all("CACHE_HIT" in o for o in outcomes[1:]), outcomes


def test_insert_select_counts_what_it_added_and_is_cached(probe: Engine) -> None:
    outcomes: list[str] = []
    with Session(probe) as session, session.begin():
        session.execute(PROBE.insert().values(natural_key="k1", value=1))
        source = select(PROBE.c.natural_key + literal("-copy"), PROBE.c.value).where(PROBE.c.value >= 1)
        with _cache_outcomes(probe, outcomes):
            first = insert_ignoring_duplicates(session, PROBE, ["natural_key", "value"], source, ["natural_key"])
            again = insert_ignoring_duplicates(session, PROBE, ["natural_key", "value"], source, ["natural_key"])
        keys = sorted(session.scalars(select(PROBE.c.natural_key)))
    # The first copies k1 (k1-copy); the second copies k1-copy (new) and finds k1-copy already there.
    assert (first, again) == (1, 1)
    assert keys == ["k1", "k1-copy", "k1-copy-copy"]
    assert len(outcomes) == 2 and "CACHE_HIT" in outcomes[1], outcomes


def test_rows_built_in_python_skip_existing_keys_and_count_what_they_added(probe: Engine) -> None:
    """Many rows at once (PostgreSQL: a column an array, unnest; SQLite: multi-row VALUES), a few per statement:
    keys already there are skipped, the rest written with their values, and the count is what was added."""
    with Session(probe) as session, session.begin():
        session.execute(PROBE.insert().values(natural_key="k2", value=-1))
        rows = [{"natural_key": f"k{n}", "value": n} for n in range(7)]
        added = insert_rows_ignoring_duplicates(session, PROBE, rows, ["natural_key"], chunk=3)
        again = insert_rows_ignoring_duplicates(session, PROBE, rows, ["natural_key"], chunk=3)
        stored = dict(session.execute(select(PROBE.c.natural_key, PROBE.c.value)).tuples().all())
    assert (added, again) == (6, 0)
    assert stored == {"k2": -1, **{f"k{n}": n for n in range(7) if n != 2}}
