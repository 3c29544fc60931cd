"""Append-only, hash-chained audit trail: an edited or deleted row breaks the chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from domain.access import Actor
from store.models import AuditEntry

GENESIS = "0" * 64


def _digest(prev: str, at: dt.datetime, actor: str, action: str, entity: str, key: str,
            before: str | None, after: str | None, outcome: str) -> str:
    payload = json.dumps(
        [prev, at.astimezone(dt.timezone.utc).isoformat(), actor, action, entity, key, before, after, outcome],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(
    session: Session,
    *,
    at: dt.datetime,
    actor: Actor,
    action: str,
    entity: str,
    entity_key: str,
    before: Any = None,
    after: Any = None,
    outcome: str = "ok",
) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends so two transactions never chain onto the same previous hash.
        session.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    b, a = _dump(before), _dump(after)
    entry = AuditEntry(
        at=at, actor=actor.username, action=action, entity=entity, entity_key=entity_key,
        before_json=b, after_json=a, outcome=outcome, prev_hash=prev,
        hash=_digest(prev, at, actor.username, action, entity, entity_key, b, a, outcome),
    )
    session.add(entry)
    session.flush()


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # id of the first entry that does not match
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session) -> ChainReport:
    prev = GENESIS
    count = 0
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        count += 1
        if e.prev_hash != prev:
            return ChainReport(count, e.id, "上一条记录被删除或改动（链接断开）")
        expected = _digest(prev, e.at, e.actor, e.action, e.entity, e.entity_key, e.before_json, e.after_json, e.outcome)
        if e.hash != expected:
            return ChainReport(count, e.id, "记录内容被改动（哈希不符）")
        prev = e.hash
    return ChainReport(count, None)
