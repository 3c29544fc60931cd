"""The audit chain detects an edited row and a deleted row; refusals are in it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update

from services import audit
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
