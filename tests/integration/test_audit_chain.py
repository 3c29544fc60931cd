"""The audit chain proves itself: concurrent appends never fork it, and `campaign audit verify`
(the CLI alone, no extra arguments) detects every tampering an intruder with database access
but without the key can do — and a tail cut even by someone who has the key.

The command runs in-process (tests/cli_support.run_cli: same argv, environment, exit code and output): a
process per call cost ~3.5 s a case on a 2-core machine. One tampering case (PROCESS_CASE) still runs it as
a real process, for the exit status 1 a script or cron job sees and the settings reaching it only through
the environment.

Both databases: SQLite uses the embedded default (key and anchor beside the database file, nothing
configured); PostgreSQL uses the operator's key and anchor files (CAMPAIGN_AUDIT_KEY_FILE,
CAMPAIGN_AUDIT_ANCHOR_FILE), given to this process and to the CLI alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

import services.users as users_service
from domain.access import SYSTEM
from services.users import AuthFailed, authenticate
from settings import Settings
from store import audit
from store.db import make_engine
from store.migrate import alembic_config, upgrade
from store.models import AuditEntry
from store.uow import UnitOfWork
from tests.cli_support import CliRun, run_cli

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = Path(sys.executable).parent / "campaign"
WORKERS, APPENDS = 4, 50
AT = dt.datetime(2020, 6, 2, 3, 0, tzinfo=dt.UTC)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _settings(engine: Engine, tmp_path: Path) -> Settings:
    if engine.dialect.name == "sqlite":
        return Settings(database_url=_url(engine), data_dir=tmp_path / "data")  # the embedded default
    return Settings(
        database_url=_url(engine),
        data_dir=tmp_path / "data",
        audit_key_file=tmp_path / "operator" / "audit.key",
        audit_anchor_file=tmp_path / "operator" / "audit-anchor.log",
    )


@pytest.fixture
def chain_settings(engine, tmp_path):
    settings = _settings(engine, tmp_path)
    audit.configure(settings)
    yield settings
    audit.forget(settings.db_url)


def _campaign_vars(settings: Settings) -> dict[str, str]:
    env = {"CAMPAIGN_DATABASE_URL": settings.db_url, "CAMPAIGN_DATA_DIR": str(settings.data_dir)}
    for name in ("audit_key_file", "audit_anchor_file"):
        value = getattr(settings, name)
        if value is not None:
            env[f"CAMPAIGN_{name.upper()}"] = str(value)
    return env


def _verify_process(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CAMPAIGN), "audit", "verify"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.upper().startswith("CAMPAIGN_")} | _campaign_vars(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def verify_cli(chain_settings, monkeypatch, capsys) -> Callable[[], CliRun]:
    """`campaign audit verify` in-process, with only the settings a process would be given."""
    return lambda: run_cli(
        "audit", "verify", env=_campaign_vars(chain_settings), monkeypatch=monkeypatch, capsys=capsys
    )


# --- no fork under concurrency -------------------------------------------------------------------


def _append_concurrently(settings: Settings, barrier, worker: int, results) -> None:
    """A child process: half failed logins (refusals appended by the unit of work after its
    rollback), half successful logins with an entry in the committing transaction."""
    users_service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # as in conftest
    engine = make_engine(settings.db_url)
    audit.configure(settings)
    raw: list[str] = []
    barrier.wait()
    for i in range(APPENDS):
        try:
            with UnitOfWork(engine) as uow:
                if i % 2:  # an unknown name per worker, so throttling never locks the office account out
                    authenticate(uow.session, f"intruder{worker}", "wrong password", at=AT)
                else:
                    actor = authenticate(uow.session, "office", PASSWORD_FOR_CHILDREN, at=AT)
                    audit.record(
                        uow.session, at=AT, actor=actor, action="test.append", entity="test", entity_key=f"{worker}/{i}"
                    )
                    uow.commit()
        except AuthFailed:
            pass
        except Exception as exc:
            raw.append(f"{type(exc).__name__}: {exc}")
    engine.dispose()
    results.put((worker, raw))


PASSWORD_FOR_CHILDREN = "Passw0rd!2020"  # tests/conftest.py PASSWORD


def test_concurrent_refusals_and_logins_never_fork_the_chain(engine, chain_settings, users, verify_cli):
    assert users["office"] == PASSWORD_FOR_CHILDREN
    with UnitOfWork(engine) as uow:
        before = uow.session.scalar(select(func.count()).select_from(AuditEntry))
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [
        ctx.Process(target=_append_concurrently, args=(chain_settings, barrier, w, results)) for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    raw_errors = [e for errors in outcomes.values() for e in errors]
    assert raw_errors == []
    with UnitOfWork(engine) as uow:
        s = uow.session
        entries = s.scalar(select(func.count()).select_from(AuditEntry))
        assert entries >= before + WORKERS * APPENDS  # successful logins may add their own entry
        refused = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "user.login", AuditEntry.outcome == "refused")
        )
        appended = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.append"))
        assert (refused, appended) == (WORKERS * APPENDS // 2, WORKERS * APPENDS // 2)
        assert s.scalar(select(func.count(func.distinct(AuditEntry.prev_hash)))) == entries  # no two share a parent
        assert s.scalar(select(func.max(AuditEntry.id))) == entries  # seq 1..n without gaps
        report = audit.verify(s)
        assert report.ok, report.reason
        assert report.entries == entries and report.anchored >= 1
    cli = verify_cli()
    assert cli.returncode == 0, cli.stderr
    assert f"共 {entries} 条" in cli.stdout


def test_a_second_entry_for_a_seq_is_refused_by_the_database(engine, chain_settings, users):
    """Even code that bypassed the head could not fork the chain: seq is the primary key."""
    with UnitOfWork(engine) as uow:
        last = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        with pytest.raises(IntegrityError):
            uow.session.execute(
                insert(AuditEntry).values(
                    id=last.id,
                    at=AT,
                    actor="x",
                    action="x",
                    entity="x",
                    entity_key="x",
                    outcome="ok",
                    prev_hash=last.prev_hash,
                    hash="f" * 64,
                )
            )


def test_entries_after_a_rolled_back_savepoint_chain_onto_the_head_the_database_kept(engine, chain_settings, users):
    """A transaction claims the head once and chains its later entries onto what it wrote; a savepoint
    rolled back takes its entries with it, and the next entry chains onto the head as it stands again."""
    with UnitOfWork(engine) as uow:
        before = uow.session.scalar(select(func.max(AuditEntry.id)))
    with UnitOfWork(engine) as uow:
        s = uow.session
        audit.record(s, at=AT, actor=SYSTEM, action="test.kept", entity="test", entity_key="1")
        with pytest.raises(RuntimeError), s.begin_nested():
            audit.record(s, at=AT, actor=SYSTEM, action="test.undone", entity="test", entity_key="2")
            audit.record(s, at=AT, actor=SYSTEM, action="test.undone", entity="test", entity_key="3")
            raise RuntimeError("the savepoint's work is refused")
        with s.begin_nested():  # a savepoint that is kept leaves the chain where it put it
            audit.record(s, at=AT, actor=SYSTEM, action="test.kept", entity="test", entity_key="4")
        audit.record(s, at=AT, actor=SYSTEM, action="test.kept", entity="test", entity_key="5")
        uow.commit()
    with UnitOfWork(engine) as uow:
        s = uow.session
        added = list(
            s.execute(select(AuditEntry.id, AuditEntry.action, AuditEntry.entity_key).where(AuditEntry.id > before))
        )
        assert [tuple(r) for r in added] == [
            (before + 1, "test.kept", "1"),
            (before + 2, "test.kept", "4"),
            (before + 3, "test.kept", "5"),
        ]
        report = audit.verify(s)
        assert report.ok, report.reason
        assert report.entries == before + 3


# --- tampering, found by the CLI alone ------------------------------------------------------------


def _rows(s) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _set_head(s, seq: int, digest: str) -> None:
    """A careful intruder keeps the head row consistent with what they left."""
    s.execute(update(audit.AuditHead).values(seq=seq, digest=digest))


def _edit_a_row(s, key: bytes) -> None:
    victim = _rows(s)[len(_rows(s)) // 2]
    s.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(actor="someone_else"))


def _delete_a_middle_row(s, key: bytes) -> None:
    victim = _rows(s)[len(_rows(s)) // 2]
    s.execute(delete(AuditEntry).where(AuditEntry.id == victim.id))


def _delete_the_tail(s, key: bytes) -> None:
    rows = _rows(s)
    keep = rows[-4]
    s.execute(delete(AuditEntry).where(AuditEntry.id > keep.id))
    _set_head(s, keep.id, keep.hash)


def _recompute_the_chain_without_the_key(s, key: bytes) -> None:
    """Edit a row, then recompute every hash as an unkeyed chain would (SHA-256 of the content)."""
    prev = audit.GENESIS
    rows = _rows(s)
    for e in rows:
        actor = "someone_else" if e.id == rows[len(rows) // 2].id else e.actor
        payload = json.dumps(
            [
                e.id,
                prev,
                e.at.isoformat(),
                actor,
                e.action,
                e.entity,
                e.entity_key,
                e.before_json,
                e.after_json,
                e.outcome,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(payload.encode()).hexdigest()
        s.execute(update(AuditEntry).where(AuditEntry.id == e.id).values(actor=actor, prev_hash=prev, hash=digest))
        prev = digest
    _set_head(s, rows[-1].id, prev)


def _reorder_two_rows(s, key: bytes) -> None:
    rows = _rows(s)
    a, b = rows[len(rows) // 2], rows[len(rows) // 2 + 1]
    fields = (
        "at",
        "actor",
        "action",
        "entity",
        "entity_key",
        "before_json",
        "after_json",
        "outcome",
        "prev_hash",
        "hash",
    )
    values_a, values_b = ({f: getattr(r, f) for f in fields} for r in (a, b))
    s.execute(update(AuditEntry).where(AuditEntry.id == a.id).values(hash="swap-" + a.hash[:8]))
    s.execute(update(AuditEntry).where(AuditEntry.id == b.id).values(**values_a))
    s.execute(update(AuditEntry).where(AuditEntry.id == a.id).values(**values_b))


def _fork_the_chain(s, key: bytes) -> None:
    """What the old SQLite appends did: a new entry chained onto an older parent (a valid MAC even)."""
    rows = _rows(s)
    parent, seq = rows[-2], rows[-1].id + 1
    digest = audit.mac(key, seq, parent.hash, AT, "office", "user.login", "user", "office", None, None, "refused")
    s.execute(
        insert(AuditEntry).values(
            id=seq,
            at=AT,
            actor="office",
            action="user.login",
            entity="user",
            entity_key="office",
            outcome="refused",
            prev_hash=parent.hash,
            hash=digest,
        )
    )
    _set_head(s, seq, digest)


def _recompute_the_chain_with_the_key(s, key: bytes) -> None:
    """An insider who has the key rewrites history from the middle on: the anchor still knows."""
    rows = _rows(s)
    start = len(rows) // 2
    prev = rows[start - 1].hash
    for e in rows[start:]:
        actor = "someone_else" if e.id == rows[start].id else e.actor
        digest = audit.mac(
            key, e.id, prev, e.at, actor, e.action, e.entity, e.entity_key, e.before_json, e.after_json, e.outcome
        )
        s.execute(update(AuditEntry).where(AuditEntry.id == e.id).values(actor=actor, prev_hash=prev, hash=digest))
        prev = digest
    _set_head(s, rows[-1].id, prev)


TAMPERING = {
    "edited row": _edit_a_row,
    "deleted middle row": _delete_a_middle_row,
    "deleted tail": _delete_the_tail,
    "recomputed chain without the key": _recompute_the_chain_without_the_key,
    "reordered rows": _reorder_two_rows,
    "forked chain": _fork_the_chain,
    "recomputed chain with the key": _recompute_the_chain_with_the_key,
}


PROCESS_CASE = "edited row"


@pytest.mark.parametrize("case", list(TAMPERING))
def test_cli_verify_detects_tampering(engine, chain_settings, users, verify_cli, case):
    verify = partial(_verify_process, chain_settings) if case == PROCESS_CASE else verify_cli
    with pytest.raises(AuthFailed), UnitOfWork(engine) as uow:  # some history: a refusal and a login
        authenticate(uow.session, "office", "wrong password", at=AT)
    with UnitOfWork(engine) as uow:
        authenticate(uow.session, "office", users["office"], at=AT)
        uow.commit()
    clean = verify()
    assert clean.returncode == 0, clean.stderr
    assert "审计记录完整" in clean.stdout
    with UnitOfWork(engine) as uow:
        TAMPERING[case](uow.session, audit.chain_key(uow.session))
        uow.commit()
    found = verify()
    assert found.returncode == 1, (case, found.stdout, found.stderr)
    assert "审计记录被改动" in found.stderr and "Traceback" not in found.stderr


# --- upgrading a database written before the chain was keyed ------------------------------------


def _legacy_digest(prev: str, at: dt.datetime, actor: str, outcome: str) -> str:
    """The unkeyed SHA-256 chain of revisions up to 0007 (entries with no before/after)."""
    payload = json.dumps(
        [prev, at.isoformat(), actor, "user.login", "user", actor, None, None, outcome],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@pytest.mark.parametrize("intact", [True, False], ids=["intact", "forked"])
def test_upgrade_rekeys_old_entries_and_says_whether_the_old_chain_was_intact(tmp_path, intact):
    engine = make_engine(f"sqlite:///{(tmp_path / 'old.db').as_posix()}")
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    table = AuditEntry.__table__
    prev, rows = audit.GENESIS, []
    for n, old_id in enumerate((3, 4, 7, 8, 12)):  # ids with gaps, as PostgreSQL leaves after rollbacks
        at = AT + dt.timedelta(minutes=n)
        parent = prev if intact or n != 3 else rows[1]["hash"]  # the old SQLite fork: two children of one parent
        digest = _legacy_digest(parent, at, f"user{n}", "refused")
        rows.append(
            {
                "id": old_id,
                "at": at,
                "actor": f"user{n}",
                "action": "user.login",
                "entity": "user",
                "entity_key": f"user{n}",
                "outcome": "refused",
                "prev_hash": parent,
                "hash": digest,
            }
        )
        prev = digest
    with engine.begin() as conn:
        conn.execute(insert(table), rows)
    upgrade(engine)
    with UnitOfWork(engine) as uow:
        entries = _rows(uow.session)
        assert [e.id for e in entries] == [1, 2, 3, 4, 5, 6]
        assert [e.actor for e in entries[:5]] == [r["actor"] for r in rows]
        rekey = entries[-1]
        assert rekey.action == "audit.rekey"
        said = json.loads(rekey.after_json or "{}")
        assert said["entries"] == 5
        assert (said["old_chain"] == "完整") is intact
        if not intact:
            assert "原第 8 号记录" in said["old_chain"]
        report = audit.verify(uow.session)
        assert report.ok and report.entries == 6, report.reason
    with UnitOfWork(engine) as uow:  # and the next append chains on
        audit.record(uow.session, at=AT, actor=SYSTEM, action="test.append", entity="test", entity_key="after")
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert audit.verify(uow.session).entries == 7
    engine.dispose()


def test_a_database_created_afresh_needs_its_old_anchor_discarded(tmp_path):
    """The demo deletes its database and builds it again: the old anchor would read as a cut tail."""
    db = tmp_path / "demo.db"
    settings = Settings(database_url=f"sqlite:///{db.as_posix()}", data_dir=tmp_path)

    def fresh_chain(entries: int) -> audit.ChainReport:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        engine = make_engine(settings.db_url)
        upgrade(engine)
        for n in range(entries):
            with UnitOfWork(engine) as uow:
                audit.record(uow.session, at=AT, actor=SYSTEM, action="test.append", entity="test", entity_key=str(n))
                uow.commit()
        with UnitOfWork(engine) as uow:
            report = audit.verify(uow.session)
        engine.dispose()
        return report

    assert fresh_chain(5).ok
    again = fresh_chain(3)
    assert not again.ok and "最新的记录被删除" in again.reason
    audit.discard_anchor(settings)
    assert fresh_chain(3).ok
