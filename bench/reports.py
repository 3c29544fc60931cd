"""Monthly report at province scale: how long the rollup takes to compute and to render.

    python bench/reports.py --departments 2000

Launches bench/tick.py's generated campaign (N departments x 30 tasks) into a scratch SQLite
database, ticks it to 2020-07-31, gives every department a few projects (drawn for verification),
problems and leads through the services, then times services.reports.report_data, the progress
chart (exchange.figures through kaleido and the installed Chromium: the first export starts the
browser, later ones reuse it) and render_report for the office rollup of 2020-07 and one
department's report. Ends with a RESULT line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.tick import generate_spec

T = TypeVar("T")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--departments", type=int, default=500)
    args = parser.parse_args()
    from domain.access import SYSTEM
    from exchange.reports import progress_chart_png
    from services import campaigns, reports, ticking
    from services.imports import import_file
    from store.db import make_engine
    from store.migrate import upgrade
    from store.models import Department, Lead, Problem
    from store.uow import UnitOfWork

    spec = generate_spec(args.departments)
    engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-reports-')) / 'bench.db'}")
    upgrade(engine)
    at = dt.datetime(2020, 5, 6, tzinfo=dt.UTC)
    t0 = time.perf_counter()
    with UnitOfWork(engine) as uow:
        campaigns.launch(uow.session, spec, actor=SYSTEM, at=at)
        register = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n" + "".join(
            f"{d.code}-{i},项目{i},{d.code},2019-0{i}-01,100,某公司,某公司\n"
            for d in spec.departments[1:]
            for i in range(1, 6)
        )
        import_file(
            uow.session,
            actor=SYSTEM,
            at=at,
            campaign_code=spec.id,
            kind="projects",
            data=register.encode(),
            filename="register.csv",
        )
        uow.commit()

    def step(name: str, work: Callable[[Session], T]) -> T:  # the tick's steps, each in its own transaction
        with UnitOfWork(engine) as uow:
            result = work(uow.session)
            uow.commit()
            return result

    for day in (dt.date(2020, 7, 1), dt.date(2020, 7, 31)):  # the verification draw, then the month's work
        ticking.tick(step, spec.id, day, actor=SYSTEM, at=dt.datetime.combine(day, dt.time(2), dt.UTC))
    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = campaigns.get_campaign(s, spec.id)
        depts = {d.code: d.id for d in s.scalars(select(Department).where(Department.campaign_id == campaign.id))}
        for code, dept_id in depts.items():  # two problems and one lead a department, set-based enough for a bench
            for n in range(2):
                s.add(
                    Problem(
                        campaign_id=campaign.id,
                        code=f"{code}-P{n}",
                        department_id=dept_id,
                        phase_key="verify",
                        project_code=f"{code}-1",
                        category="规避招标",
                        description="问题",
                        handling_class="限时整改",
                        deadline_on=dt.date(2020, 8, 1),
                        status="open",
                        rebound=False,
                        found_on=dt.date(2020, 7, 10),
                    )
                )
            s.add(
                Lead(
                    campaign_id=campaign.id,
                    code=f"{code}-L",
                    source="举报",
                    received_on=dt.date(2020, 7, 3),
                    category="围标串标",
                    summary="线索",
                    department_id=dept_id,
                    status="closed",
                    outcome="查实",
                    enterprises_involved=1,
                    people_dealt_with=1,
                    fine_wan=2,
                    measures="罚款",
                    closed_on=dt.date(2020, 7, 20),
                )
            )
        uow.commit()
    setup_s = time.perf_counter() - t0
    made = dt.datetime(2020, 8, 3, 2, tzinfo=dt.UTC)
    with UnitOfWork(engine) as uow:
        t1 = time.perf_counter()
        data = reports.report_data(
            uow.session, actor=SYSTEM, campaign_code=spec.id, period="2020-07", department_code=None, at=made
        )
        data_s = time.perf_counter() - t1
        t_chart = time.perf_counter()
        progress_chart_png(data.department_rows)
        chart_first_s = time.perf_counter() - t_chart
        t_chart = time.perf_counter()
        progress_chart_png(data.department_rows)
        chart_next_s = time.perf_counter() - t_chart
        t2 = time.perf_counter()
        rendered = reports.render_report(
            uow.session, actor=SYSTEM, campaign_code=spec.id, period="2020-07", department_code=None, at=made
        )
        render_s = time.perf_counter() - t2
        t3 = time.perf_counter()
        reports.render_report(
            uow.session, actor=SYSTEM, campaign_code=spec.id, period="2020-07", department_code="d0001", at=made
        )
        department_s = time.perf_counter() - t3
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    f = data.figures
    print(
        f"departments {args.departments}: tasks {f.tasks_assigned}, problems {f.problems_found}, "
        f"leads {f.leads_received}, sampled {f.projects_sampled}/{f.projects_supervised}; "
        f"docx {len(rendered.docx) / 1e6:.1f} MB, xlsx {len(rendered.xlsx) / 1e6:.1f} MB (setup {setup_s:.1f} s)"
    )
    print(
        f"RESULT departments={args.departments} rollup_data_s={data_s:.2f} chart_first_s={chart_first_s:.2f} "
        f"chart_next_s={chart_next_s:.2f} rollup_render_s={render_s:.2f} department_render_s={department_s:.2f} "
        f"peak_rss_mb={rss:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
