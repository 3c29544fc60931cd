"""The tick's and a department board's filters on assignment use an index on PostgreSQL (issue 15).

A slice (100 departments x 30 tasks = 3,000 assignments) is launched and analysed,
then a busy tick runs in a transaction that is rolled back while every statement it sends is
recorded; each statement that filters assignments by phase (the per-phase steps: opening, overdue,
escalation, reminders and the phase check) is EXPLAINed with its own parameters against the
analysed table, as is a department's task list. At national scale (~1M assignments) a sequential
scan there would read every department's rows once per phase and due date.
The rollup reads the whole campaign by design and is not among them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from bench.tick import AS_OF, generate_spec
from domain.access import SYSTEM
from services import campaigns, ticking
from services.views import boards
from settings import load_settings
from store import audit
from store.uow import UnitOfWork
from tests.conftest import _truncate_all

pytestmark = pytest.mark.postgres

DEPARTMENTS = 100  # 3,000 assignments: the planner already reads the table rather than an index there
AT = dt.datetime(2020, 5, 1, tzinfo=dt.UTC)


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The session's PostgreSQL database, emptied (as conftest's `engine` does for its postgres case)."""
    eng: Engine = request.getfixturevalue("_pg_database")
    _truncate_all(eng)
    url = eng.url.render_as_string(hide_password=False)
    audit.discard_anchor(load_settings(database_url=url))
    audit.forget(url)
    yield eng


def _recorded(eng: Engine) -> tuple[list[tuple[str, Any]], Any]:
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not executemany:
            statements.append((statement, parameters))

    event.listen(eng, "before_cursor_execute", record)
    return statements, record


def _plan(eng: Engine, statement: str, parameters: Any) -> str:
    with eng.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars()
        return "\n".join(rows)


def test_the_ticks_phase_filters_and_a_departments_tasks_use_an_index(pg: Engine) -> None:
    spec = generate_spec(DEPARTMENTS)
    with UnitOfWork(pg) as uow:
        campaigns.launch(uow.session, spec, actor=SYSTEM, at=AT)
        uow.commit()
    with pg.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
        assert conn.execute(text("SELECT COUNT(*) FROM assignment")).scalar_one() == DEPARTMENTS * 30

    statements, record = _recorded(pg)
    try:
        with UnitOfWork(pg) as uow:  # rolled back: the plans are read against the analysed state
            summary = ticking.tick(ticking.in_session(uow.session), spec.id, AS_OF, actor=SYSTEM, at=AT)
            tasks = boards.department_assignments(
                uow.session, actor=SYSTEM, campaign_code=spec.id, department_code="d0001", at=AT
            )
    finally:
        event.remove(pg, "before_cursor_execute", record)
    assert summary.counts.opened > 0 and summary.counts.escalations > 0 and len(tasks) == 30

    by_phase = [(s, p) for s, p in statements if "assignment.phase_id =" in s and "EXPLAIN" not in s]
    department_list = [(s, p) for s, p in statements if "department.code =" in s and "FROM assignment" in s]
    assert len(by_phase) >= 4 * 3 and len(department_list) == 1  # every step of the three live phases
    for statement, parameters in by_phase + department_list:
        plan = _plan(pg, statement, parameters)
        assert "Seq Scan on assignment" not in plan, f"{statement}\n{parameters}\n{plan}"
        assert "assignment" in plan  # the plan is about the table at all (index or bitmap scan on it)
