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


def _digest(
    prev: str,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: str | None,
    after: str | None,
    outcome: str,
) -> str:
    payload = json.dumps(
        [prev, at.astimezone(dt.UTC).isoformat(), actor, action, entity, key, before, after, outcome],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class Refusal:
    """An attempt the service layer refused: it is recorded by the unit of work after the
    operation's own transaction has been rolled back (see store.uow)."""

    actor: Actor
    at: dt.datetime | None  # None: the database server's time
    action: str
    entity: str
    entity_key: str
    reason: str


def record_refusal(session: Session, refusal: Refusal) -> None:
    at = refusal.at or db_clock(session)
    record(
        session,
        at=at,
        actor=refusal.actor,
        action=refusal.action,
        entity=refusal.entity,
        entity_key=refusal.entity_key,
        after={"reason": refusal.reason},
        outcome="refused",
    )


def db_clock(session: Session) -> dt.datetime:
    """The database server's time, for records of refused reads made without an `at`."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.scalar(text("SELECT now()"))
        return value.astimezone(dt.UTC)
    raw = session.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
    return dt.datetime.fromisoformat(raw).replace(tzinfo=dt.UTC)


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
        at=at,
        actor=actor.username,
        action=action,
        entity=entity,
        entity_key=entity_key,
        before_json=b,
        after_json=a,
        outcome=outcome,
        prev_hash=prev,
        hash=_digest(prev, at, actor.username, action, entity, entity_key, b, a, outcome),
    )
    session.add(entry)
    session.flush()


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # id of the first entry that does not match (0: the end is missing)
    reason: str = ""
    head: str = ""  # "N:hash" of the last entry, to be kept outside the database

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def head_text(count: int, digest: str) -> str:
    return f"{count}:{digest[:16]}"


def verify(session: Session, expect_head: str | None = None) -> ChainReport:
    """Check every link of the chain. A chain cannot notice its newest entries being cut off on its
    own; `expect_head` ("N:hash-prefix", a head printed by an earlier verify and kept elsewhere)
    proves entry N is still there, unchanged."""
    want_n, want_hash = _parse_head(expect_head) if expect_head else (None, None)
    prev = GENESIS
    count = 0
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        count += 1
        if e.prev_hash != prev:
            return ChainReport(count, e.id, "上一条记录被删除或改动（链接断开）")
        expected = _digest(
            prev, e.at, e.actor, e.action, e.entity, e.entity_key, e.before_json, e.after_json, e.outcome
        )
        if e.hash != expected:
            return ChainReport(count, e.id, "记录内容被改动（哈希不符）")
        if count == want_n and want_hash is not None and not e.hash.startswith(want_hash):
            return ChainReport(count, e.id, f"第 {want_n} 条记录与先前记下的链头 {expect_head} 不符")
        prev = e.hash
    if want_n is not None and count < want_n:
        return ChainReport(
            count, 0, f"最新的记录被删除：先前记下的链头是第 {want_n} 条，现在只有 {count} 条", head_text(count, prev)
        )
    return ChainReport(count, None, head=head_text(count, prev))


def _parse_head(text: str) -> tuple[int, str]:
    n, _, digest = text.partition(":")
    if not n.isdigit() or int(n) < 1 or len(digest) < 8 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"链头 {text!r} 格式不对，应为 条数:哈希前缀（如 1234:9f86d081884c7d65）")
    return int(n), digest
