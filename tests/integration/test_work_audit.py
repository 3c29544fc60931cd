"""The audit chain detects an edited row, a deleted row and a cut-off tail; refusals are in it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from domain.errors import Invalid
from services.users import disable_user
from settings import Settings
from store import audit
from store.models import AuditEntry

UTC = dt.UTC


@pytest.fixture(autouse=True)
def chain_files(engine, tmp_path):
    """The key and the anchor of this test's database, as the edge configures them from Settings.
    (The PostgreSQL database is shared by the session and emptied per test: a fresh anchor each time.)"""
    url = engine.url.render_as_string(hide_password=False)
    chosen = audit.configure(Settings(database_url=url, data_dir=tmp_path / "data"))
    yield chosen
    audit.forget(url)


def _some_history(uow_factory, actors):
    with uow_factory() as uow:
        disable_user(uow.session, actor=actors["office"], at=dt.datetime(2020, 6, 2, tzinfo=UTC), username="dept_swj")
        uow.commit()


def test_chain_detects_one_edited_row(uow_factory, launched_campaign, actors):
    _some_history(uow_factory, actors)
    with uow_factory() as uow:
        report = audit.verify(uow.session)
        assert report.ok and report.entries > 5
        victim = uow.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[3]
        uow.session.execute(update(AuditEntry).where(AuditEntry.id == victim).values(actor="someone_else"))
        uow.commit()
    with uow_factory() as uow:
        report = audit.verify(uow.session)
        assert not report.ok and report.broken_at == victim and "哈希不符" in report.reason


def test_chain_detects_a_deleted_row(uow_factory, launched_campaign, actors):
    _some_history(uow_factory, actors)
    with uow_factory() as uow:
        ids = uow.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        uow.session.execute(delete(AuditEntry).where(AuditEntry.id == ids[2]))
        uow.commit()
    with uow_factory() as uow:
        report = audit.verify(uow.session)
        assert not report.ok and report.broken_at == ids[3] and "链接断开" in report.reason


def test_cutting_off_the_newest_rows_is_found_by_the_anchor_and_by_a_head_kept_elsewhere(
    uow_factory, launched_campaign, actors, chain_files
):
    _some_history(uow_factory, actors)
    with uow_factory() as uow:
        report = audit.verify(uow.session)
        head = report.head  # what the office may also write down outside the database
        assert report.ok and head.startswith(f"{report.entries}:") and report.anchored >= 1
        assert audit.verify(uow.session, head).ok
        ids = uow.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        uow.session.execute(delete(AuditEntry).where(AuditEntry.id >= ids[-2]))
        last = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        # a careful intruder also moves the head row back so that the chain looks whole
        uow.session.execute(update(audit.AuditHead).values(seq=last.id, digest=last.hash))
        uow.commit()
    with uow_factory() as uow:
        cut = audit.verify(uow.session)  # the anchor file beside the database remembers the head
        assert not cut.ok and cut.broken_at == 0 and "最新的记录被删除" in cut.reason
        assert f"第 {ids[-1]} 条" in cut.reason
        cut = audit.verify(uow.session, head)
        assert not cut.ok and cut.broken_at == 0 and "最新的记录被删除" in cut.reason
        with pytest.raises(Invalid, match="格式不对"):
            audit.verify(uow.session, "abc")
    # Without the anchor file the head row still has to be moved back by hand (done above);
    # the anchor is what makes that undetectable move detectable.
    chain_files.anchor_file.unlink()
    with uow_factory() as uow:
        assert audit.verify(uow.session).ok


def test_refusals_are_chained_and_the_head_row_follows_the_last_entry(uow_factory, launched_campaign, actors):
    with pytest.raises(Exception, match="牵头办公室"), uow_factory() as uow:
        disable_user(uow.session, actor=actors["dept_swj"], at=dt.datetime(2020, 6, 2, tzinfo=UTC), username="office")
    with uow_factory() as uow:
        last = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (last.action, last.outcome, last.actor) == ("user.disable", "refused", "dept_swj")
        head = uow.session.get(audit.AuditHead, audit.HEAD_ID)
        assert head is not None and (head.seq, head.digest) == (last.id, last.hash)
        assert audit.verify(uow.session).ok
