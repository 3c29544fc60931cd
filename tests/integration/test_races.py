"""No raw IntegrityError under concurrency (issue 11): two processes released by one barrier record
problems, take in leads and draw verification samples at the same moment, on SQLite and PostgreSQL.

Codes come from a per-campaign counter taken with UPDATE … RETURNING, so both processes get distinct
numbers and a number used by a hand-given code is skipped; a draw locks its campaign's draw counter,
so the second drawer finds the rounds the first committed and draws nothing twice.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from domain.access import SYSTEM, Actor
from domain.spec import SAMPLE_TEMPLATE_KEY
from services import leads, problems, projects
from store.db import make_engine
from store.models import Assignment, Lead, Problem, SampleDraw, TaskTemplate
from store.uow import UnitOfWork

AT = dt.datetime(2020, 7, 3, 2, tzinfo=dt.UTC)
PER_PROCESS = 12
BARRIER_TIMEOUT = 60
HEADER = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"


def _record_problems(engine: Any, code: str, actor: Actor, worker: int) -> None:
    for i in range(PER_PROCESS):
        with UnitOfWork(engine) as uow:
            problems.record_problem(
                uow.session,
                actor=actor,
                at=AT,
                campaign_code=code,
                department_code="zjj",
                phase_key="self_check",
                category="规避招标",
                description=f"进程{worker}-{i}",
                handling_class="限时整改",
                deadline_on=dt.date(2020, 7, 30),
            )
            uow.commit()


def _take_in_leads(engine: Any, code: str, actor: Actor, worker: int) -> None:
    for i in range(PER_PROCESS):
        with UnitOfWork(engine) as uow:
            leads.intake_lead(
                uow.session,
                actor=actor,
                at=AT,
                campaign_code=code,
                source="举报",
                received_on=dt.date(2020, 7, 2),
                category="围标串标",
                summary=f"进程{worker}-{i}",
            )
            uow.commit()


def _draw(engine: Any, code: str, actor: Actor, worker: int) -> None:
    for day in (dt.date(2020, 7, 1), dt.date(2020, 7, 2)):
        with UnitOfWork(engine) as uow:
            projects.draw_verification_samples(uow.session, code, day)
            uow.commit()


WORK: dict[str, Callable[[Any, str, Actor, int], None]] = {
    "problems": _record_problems,
    "leads": _take_in_leads,
    "draw": _draw,
}


def _worker(url: str, work: str, code: str, actor: Actor, worker: int, barrier: Any, results: Any) -> None:
    engine = make_engine(url)
    try:
        barrier.wait(BARRIER_TIMEOUT)
        WORK[work](engine, code, actor, worker)
        results.put((worker, "ok"))
    except BaseException:  # reported to the parent, which fails the test with it
        results.put((worker, traceback.format_exc()))
    finally:
        engine.dispose()


def _race(engine: Any, work: str, code: str, actor: Actor) -> None:
    """Run `work` in two processes released together; fail with any exception either raised."""
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited connections or threads
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_worker, args=(url, work, code, actor, n, barrier, results)) for n in (1, 2)]
    for p in workers:
        p.start()
    outcomes = dict(results.get(timeout=240) for _ in workers)
    for p in workers:
        p.join(30)
    assert outcomes == {1: "ok", 2: "ok"}, "\n".join(v for v in outcomes.values() if v != "ok")


def test_concurrent_problem_codes_never_collide(engine, uow_factory, launched_campaign, actors):
    code, office = launched_campaign.code, actors["office"]
    with uow_factory() as uow:  # a hand-given code in the middle of the numbers the counter will hand out
        problems.record_problem(
            uow.session,
            actor=office,
            at=AT,
            campaign_code=code,
            department_code="jyj",
            phase_key="self_check",
            category="其他",
            description="手工编号",
            handling_class="立行立改",
            deadline_on=dt.date(2020, 7, 30),
            code="WT-0005",
        )
        uow.commit()
    _race(engine, "problems", code, office)
    with uow_factory() as uow:
        codes = list(uow.session.scalars(select(Problem.code)))
    assert len(codes) == len(set(codes)) == 2 * PER_PROCESS + 1
    assert sorted(codes) == [f"WT-{n:04d}" for n in range(1, 2 * PER_PROCESS + 2)]  # no gaps, 0005 skipped once


def test_concurrent_lead_codes_never_collide(engine, uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    _race(engine, "leads", code, actors["office"])
    with uow_factory() as uow:
        codes = list(uow.session.scalars(select(Lead.code)))
    assert sorted(codes) == [f"XS-{n:04d}" for n in range(1, 2 * PER_PROCESS + 1)]


def test_concurrent_draws_draw_each_round_once(engine, uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    register = HEADER + "".join(
        f"{d.upper()}-{i:03d},{d}项目{i},{d},2020-03-01,100,,\n"
        for d, n in (("zjj", 11), ("jyj", 5), ("swj", 1))
        for i in range(1, n + 1)
    )
    with uow_factory() as uow:
        projects.import_projects(
            uow.session,
            actor=actors["office"],
            at=AT,
            campaign_code=code,
            data=register.encode(),
            filename="register.csv",
        )
        uow.commit()
    _race(engine, "draw", code, SYSTEM)
    with uow_factory() as uow:
        rounds = uow.session.execute(select(SampleDraw.department_id, SampleDraw.round)).all()
        assert len(rounds) == len(set(rounds)) == 3  # one first round per department, not two
        drawn = sum(
            len(d.sampled_codes) for d in projects.list_draws(uow.session, actor=actors["office"], campaign_code=code)
        )
        sample_tasks = uow.session.scalar(
            select(func.count(Assignment.id))
            .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
            .where(TaskTemplate.key == SAMPLE_TEMPLATE_KEY)
        )
    assert drawn == sample_tasks == 3 + 1 + 1  # ceil(20%) of 11, 5 and 1 projects
