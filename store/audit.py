"""Append-only, keyed and anchored audit chain.

- Every entry carries `seq` (its id: 1, 2, 3 … with no gaps), the previous entry's MAC and its own
  MAC: HMAC-SHA256 over (seq, previous MAC, content) with a key kept outside the database. Editing,
  deleting, reordering or recomputing rows without the key breaks a link or a MAC.
- Appends are serialised on every database through the one-row `audit_head` table: the appending
  transaction first UPDATEs it (SQLite: the write lock; PostgreSQL: a row lock), then takes
  seq = head.seq + 1 and chains onto head.digest. The primary key on seq makes a fork impossible.
- The head is anchored outside the database: after a transaction that appended entries commits,
  "seq:mac" is appended (fsync'd) to the anchor file, so cutting off the newest entries, or
  replacing the chain, is found by `verify` alone. The anchor is written after the commit, so it
  can lag (a crash in between) but never claims an entry that was not committed.
- Cost: the head row stays locked until the appending transaction ends (as the PostgreSQL advisory
  lock it replaces did), so audited transactions commit one after another; one fsync per commit.

Where the key and the anchor live (`locations`): configured by the edge from Settings
(`configure(settings)`: `audit_key_file`, `audit_anchor_file`); otherwise, for a SQLite file,
`audit.key` and `<database stem>.audit-anchor.log` beside the database; for a server database
`<data_dir>/audit.key` and `<data_dir>/audit-anchor-<database>.log`. A process that was not
configured for a server database uses the default key and writes no anchor. A missing key file is
generated on first use (mode 0600); it is never stored in the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Integer, String, Table, bindparam, event, insert, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from domain.access import Actor
from domain.errors import Invalid
from settings import DEFAULT_DATA_DIR, Settings
from store.models import AuditEntry, Base

GENESIS = "0" * 64
_log = logging.getLogger(__name__)
HEAD_ID = 1
KEY_FILE_NAME = "audit.key"


class AuditHead(Base):
    """The one row that serialises appends: the newest entry's seq and MAC."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))


# --- where the key and the anchor live -----------------------------------------------------------


@dataclass(frozen=True)
class Locations:
    key_file: Path | None  # None: an in-memory database, keyed for this process only
    anchor_file: Path | None  # None: no anchor (an unconfigured server database, in-memory)


_configured: dict[tuple[str, str, int | None, str], Locations] = {}
_keys: dict[Path | None, bytes] = {}


def _identity(url: str | URL) -> tuple[str, str, int | None, str]:
    """The same database however its URL is spelled (driver, relative path)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        database = str(Path(database).resolve())
    return parsed.get_backend_name(), parsed.host or "", parsed.port, database


def _sqlite_file(url: str | URL) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def default_locations(url: str | URL, data_dir: Path = DEFAULT_DATA_DIR, *, anchored: bool = True) -> Locations:
    db_file = _sqlite_file(url)
    if db_file is not None:
        return Locations(db_file.parent / KEY_FILE_NAME, db_file.parent / f"{db_file.stem}.audit-anchor.log")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Locations(None, None)
    anchor = data_dir / f"audit-anchor-{parsed.database or 'default'}.log" if anchored else None
    return Locations(data_dir / KEY_FILE_NAME, anchor)


def configure(settings: Settings) -> Locations:
    """Called by the edge (CLI, dashboard, flow entry) once it has its settings."""
    default = default_locations(settings.db_url, settings.data_dir)
    chosen = Locations(settings.audit_key_file or default.key_file, settings.audit_anchor_file or default.anchor_file)
    _configured[_identity(settings.db_url)] = chosen
    return chosen


def discard_anchor(settings: Settings) -> None:
    """For a database that is deleted to be created afresh (the demo): its anchor goes with it, or
    the new chain would be measured against the old one's heads. Never for a database in use."""
    anchor = configure(settings).anchor_file
    if anchor is not None:
        anchor.unlink(missing_ok=True)


def forget(url: str | URL) -> None:
    """Back to the defaults for this database (tests that configured a throw-away anchor)."""
    _configured.pop(_identity(url), None)


def locations(url: str | URL) -> Locations:
    return _configured.get(_identity(url)) or default_locations(url, anchored=False)


def _bind_url(bind: Session | Connection | Engine) -> URL:
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.engine.url if isinstance(bind, Connection) else bind.url


def chain_key(bind: Session | Connection | Engine) -> bytes:
    return _load_key(locations(_bind_url(bind)).key_file)


def _load_key(path: Path | None) -> bytes:
    if path in _keys:
        return _keys[path]
    if path is None:
        key = secrets.token_bytes(32)
    else:
        try:
            if not path.exists():
                _create_key_file(path)
            raw = path.read_text(encoding="ascii", errors="replace").strip()
        except OSError as exc:
            raise Invalid(
                f"审计密钥文件 {path} 无法读取或创建：{exc.strerror}（检查 audit_key_file 配置和目录权限）"
            ) from None
        try:
            key = bytes.fromhex(raw)
        except ValueError:
            key = b""
        if len(key) < 16:
            raise Invalid(f"审计密钥文件 {path} 的内容不是至少 16 字节的十六进制密钥")
    _keys[path] = key
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key atomically with mode 0600; if another process won the race, keep its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process made the key first: keep its key
            os.link(tmp, path)  # never overwrites an existing key
    finally:
        os.unlink(tmp)


# --- appending ---------------------------------------------------------------------------------


def mac(
    key: bytes,
    seq: int,
    prev: str,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    before: str | None,
    after: str | None,
    outcome: str,
) -> str:
    payload = json.dumps(
        [
            seq,
            prev,
            at.astimezone(dt.UTC).isoformat(),
            actor,
            action,
            entity,
            entity_key,
            before,
            after,
            outcome,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def entry_mac(key: bytes, e: AuditEntry) -> str:
    return mac(
        key, e.id, e.prev_hash, e.at, e.actor, e.action, e.entity, e.entity_key, e.before_json, e.after_json, e.outcome
    )


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
    # Rows the refusal leaves behind besides its audit entry (e.g. a failed login attempt, which
    # throttling counts): added in the same transaction as the record.
    keep: tuple[object, ...] = ()


def ids_digest(ids: Iterable[int]) -> str:
    """A short fingerprint of a set of row ids, for an entry about many rows (the ids can be a million)."""
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:32]


def record_refusal(session: Session, refusal: Refusal) -> None:
    session.add_all(refusal.keep)
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


_HEAD = cast(Table, AuditHead.__table__)
_ENTRY = cast(Table, AuditEntry.__table__)
# Built once: it runs for every audit entry (thousands in a simulated campaign).
_CLAIM = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.seq, _HEAD.c.digest)
_INSERT_ENTRY = insert(_ENTRY)
# Both write the head row: the claim (seq + 1, for the first entry of a transaction) and the head's new state.
_SET_HEAD = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=bindparam("seq"), digest=bindparam("digest"))
_APPENDED = "audit.appended"
_HELD = "audit.held_head"  # (seq, MAC) this transaction last wrote to the locked head row
_TO_ANCHOR = "audit.to_anchor"


def _claim_next(session: Session) -> tuple[int, str]:
    """The next seq and the MAC to chain onto. The first entry of a transaction locks the head (its
    UPDATE waits for any other appender, and the lock holds to the end of the transaction); the
    entries after it in the same transaction chain onto the head this session last wrote."""
    held = session.info.get(_HELD)
    if held is not None:
        return held[0] + 1, held[1]
    for _ in range(3):
        row = session.execute(_CLAIM).first()
        if row is not None:
            return int(row.seq), str(row.digest)
        _seed_head(session)
    raise RuntimeError("audit_head row could not be created")


def _seed_head(session: Session) -> None:
    """The head row is missing (a database emptied by hand or by a test): rebuild it from the
    newest entry. A concurrent seeder wins or loses on the primary key; both then lock it."""
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    try:
        with session.begin_nested():
            session.execute(
                insert(_HEAD).values(id=HEAD_ID, seq=last.id if last else 0, digest=last.hash if last else GENESIS)
            )
    except IntegrityError:
        pass


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
    key = chain_key(session)
    seq, prev = _claim_next(session)
    b, a = _dump(before), _dump(after)
    digest = mac(key, seq, prev, at, actor.username, action, entity, entity_key, b, a, outcome)
    # Core statements, not an ORM object: an audit entry is written once and never changed, and this
    # runs for every change and consequence (thousands in a simulated campaign).
    session.execute(
        _INSERT_ENTRY,
        {
            "id": seq,
            "at": at,
            "actor": actor.username,
            "action": action,
            "entity": entity,
            "entity_key": entity_key,
            "before_json": b,
            "after_json": a,
            "outcome": outcome,
            "prev_hash": prev,
            "hash": digest,
        },
    )
    session.execute(_SET_HEAD, {"seq": seq, "digest": digest})
    session.flush()  # the caller's pending changes go with the entry that records them
    session.info[_APPENDED] = True
    session.info[_HELD] = (seq, digest)


@event.listens_for(Session, "before_commit")
def _read_head_to_anchor(session: Session) -> None:
    # Read inside the committing transaction: whatever it says is committed by this commit or before.
    if not session.info.pop(_APPENDED, False):
        return
    anchor = locations(_bind_url(session)).anchor_file
    if anchor is None:
        return
    held = session.info.get(_HELD)
    if held is not None:
        session.info[_TO_ANCHOR] = (anchor, *held)
        return
    row = session.execute(select(_HEAD.c.seq, _HEAD.c.digest).where(_HEAD.c.id == HEAD_ID)).first()
    if row is not None:
        session.info[_TO_ANCHOR] = (anchor, int(row.seq), str(row.digest))


@event.listens_for(Session, "after_commit")
def _write_anchor(session: Session) -> None:
    pending = session.info.pop(_TO_ANCHOR, None)
    if pending is None:
        return
    anchor, seq, digest = pending
    try:
        append_anchor(anchor, seq, digest)
    except OSError:
        # The operation is committed: failing it now would misreport it. The anchor only lags (verify
        # stays sound); the log says why.
        _log.exception("could not anchor audit head %s to %s", seq, anchor)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (committed or not)
        session.info.pop(_APPENDED, None)
        session.info.pop(_HELD, None)
        session.info.pop(_TO_ANCHOR, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_held_head(session: Session, previous_transaction: SessionTransaction) -> None:
    # A savepoint rolled back may have taken entries and the head's update with it: the next entry
    # reads the head again (the row lock, if the outer transaction took it, is still this one's).
    session.info.pop(_HELD, None)


def append_anchor(path: Path, seq: int, digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{seq}:{digest}\n".encode("ascii"))  # one small O_APPEND write: lines never interleave
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchor(path: Path | None) -> dict[int, str]:
    """seq -> MAC for every anchored head (a torn last line from a crash is ignored)."""
    if path is None or not path.exists():
        return {}
    anchored: dict[int, str] = {}
    with path.open(encoding="ascii", errors="replace") as fh:
        for line in fh:
            seq, sep, digest = line.strip().partition(":")
            if sep and seq.isdigit() and len(digest) == 64:
                anchored[int(seq)] = digest
    return anchored


# --- verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # seq of the first entry that does not match (0: the end is missing)
    reason: str = ""
    head: str = ""  # "N:mac-prefix" of the last entry
    anchored: int = 0  # how many anchored heads were checked

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def head_text(count: int, digest: str) -> str:
    return f"{count}:{digest[:16]}"


def verify(session: Session, expect_head: str | None = None) -> ChainReport:
    """Check every entry's MAC and link, that seqs run 1, 2, 3 … without gaps, that the head row
    matches the last entry, and every head in the anchor file (and `expect_head`, "N:mac-prefix",
    a head written down elsewhere) against the entry it names."""
    want_n, want_hash = _parse_head(expect_head) if expect_head else (None, None)
    key = chain_key(session)
    anchored = read_anchor(locations(_bind_url(session)).anchor_file)
    prev = GENESIS
    count = checked = 0
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        count += 1
        if e.prev_hash != prev:
            return ChainReport(count, e.id, "上一条记录被删除或改动（链接断开）")
        if e.hash != entry_mac(key, e):
            return ChainReport(count, e.id, "记录内容被改动（哈希不符：记录被编辑，或整条链在没有密钥的情况下被重算）")
        if e.id != count:
            return ChainReport(count, e.id, f"记录序号不连续：第 {count} 条的序号是 {e.id}（记录被删除或重排）")
        if e.id in anchored:
            checked += 1
            if anchored.pop(e.id) != e.hash:
                return ChainReport(count, e.id, f"第 {e.id} 条记录与数据库之外记下的链头不符（记录被替换）")
        if count == want_n and not e.hash.startswith(want_hash or ""):
            return ChainReport(count, e.id, f"第 {want_n} 条记录与先前记下的链头 {expect_head} 不符")
        prev = e.hash
    missing = max([n for n in anchored if n > count] + ([want_n] if want_n and want_n > count else []), default=0)
    if missing:
        return ChainReport(
            count,
            0,
            f"最新的记录被删除：数据库之外记下的链头是第 {missing} 条，现在只有 {count} 条",
            head_text(count, prev),
        )
    head = session.execute(select(_HEAD.c.seq, _HEAD.c.digest).where(_HEAD.c.id == HEAD_ID)).first()
    if head is not None and (head.seq, head.digest) != (count, prev):
        return ChainReport(
            count,
            0,
            f"链头记录（第 {head.seq} 条）与最后一条记录（第 {count} 条）不符：记录被删除或改动",
            head_text(count, prev),
        )
    return ChainReport(count, None, head=head_text(count, prev), anchored=checked)


def _parse_head(text: str) -> tuple[int, str]:
    n, _, digest = text.strip().partition(":")  # a head pasted from a terminal may carry its newline
    if not n.isdigit() or int(n) < 1 or len(digest) < 8 or any(c not in "0123456789abcdef" for c in digest):
        raise Invalid(f"链头 {text!r} 格式不对，应为 条数:哈希前缀（如 1234:9f86d081884c7d65）")
    return int(n), digest
