"""A leader urges (催办) a department's overdue work from the 部门进度 drill-down (AppTest, SQLite): the
department's overdue assignments each get one urge from the leader with the leader's words."""

from __future__ import annotations

from sqlalchemy import select

from domain.assignment import UNFINISHED
from store.models import Assignment, Department, Urge
from store.uow import UnitOfWork
from tests.integration.test_dashboard_apptest import (  # noqa: F401 - fixtures
    _no_exceptions,
    dashboard_db,
    engine,
    login,
    open_page,
)


def _urged(url: str) -> list[tuple[str, str, str]]:
    with UnitOfWork(url) as uow:
        rows = uow.session.execute(
            select(Department.code, Urge.message, Urge.urged_by)
            .join(Assignment, Assignment.id == Urge.assignment_id)
            .join(Department, Department.id == Assignment.department_id)
        ).all()
        return [(d, m, by) for d, m, by in rows]


def _overdue_of(url: str, department: str) -> int:
    with UnitOfWork(url) as uow:
        return len(
            uow.session.scalars(
                select(Assignment.id)
                .join(Department, Department.id == Assignment.department_id)
                .where(
                    Department.code == department,
                    Assignment.status.in_(UNFINISHED),
                    Assignment.overdue_days > 0,
                )
            ).all()
        )


def test_leader_urges_a_departments_overdue_work(dashboard_db):  # noqa: F811
    at = open_page(login("leader"), "pages/leader_departments.py")
    at.selectbox(key="drill_department").select("zjj")
    at.run()
    _no_exceptions(at)
    overdue = _overdue_of(dashboard_db, "zjj")
    assert overdue > 0  # ticked to 29 June, zjj has overdue work
    assert not _urged(dashboard_db)
    at.text_input(key="leader_urge_message").input("请本周内完成")
    next(b for b in at.button if b.label == "催办区住建局的全部逾期任务").click()
    at.run()
    _no_exceptions(at)
    urged = _urged(dashboard_db)
    assert len(urged) == overdue and set(urged) == {("zjj", "请本周内完成", "leader")}
    assert f"已催办 {overdue} 项任务" in [s.value for s in at.success]
