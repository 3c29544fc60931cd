"""The audit chain detects an edited row and a deleted row; refusals are in it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from store import audit
from services.users import disable_user
from store.models import AuditEntry

UTC = dt.timezone.utc


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


def test_cutting_off_the_newest_rows_is_found_against_a_head_kept_elsewhere(uow_factory, launched_campaign, actors):
    _some_history(uow_factory, actors)
    with uow_factory() as uow:
        report = audit.verify(uow.session)
        head = report.head  # what the office writes down outside the database
        assert report.ok and head.startswith(f"{report.entries}:")
        assert audit.verify(uow.session, head).ok
        ids = uow.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        uow.session.execute(delete(AuditEntry).where(AuditEntry.id >= ids[-2]))
        uow.commit()
    with uow_factory() as uow:
        assert audit.verify(uow.session).ok  # a chain alone cannot see its end cut off
        cut = audit.verify(uow.session, head)
        assert not cut.ok and cut.broken_at == 0 and "最新的记录被删除" in cut.reason
        with pytest.raises(ValueError, match="格式不对"):
            audit.verify(uow.session, "abc")
