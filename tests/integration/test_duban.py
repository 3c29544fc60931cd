"""督办单: issued by the tick once per assignment and escalation level, numbered per campaign, answered by
the department (right and wrong roles, refusals audited), printed as a .docx; a re-tick or a tick
rolled back half-way and re-run issues no second notice."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import func, select

from domain.access import Forbidden
from domain.errors import Invalid, NotFound
from services import duban as duban_service
from services import ticking
from services.spec_files import load_spec
from store.db import make_engine
from store.migrate import upgrade
from store.models import AuditEntry, Duban, Escalation, Outbox, ScoreSnapshot
from store.uow import UnitOfWork
from tests.conftest import LAUNCH_AT, ROOT, SPEC_PATH, run_tick, seeded_prefect_home

DAY = dt.date(2020, 7, 1)  # the self-check reports due 22 June are 7 working days late: two rungs reached
AT = dt.datetime(2020, 7, 1, 3, 0, tzinfo=dt.UTC)


def _count(engine, model) -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _refusals(engine, action: str) -> int:
    with UnitOfWork(engine) as uow:
        q = select(func.count()).where(AuditEntry.action == action, AuditEntry.outcome == "refused")
        return uow.session.scalar(q) or 0


def test_tick_issues_one_numbered_notice_per_item_and_level(engine, tick):
    tick(DAY)
    with UnitOfWork(engine) as uow:
        s = uow.session
        pairs = set(s.execute(select(Escalation.assignment_id, Escalation.level)).tuples())
        notices = list(s.scalars(select(Duban).order_by(Duban.seq)))
        s.expunge_all()
    assert pairs and {(d.assignment_id, d.level) for d in notices} == pairs
    assert [d.seq for d in notices] == list(range(1, len(notices) + 1))
    assert all(d.number == f"雁督〔2020〕{d.seq}号" for d in notices)  # the YAML's prefix
    assert {d.colour for d in notices if d.level == 1} == {"blue"} and {d.colour for d in notices if d.level == 2} == {
        "yellow"
    }
    assert all(d.respond_due_on > d.issued_on and d.state == "issued" for d in notices)
    issued = _count(engine, Duban)
    with UnitOfWork(engine) as uow:
        messages = uow.session.scalar(
            select(func.count()).where(Outbox.kind == "duban", Outbox.natural_key.not_like("%-late"))
        )
    assert messages == issued
    tick(DAY)  # the same day again: nothing new
    assert _count(engine, Duban) == issued
    with UnitOfWork(engine) as uow:
        assert (
            uow.session.scalar(
                select(func.count()).where(Outbox.kind == "duban", Outbox.natural_key.not_like("%-late"))
            )
            == messages
        )


def test_a_tick_rolled_back_half_way_then_rerun_issues_each_notice_once(engine, launched_campaign):
    code = launched_campaign.code

    class Killed(Exception):
        pass

    def dies_after_issuing(name, step):
        with UnitOfWork(engine) as uow:
            result = step(uow.session)
            if name.startswith("duban-"):
                uow.session.flush()
                raise Killed(name)  # the unit of work rolls the step back, as a crash before commit would
            uow.commit()
        return result

    before = _count(engine, Duban)  # issued by the launch fixture's tick to 1 June
    with pytest.raises(Killed):
        ticking.tick(dies_after_issuing, code, DAY, actor=launched_campaign_actor(), at=AT)
    assert _count(engine, Duban) == before
    run_tick(engine, code, DAY)
    with UnitOfWork(engine) as uow:
        s = uow.session
        escalations = s.scalar(select(func.count()).select_from(Escalation))
        per_key = s.execute(
            select(Duban.assignment_id, Duban.level, func.count()).group_by(Duban.assignment_id, Duban.level)
        ).all()
        seqs = list(s.scalars(select(Duban.seq).order_by(Duban.seq)))
    assert len(per_key) == escalations and all(n == 1 for _a, _l, n in per_key)
    assert seqs == list(range(1, len(seqs) + 1))  # the rolled-back numbers were taken back too


def launched_campaign_actor():
    from domain.access import SYSTEM

    return SYSTEM


def test_department_answers_its_own_notice_only(engine, tick, actors):
    tick(DAY)
    code = "yanjiang-2020"
    with UnitOfWork(engine) as uow:
        mine = duban_service.list_dubans(uow.session, actor=actors["dept_zjj"], campaign_code=code)
        everyone = duban_service.list_dubans(uow.session, actor=actors["leader"], campaign_code=code)
    assert mine and {d.department_code for d in mine} == {"zjj"} and len(everyone) > len(mine)
    target = mine[0]
    other = next(d for d in everyone if d.department_code != "zjj")
    with pytest.raises(Forbidden), UnitOfWork(engine) as uow:
        duban_service.list_dubans(uow.session, actor=actors["dept_zjj"], campaign_code=code, department_code="jyj")
    assert _refusals(engine, "duban.list") == 1
    for who in ("office", "leader", "dept_jyj"):
        with pytest.raises(Forbidden), UnitOfWork(engine) as uow:
            duban_service.respond(uow.session, actor=actors[who], at=AT, duban_id=target.id, text="已整改")
    assert _refusals(engine, "duban.respond") == 3
    with pytest.raises(Forbidden), UnitOfWork(engine) as uow:
        duban_service.get_duban(uow.session, actor=actors["dept_zjj"], duban_id=other.id)
    with pytest.raises(Invalid), UnitOfWork(engine) as uow:
        duban_service.respond(uow.session, actor=actors["dept_zjj"], at=AT, duban_id=target.id, text="  ")
    with pytest.raises(NotFound), UnitOfWork(engine) as uow:
        duban_service.respond(uow.session, actor=actors["dept_zjj"], at=AT, duban_id=999999, text="x")
    with UnitOfWork(engine) as uow:
        done = duban_service.respond(
            uow.session, actor=actors["dept_zjj"], at=AT, duban_id=target.id, text="已报送自查报告"
        )
        uow.commit()
    assert done.state == "answered" and done.answer == "已报送自查报告" and done.answered_by == "dept_zjj"
    with pytest.raises(Invalid, match="不能重复反馈"), UnitOfWork(engine) as uow:
        duban_service.respond(uow.session, actor=actors["dept_zjj"], at=AT, duban_id=target.id, text="再次")
    with UnitOfWork(engine) as uow:
        ok = uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "duban.respond", AuditEntry.outcome == "ok")
        )
    assert ok == 1


def test_notice_docx_names_the_matter_department_deadlines_and_answer(engine, tick, actors):
    tick(DAY)
    with UnitOfWork(engine) as uow:
        target = duban_service.list_dubans(uow.session, actor=actors["dept_zjj"], campaign_code="yanjiang-2020")[0]
        duban_service.respond(uow.session, actor=actors["dept_zjj"], at=AT, duban_id=target.id, text="已完成整改")
        uow.commit()
    with UnitOfWork(engine) as uow:
        name, data = duban_service.duban_document(uow.session, actor=actors["office"], duban_id=target.id)
    assert name == f"督办单-{target.number}.docx"
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells
    )
    for word in (
        "督办事项",
        "责任单位",
        "原定期限",
        "逾期工作日",
        "督办要求",
        "反馈期限",
        target.number,
        target.department_name,
        "已完成整改",
    ):
        assert word in text


def test_an_unanswered_notice_past_its_deadline_reminds_once(engine, tick):
    tick(DAY)
    with UnitOfWork(engine) as uow:
        first = uow.session.scalars(select(Duban).order_by(Duban.seq.desc())).first()  # issued on DAY
        late_day = first.respond_due_on + dt.timedelta(days=1)
        uow.session.expunge_all()
    tick(late_day)
    tick(late_day)
    with UnitOfWork(engine) as uow:
        keys = list(
            uow.session.scalars(
                select(Outbox.natural_key).where(
                    Outbox.natural_key == f"evt:duban:{first.assignment_id}:{first.level}-late"
                )
            )
        )
    assert len(keys) == 1


# --- through the real Prefect tick flow, and a process killed inside the 督办单 step ---------------

KILLED_IN_DUBAN_STEP = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    sys.path.insert(0, {root!r})
    from domain.access import SYSTEM
    import services.ticking
    from store.db import make_engine
    from store.uow import unit_per_step

    real_issue = services.ticking.issue_dubans

    def issue_then_die(session, **kw):
        real_issue(session, **kw)
        session.flush()  # the notices and their numbers are written, not committed
        os.killpg(0, signal.SIGKILL)

    services.ticking.issue_dubans = issue_then_die
    day = dt.date(2020, 7, 3)
    at = dt.datetime(2020, 7, 3, 2, tzinfo=dt.UTC)
    # The tick's one composition with a unit of work per step, as the flow runs it (without starting a
    # Prefect server in the child: on a loaded machine its start-up alone can time out).
    services.ticking.tick(unit_per_step(make_engine({url!r})), "yanjiang-2020", day, actor=SYSTEM, at=at)
    """
)


def _launched(path: Path) -> str:
    from flows.campaign_flows import tick
    from flows.entries import run_launch

    url = f"sqlite:///{path}"
    upgrade(make_engine(url))
    run_launch(load_spec(SPEC_PATH), settings_or_db_url=url, at=LAUNCH_AT)
    tick("yanjiang-2020", dt.date(2020, 6, 17), url)
    return url


def _notices(url: str) -> list[tuple]:
    with UnitOfWork(make_engine(url)) as uow:
        return list(
            uow.session.execute(
                select(Duban.assignment_id, Duban.level, Duban.seq, Duban.number).order_by(Duban.seq)
            ).tuples()
        )


def test_the_prefect_tick_flow_issues_notices_and_scores_and_a_kill_inside_the_step_issues_none_twice(
    prefect_harness, tmp_path, prefect_database_template
):
    from flows.campaign_flows import tick

    reference = _launched(tmp_path / "reference.db")
    crashed = _launched(tmp_path / "crashed.db")
    tick("yanjiang-2020", dt.date(2020, 7, 3), reference)
    issued = _notices(reference)
    with UnitOfWork(make_engine(reference)) as uow:
        pairs = set(uow.session.execute(select(Escalation.assignment_id, Escalation.level)).tuples())
        scored = uow.session.scalar(select(func.count()).where(ScoreSnapshot.as_of == dt.date(2020, 7, 3)))
    assert issued and {(a, lvl) for a, lvl, _s, _n in issued} == pairs and scored == 6  # the six member departments

    script = tmp_path / "killed.py"
    script.write_text(KILLED_IN_DUBAN_STEP.format(root=str(ROOT), url=crashed), encoding="utf-8")
    home = seeded_prefect_home(tmp_path / "ph", prefect_database_template)
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "killed.log"
    with log.open("wb") as out:
        proc = subprocess.run(
            [sys.executable, str(script)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=240,
            start_new_session=True,
        )
    assert proc.returncode == -signal.SIGKILL, log.read_text(errors="replace")[-2000:]
    assert len(_notices(crashed)) < len(issued)  # killed before the step committed
    tick("yanjiang-2020", dt.date(2020, 7, 3), crashed)
    tick("yanjiang-2020", dt.date(2020, 7, 3), crashed)  # and once more: a re-tick issues nothing
    assert _notices(crashed) == issued  # same items, levels, numbers: nothing twice, no number skipped
