"""The office's 待办 on the dashboard (AppTest, SQLite): a department's 督办单 反馈 is listed until the office
marks it 已阅, then it leaves the queue with who read it and when on record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from services import duban as duban_service
from store.models import Department, Duban
from store.uow import UnitOfWork
from tests.integration import test_dashboard_apptest as apptest
from tests.integration.test_dashboard_apptest import _actor, _errors, _no_exceptions, login

# The AppTest fixtures: a migrated SQLite file, the campaign ticked to 29 June, the users.
engine = apptest.engine
dashboard_db = apptest.dashboard_db

ANSWERED_AT = dt.datetime(2020, 6, 29, 1, 0, tzinfo=dt.UTC)


def _answer_one(url: str) -> int:
    with UnitOfWork(url) as uow:
        target = uow.session.scalar(
            select(Duban.id)
            .join(Department, Department.id == Duban.department_id)
            .where(Department.code == "zjj")
            .order_by(Duban.id)
        )
        assert target is not None, "the tick to 29 June issues zjj a 督办单"
        duban_service.respond(
            uow.session, actor=_actor(url, "dept_zjj"), at=ANSWERED_AT, duban_id=target, text="已报送自查报告"
        )
        uow.commit()
    return target


def test_office_marks_a_duban_answer_read_and_it_leaves_the_todo(dashboard_db):
    target = _answer_one(dashboard_db)
    office = login("office")
    assert any(m.label == "督办单反馈" and m.value == "1" for m in office.metric)
    office.multiselect(key="duban_review_pick").select(target)
    next(b for b in office.button if b.label == "标记已阅").click()
    office.run()
    _no_exceptions(office)
    assert not _errors(office), _errors(office)
    with UnitOfWork(dashboard_db) as uow:
        row = uow.session.get(Duban, target)
        assert row.reviewed_by == "office" and row.reviewed_at is not None
    assert any(m.label == "督办单反馈" and m.value == "0" for m in office.metric)
    assert not [w for w in office.multiselect if w.key == "duban_review_pick"]
