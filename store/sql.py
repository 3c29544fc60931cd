"""Portable pieces of set-based SQL (the tick works on sets of rows, never row by row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Table, case, func, literal, literal_column, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def table_of(model: type[DeclarativeBase]) -> Table:
    """A mapped class's table, typed as the Table the set-based helpers take."""
    return model.metadata.tables[model.__tablename__]


def insert_ignoring_duplicates(session: Session, table: Table, columns: list[str], source: Any, key: list[str]) -> int:
    """INSERT … SELECT that skips rows whose natural key already exists; returns rows inserted."""
    if session.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(table).from_select(columns, source).on_conflict_do_nothing(index_elements=key)
        # psycopg reports rowcount -1 for this statement; count what RETURNING hands back instead.
        inserted = stmt.returning(literal_column("1")).cte("inserted")
        return session.execute(select(func.count()).select_from(inserted)).scalar_one()
    lite = sqlite.insert(table).from_select(columns, source).on_conflict_do_nothing(index_elements=key)
    result: CursorResult[Any] = session.execute(lite)  # type: ignore[assignment]  # DML returns a cursor result
    return result.rowcount or 0


ROWS_PER_STATEMENT = 5000  # rows (or ids in an IN list) sent in one statement when many are written at once


def insert_rows_ignoring_duplicates(
    session: Session, table: Table, rows: list[dict[str, Any]], key: list[str], *, chunk: int = ROWS_PER_STATEMENT
) -> int:
    """INSERT of many rows built in Python (multi-row VALUES, `chunk` rows per statement) that skips
    rows whose natural key already exists; returns rows inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=key).returning(table.c.id)
    inserted = 0
    for start in range(0, len(rows), chunk):
        inserted += len(session.execute(stmt, rows[start : start + chunk]).all())
    return inserted


def update_by_ids(session: Session, model: type[DeclarativeBase], ids: list[int], **values: Any) -> None:
    """UPDATE model SET values WHERE id IN ids, a bounded IN list per statement (the ids can be a million)."""
    column = model.metadata.tables[model.__tablename__].c.id
    for start in range(0, len(ids), ROWS_PER_STATEMENT):
        session.execute(
            update(model)
            .where(column.in_(ids[start : start + ROWS_PER_STATEMENT]))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


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
