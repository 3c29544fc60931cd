"""Portable pieces of set-based SQL (the tick works on sets of rows, never row by row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(session: Session, table: Table, columns: list[str], select: Any, key: list[str]) -> int:
    """INSERT … SELECT that skips rows whose natural key already exists; returns rows inserted."""
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = ins.from_select(columns, select).on_conflict_do_nothing(index_elements=key)
    return session.execute(stmt).rowcount or 0
