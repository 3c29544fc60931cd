"""The Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.models import Base


def _is_sqlite_length_only(diff) -> bool:
    # Migration 0002 widens assignment.period only where lengths are enforced; SQLite ignores them.
    return isinstance(diff, list) and diff[0][0] == "modify_type" and diff[0][3] == "period"


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    if engine.dialect.name == "sqlite":
        diffs = [d for d in diffs if not _is_sqlite_length_only(d)]
    assert diffs == []
