"""Portable pieces of set-based SQL (the tick works on sets of rows, never row by row)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Date,
    Executable,
    Insert,
    Integer,
    Table,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import dml as postgresql_dml
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from domain.localtime import LOCAL_TZ

# The bind parameters of the statements that are built once and kept (a tick step's, per module or per database):
# the campaign and the day they are run for, given by `campaign_day` at each execution.
OF_CAMPAIGN = bindparam("of_campaign", type_=Integer)
ON_DAY = bindparam("on_day", type_=Date)


def campaign_day(campaign_id: int, day: dt.date) -> dict[str, Any]:
    """The values of OF_CAMPAIGN and ON_DAY for one execution."""
    return {OF_CAMPAIGN.key: campaign_id, ON_DAY.key: day}


def table_of(model: type[DeclarativeBase]) -> Table:
    """A mapped class's table, typed as the Table the set-based helpers take."""
    return model.metadata.tables[model.__tablename__]


# SQLAlchemy 2.0 compiles its dialects' INSERT … ON CONFLICT afresh on every execution (their classes opt
# out of the statement cache: the ON CONFLICT clause has no cache key). That was a third of a simulated
# day's SQL time. These subclasses give the DO NOTHING clause a cache key made of what it renders (its
# target columns and WHERE), so the statements are compiled once per shape, as every other one is.
class _SqliteInsert(sqlite_dml.Insert):
    inherit_cache = True


class _PostgresqlInsert(postgresql_dml.Insert):
    inherit_cache = True


class _SqliteDoNothing(sqlite_dml.OnConflictDoNothing):
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy declares it an instance attribute
        ("inferred_target_elements", InternalTraversal.dp_string_list),
        ("inferred_target_whereclause", InternalTraversal.dp_clauseelement),
    ]


class _PostgresqlDoNothing(postgresql_dml.OnConflictDoNothing):
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy declares it an instance attribute
        ("constraint_target", InternalTraversal.dp_string),
        ("inferred_target_elements", InternalTraversal.dp_string_list),
        ("inferred_target_whereclause", InternalTraversal.dp_clauseelement),
    ]


def insert_ignoring(session: Session, table: Table | type[DeclarativeBase], key: list[str]) -> Insert:
    """INSERT INTO table … ON CONFLICT (key) DO NOTHING for the session's database: the one way a row
    whose natural key may already exist is written (a re-run or a second process adds nothing and
    raises nothing). Add .values(...) or .from_select(...) and .returning(...) as to any INSERT."""
    return insert_ignoring_for(session.get_bind().dialect.name, table, key)


def insert_ignoring_for(dialect: str, table: Table | type[DeclarativeBase], key: list[str]) -> Insert:
    """`insert_ignoring` for a database by its dialect name, for a statement built once and kept."""
    target = table if isinstance(table, Table) else table_of(table)
    stmt: Insert
    if dialect == "postgresql":
        stmt = _PostgresqlInsert(target)
        stmt._post_values_clause = _PostgresqlDoNothing(index_elements=key)
    else:
        stmt = _SqliteInsert(target)
        stmt._post_values_clause = _SqliteDoNothing(index_elements=key)
    return stmt


def insert_select_ignoring(dialect: str, table: Table, columns: list[str], source: Any, key: list[str]) -> Executable:
    """The INSERT … SELECT of `insert_ignoring_duplicates` for a dialect, as a statement to keep and run with
    `run_counting_inserted` (a hot step builds it once, with bind parameters, instead of on every call)."""
    stmt = insert_ignoring_for(dialect, table, key).from_select(columns, source)
    if dialect == "postgresql":
        # psycopg reports rowcount -1 for this statement; count what RETURNING hands back instead.
        inserted = stmt.returning(literal_column("1")).cte("inserted")
        return select(func.count()).select_from(inserted)
    return stmt


def run_counting_inserted(session: Session, stmt: Executable, params: dict[str, Any] | None = None) -> int:
    """Run a statement from `insert_select_ignoring`; returns the rows it inserted."""
    result: CursorResult[Any] = session.execute(stmt, params)  # type: ignore[assignment]  # a cursor result
    if result.returns_rows:  # PostgreSQL: the count of what RETURNING handed back
        return int(result.scalar_one())
    return result.rowcount or 0


def insert_ignoring_duplicates(session: Session, table: Table, columns: list[str], source: Any, key: list[str]) -> int:
    """INSERT … SELECT that skips rows whose natural key already exists; returns rows inserted."""
    dialect = session.get_bind().dialect.name
    return run_counting_inserted(session, insert_select_ignoring(dialect, table, columns, source, key))


ROWS_PER_STATEMENT = 5000  # rows (or ids in an IN list) sent in one statement when many are written at once


def insert_rows_ignoring_duplicates(
    session: Session, table: Table, rows: list[dict[str, Any]], key: list[str], *, chunk: int = ROWS_PER_STATEMENT
) -> int:
    """INSERT of many rows built in Python (`chunk` rows per statement; every row has the same keys) that skips
    rows whose natural key already exists; returns rows inserted. PostgreSQL gets each column as one array
    (INSERT … SELECT FROM unnest(…)): as multi-row VALUES, 1,000 rows of 12 columns were 12,000 parameters a
    statement, and psycopg's rewriting of their placeholders cost ~70 µs a row, more than the insert itself."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    inserted = 0
    if dialect == "postgresql":
        columns = list(rows[0])
        arrays = [bindparam(f"column_{i}", type_=ARRAY(table.c[c].type)) for i, c in enumerate(columns)]
        source = select(func.unnest(*arrays).table_valued(*columns).render_derived())
        stmt = insert_select_ignoring(dialect, table, columns, source, key)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            params = {f"column_{i}": [r[c] for r in part] for i, c in enumerate(columns)}
            inserted += run_counting_inserted(session, stmt, params)
        return inserted
    returning = insert_ignoring(session, table, key).returning(table.c.id)
    for start in range(0, len(rows), chunk):
        inserted += len(session.execute(returning, rows[start : start + chunk]).all())
    return inserted


def _id_in(session: Session, column: ColumnElement[int], ids: list[int]) -> ColumnElement[bool]:
    """column IN ids: on PostgreSQL `= ANY(array)`, one parameter (an IN list is a parameter an id, each
    rewritten by psycopg); on SQLite an IN list."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def _each_batch_of_ids(session: Session, ids: list[int], statement: Callable[[list[int]], Executable]) -> int:
    """Run `statement(batch)` for each bounded batch of ids (the ids can be a million; one statement takes at most
    65,535 parameters on PostgreSQL, 32,766 on SQLite); returns the rows it changed."""
    changed = 0
    for start in range(0, len(ids), ROWS_PER_STATEMENT):
        result = session.execute(
            statement(ids[start : start + ROWS_PER_STATEMENT]).execution_options(synchronize_session=False)
        )
        changed += cast("CursorResult[Any]", result).rowcount
    return changed


def update_by_ids(session: Session, model: type[DeclarativeBase], ids: list[int], **values: Any) -> int:
    """UPDATE model SET values WHERE id IN ids, a bounded batch per statement; returns the rows changed."""
    column = model.metadata.tables[model.__tablename__].c.id
    return _each_batch_of_ids(
        session, ids, lambda batch: update(model).where(_id_in(session, column, batch)).values(**values)
    )


def delete_by_ids(session: Session, model: type[DeclarativeBase], ids: list[int], *, column: str = "id") -> int:
    """DELETE FROM model WHERE column IN ids, a bounded batch per statement; returns the rows deleted."""
    target = model.metadata.tables[model.__tablename__].c[column]
    return _each_batch_of_ids(session, ids, lambda batch: delete(model).where(_id_in(session, target, batch)))


def chosen_by(key: Any, values: dict[Any, Any], type_: Any = None, else_: Any = None) -> Any:
    """CASE key WHEN k THEN v …: a per-row value chosen by a column the rows share few distinct values
    of (a due date, an opening day), worked out in Python once per value. `type_` binds the values as a
    column's type (a UTC instant compared with a stored one)."""
    whens = {k: literal(v, type_) if type_ is not None else v for k, v in values.items()}
    return case(whens, value=key, else_=else_)


# Past this many rows written at once (a launch's assignments, a busy tick's messages), the changed tables'
# statistics are refreshed in the same transaction.
BULK_ROWS = 10_000
LAUNCHED_TABLES = ("department", "task_template", "assignment")
TICKED_TABLES = ("assignment", "escalation", "duban", "outbox", "rollup_snapshot", "score_snapshot")


def refresh_statistics(session: Session, tables: tuple[str, ...]) -> None:
    """PostgreSQL: ANALYZE tables just changed in bulk, so what runs next (the first tick after a
    launch, the boards after a busy tick) is planned on their real sizes; autovacuum would do it a
    minute or more later. SQLite plans these queries by their indexes alone: nothing to do."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(tables)}"))


class local_date(FunctionElement[dt.date]):
    """The Beijing calendar day of a stored UTC instant, in SQL: domain.localtime.local_day's rule, for
    grouping and comparing rows by the day something happened without reading them into Python."""

    type = Date()
    inherit_cache = True
    name = "local_date"


# Asia/Shanghai has kept UTC+8 without daylight saving since 1991; SQLite keeps the UTC instant as text.
_LOCAL_OFFSET_HOURS = 8


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('{LOCAL_TZ.key}', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+{_LOCAL_OFFSET_HOURS} hours')"
