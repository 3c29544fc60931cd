"""The benchmark's yardstick is honest: its hand-written SQL makes exactly the changes the tick makes
(issue 15). Two identical campaigns in one database, one ticked by the tick's composition, the other
by bench/tick.py's baseline SQL, end in the same state: assignments, escalations, outbox rows,
督办单 (numbers included), rollup rows, counters and phases, named by department and task.

Not part of the comparison, as the bench's docstring says: the score snapshot and the audit entries
(the baseline computes no score and writes no audit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from bench.tick import AS_OF, baseline_tick, campaign_state, generate_spec
from domain.access import SYSTEM
from services import campaigns, ticking
from store.uow import UnitOfWork

AT = dt.datetime(2020, 5, 1, tzinfo=dt.UTC)


def test_the_baseline_sql_makes_the_same_changes_as_the_tick(engine: Engine) -> None:
    ticked = generate_spec(6)
    measured = ticked.model_copy(update={"id": f"{ticked.id}-baseline"})
    with UnitOfWork(engine) as uow:
        for spec in (ticked, measured):
            campaigns.launch(uow.session, spec, actor=SYSTEM, at=AT)
        uow.commit()
    with UnitOfWork(engine) as uow:
        ticking.tick(ticking.in_session(uow.session), ticked.id, AS_OF, actor=SYSTEM, at=AT)
        uow.commit()
    baseline_tick(engine, measured, AS_OF)

    flow, base = campaign_state(engine, ticked.id), campaign_state(engine, measured.id)
    assert flow["duban"] and flow["escalations"] and flow["outbox"] and flow["rollup"]  # a busy day
    for part in flow:
        assert flow[part] == base[part], part
