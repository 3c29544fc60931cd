"""Unit of work, and the one rule for transactions.

The rule:
- The edge that serves one request (a CLI command, a dashboard action, a Prefect task) opens one
  `UnitOfWork`, calls services with its session, and calls `commit()` once when the request
  succeeded. Leaving the block without `commit()` rolls everything back (a dry run does that on
  purpose).
- Services never commit, roll back or open sessions. They change the session they are given,
  `flush()` when they need ids, and raise a `domain.errors.UserError` to refuse. An insert that may
  race with another process runs in a savepoint (`session.begin_nested()`), never a rollback of the
  caller's transaction.
- A refusal must outlive the refused operation: the guard attaches a `store.audit.Refusal` to the
  error it raises, and this unit of work appends it to the audit chain in a transaction of its
  own, after rolling the operation back.
- The one exception is the notification send protocol, which must commit per message (claim,
  hand over, record): `services.delivery.sending` owns that loop and opens its own units of work
  on the engine it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store import audit
from store.db import shared_engine

T = TypeVar("T")


class UnitOfWork:
    def __init__(self, engine: Engine | str):
        self.engine = shared_engine(engine) if isinstance(engine, str) else engine
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False, autoflush=True)
        self.session.begin()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()  # a no-op after commit; undoes everything otherwise
        self.session.close()
        refusal = getattr(exc, "refusal", None)
        if isinstance(refusal, audit.Refusal):
            with Session(self.engine) as own, own.begin():
                audit.record_refusal(own, refusal)

    def commit(self) -> None:
        self.session.commit()


def unit_per_step(engine: Engine) -> Callable[[str, Callable[[Session], T]], T]:
    """A step runner (services.ticking.StepRunner) that runs each named step in a unit of work of its
    own and commits it: what the tick flow's tasks do, without the engine. The dashboard ticks this
    way (starting Prefect's embedded server inside a Streamlit process costs seconds and keeps
    nothing: the record is the application's tables and audit), and so do the tests."""

    def run(name: str, step: Callable[[Session], T], /) -> T:
        with UnitOfWork(engine) as uow:
            result = step(uow.session)
            uow.commit()
            return result

    return run
