"""Unit of work: one transaction per state change, rolled back unless explicitly committed."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.db import database_url, shared_engine


class UnitOfWork:
    def __init__(self, engine: Engine | str | None = None):
        if engine is None or isinstance(engine, str):
            engine = shared_engine(engine or database_url())
        self.engine = engine
        self.session: Session

    def __enter__(self) -> "UnitOfWork":
        self.session = Session(self.engine, expire_on_commit=False, autoflush=True)
        self.session.begin()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()  # a no-op after commit; undoes everything otherwise
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
