"""The audit chain becomes keyed, gap-free and serialised.

- New one-row table `audit_head` (seq, digest): every append locks it first (store.audit).
- Existing entries are re-keyed: ids renumbered 1..n in their order, each MAC recomputed as
  HMAC-SHA256 with the key outside the database (store.audit.chain_key: the configured key file,
  or audit.key beside a SQLite database, generated on first use). Whether the old, unkeyed chain
  was intact is not lost: it is checked first and the outcome is written into a final
  `audit.rekey` entry ("完整", or where it was broken — e.g. the forks of the old SQLite appends).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import op

from store import audit

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_entry = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer), sa.column("at", sa.DateTime(timezone=True)), sa.column("actor", sa.String),
    sa.column("action", sa.String), sa.column("entity", sa.String), sa.column("entity_key", sa.String),
    sa.column("before_json", sa.Text), sa.column("after_json", sa.Text), sa.column("outcome", sa.String),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)
_head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer),
                 sa.column("digest", sa.String))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _legacy_digest(prev: str, row: sa.Row) -> str:
    """The unkeyed SHA-256 of revisions ≤ 0007, to check the old chain before re-keying it."""
    payload = json.dumps([prev, _utc(row.at).isoformat(), row.actor, row.action, row.entity, row.entity_key,
                          row.before_json, row.after_json, row.outcome], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(_entry).order_by(_entry.c.id)).all()
    old_chain = "完整"
    prev = audit.GENESIS
    for row in rows:
        if row.prev_hash != prev or row.hash != _legacy_digest(prev, row):
            old_chain = f"在原第 {row.id} 号记录处断开（升级前已被改动、删除或分叉）"
            break
        prev = row.hash
    if not rows:
        conn.execute(sa.insert(_head).values(id=audit.HEAD_ID, seq=0, digest=audit.GENESIS))
        return
    key = audit.chain_key(conn)
    prev = audit.GENESIS
    records = [*rows, None]
    for seq, row in enumerate(records, start=1):
        if row is None:  # the closing entry that says what was re-keyed
            at = dt.datetime.now(dt.UTC)
            values = {"at": at, "actor": "system", "action": "audit.rekey", "entity": "audit", "entity_key": "*", "before_json": None,
                          "after_json": json.dumps({"entries": len(rows), "old_chain": old_chain}, ensure_ascii=False,
                                                sort_keys=True), "outcome": "ok"}
        else:
            values = {"at": _utc(row.at), "actor": row.actor, "action": row.action, "entity": row.entity,
                          "entity_key": row.entity_key, "before_json": row.before_json, "after_json": row.after_json,
                          "outcome": row.outcome}
        digest = audit.mac(key, seq, prev, values["at"], values["actor"], values["action"], values["entity"],
                            values["entity_key"], values["before_json"], values["after_json"], values["outcome"])
        if row is None:
            conn.execute(sa.insert(_entry).values(id=seq, prev_hash=prev, hash=digest, **values))
        else:
            # Ids only move down (seq <= old id) and in ascending order, so the target id is always free.
            conn.execute(sa.update(_entry).where(_entry.c.id == row.id).values(id=seq, prev_hash=prev, hash=digest))
        prev = digest
    conn.execute(sa.insert(_head).values(id=audit.HEAD_ID, seq=len(records), digest=prev))


def downgrade() -> None:
    # The re-keyed MACs stay; the unkeyed verifier of 0007 will report them as changed.
    op.drop_table("audit_head")
