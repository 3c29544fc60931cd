"""Permission checks whose refusals survive the failed operation.

A refused call raises, and the caller then rolls its unit of work back; the audit record of the
refusal must not go with it. So `refuse` writes the record in its own short transaction on a new
connection to the same database, commits it, and only then raises.

Two cases cannot use a second connection without waiting on ourselves, and fall back to recording
in the caller's session (the record is then kept only if the caller commits):
- SQLite, when the caller's transaction has already written (it holds the only write lock);
- PostgreSQL, when the caller's transaction already appended to the audit chain (it holds the
  chain's advisory lock until it commits).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from domain.access import Actor, Forbidden, Role
from services import audit
from services.errors import ServiceError

_AUDIT_LOCK = 7243001


def db_clock(session: Session) -> dt.datetime:
    """The database server's time, for audit records of read refusals made without an `at`."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.scalar(text("SELECT now()"))
        return value.astimezone(dt.timezone.utc)
    raw = session.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
    return dt.datetime.fromisoformat(raw).replace(tzinfo=dt.timezone.utc)


def _outer_blocks(session: Session) -> bool:
    bind = session.get_bind()
    if not session.in_transaction():
        return False
    try:
        conn = session.connection()
    except Exception:  # noqa: BLE001 - a failed transaction; a fresh connection will do
        return False
    if bind.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        return bool(getattr(raw, "in_transaction", False))
    if bind.dialect.name == "postgresql":
        held = conn.execute(
            text("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objid = :k"),
            {"k": _AUDIT_LOCK},
        ).first()
        return held is not None
    return False


def record_refusal(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    entity: str,
    entity_key: str,
    reason: str,
    detail: Any = None,
) -> None:
    """Append an outcome='refused' audit record that is committed even though the operation fails."""
    after = {"reason": reason}
    if detail is not None:
        after["detail"] = detail
    bind = session.get_bind()
    if not _outer_blocks(session):
        try:
            with Session(bind, expire_on_commit=False) as own:
                own.begin()
                if bind.dialect.name == "sqlite":
                    own.connection().exec_driver_sql("PRAGMA busy_timeout = 5000")
                when = at or db_clock(own)
                audit.record(own, at=when, actor=actor, action=action, entity=entity, entity_key=entity_key,
                             after=after, outcome="refused")
                own.commit()
                if bind.dialect.name == "sqlite":
                    own.connection().exec_driver_sql("PRAGMA busy_timeout = 30000")
            return
        except OperationalError:
            pass  # locked by the caller after all: record in its transaction instead
    audit.record(session, at=at or db_clock(session), actor=actor, action=action, entity=entity,
                 entity_key=entity_key, after=after, outcome="refused")


def refuse(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    entity: str,
    entity_key: str,
    label: str,
    reason: str = "",
) -> NoReturn:
    """Record the refusal, then raise Forbidden (label: what was attempted, in Chinese)."""
    error = Forbidden(actor, label, reason)
    record_refusal(session, actor=actor, at=at, action=action, entity=entity, entity_key=entity_key,
                   reason=str(error))
    raise error


def check(
    session: Session,
    allowed: bool,
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    entity: str,
    entity_key: str,
    label: str,
    reason: str = "",
) -> None:
    if not allowed:
        refuse(session, actor=actor, at=at, action=action, entity=entity, entity_key=entity_key,
               label=label, reason=reason)


def fail(
    session: Session,
    error: ServiceError,
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    entity: str,
    entity_key: str,
) -> NoReturn:
    """Record a refused state change (conflict, bad input) and raise the given error."""
    record_refusal(session, actor=actor, at=at, action=action, entity=entity, entity_key=entity_key,
                   reason=str(error))
    raise error


def department_scope(session: Session, *, actor: Actor, at: dt.datetime | None, action: str, campaign_code: str,
                     department_code: str | None, what: str, reason: str) -> str | None:
    """The department a list call may show. A department actor gets its own only (asking for
    another is refused and audited); the office and leaders get what they asked for (None: all).
    what: the listed things, as in 查看部门 X 的{what}."""
    if actor.role != Role.department:
        return department_code
    if department_code is not None and department_code != actor.department_code:
        check(session, False, actor=actor, at=at, action=action, entity="department",
              entity_key=f"{campaign_code}/{department_code}", label=f"查看部门 {department_code} 的{what}",
              reason=reason)
    return actor.department_code
