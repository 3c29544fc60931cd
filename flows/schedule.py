"""The daily schedule: tick every live campaign, then deliver its notifications.

Two ways to run it, same flow:

* embedded — ``campaign serve``: APScheduler (BackgroundScheduler in a waiting main thread, SQLAlchemyJobStore on the
  application database, Asia/Shanghai, fixed job id ``daily-tick`` with replace_existing,
  coalesce, a misfire grace time). Each completed day is recorded in ``scheduled_run`` (unique
  per job and day); on start-up and at every firing the job catches up every day after the last
  recorded one, so a restart neither misses nor doubles a day.
* production — ``prefect.yaml`` deploys ``daily`` with a cron schedule in Asia/Shanghai, run by
  a Prefect server and a process worker.

"Today" is ``Settings.today()`` — Beijing's date, or the one clock override ``as_of``
(``CAMPAIGN_AS_OF``: the demo and the restart test pin it) — read at the edge only: by ``serve``
and the scheduled job here, and by a flow started without ``as_of`` (flows.runtime.flow_edge).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading
import time
from collections.abc import Callable

from prefect import flow
from sqlalchemy import literal, select

from domain.localtime import LOCAL_TZ
from flows.campaign_flows import tick
from flows.delivery_flows import deliver
from flows.report_flows import monthly_reports
from flows.runtime import embedded_engine, flow_edge, flow_settings, offer_engine
from services.ticking import table_of
from settings import Settings, load_settings
from store.db import describe, shared_engine
from store.models import ScheduledRun
from store.sql import insert_ignoring_duplicates
from store.uow import UnitOfWork
from tasks import delivery_tasks as t

JOB_ID = "daily-tick"
MAX_CATCH_UP_DAYS = 31
JOBS_TABLE = "apscheduler_jobs"

log = logging.getLogger(__name__)
_run_lock = threading.Lock()  # the catch-up at start-up and a cron firing never overlap
# The settings `serve` was started with, for the stored job when it fires in this process (a job
# in the persistent store is a reference to a function: it cannot carry the settings, which hold secrets).
_serving: Settings | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@flow(name="daily", flow_run_name="daily-{as_of}")
def daily(as_of: dt.date | None = None, db_url: str | None = None, send: bool = True) -> dict[str, str]:
    """Tick every campaign whose dates cover ``as_of`` (default: today in Asia/Shanghai), then
    deliver its notifications (unless ``send`` is False: catching up past days only ticks, and
    the next delivery sends one digest instead of a burst), then file the monthly reports due that
    day (flows.report_flows, into the settings' reports directory)."""
    url, day, at = flow_edge(db_url, as_of)
    reports_dir = str(flow_settings(url).reports_path)
    out: dict[str, str] = {}
    for code in t.live_campaigns(day, url):
        tick(code, day, url, at=at)
        if send:
            summary = deliver(code, day, url)
            plan = summary.plan
            out[code] = plan.skipped or (
                f"ticked; inbox {plan.inbox_items}, push {plan.push_messages}, "
                + ", ".join(f"{ch} sent {r.sent}" for ch, r in summary.sent.items())
            )
        else:
            out[code] = "ticked"
        filed = monthly_reports(code, day, url, reports_dir)  # the reports due today (none on most days)
        if filed:
            out[code] += f"; reports filed {len(filed) // 2}"
    return out


# --------------------------------------------------------------------------- exactly once per day


def completed_days(db_url: str, job: str = JOB_ID) -> list[dt.date]:
    with UnitOfWork(db_url) as uow:
        return list(
            uow.session.scalars(
                select(ScheduledRun.day)
                .where(ScheduledRun.job == job, ScheduledRun.finished_at.is_not(None))
                .order_by(ScheduledRun.day)
            )
        )


def days_to_run(last_done: dt.date | None, today: dt.date) -> list[dt.date]:
    if last_done is None:
        return [today]
    if last_done >= today:
        return []
    start = max(last_done + dt.timedelta(days=1), today - dt.timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]


def run_due_days(
    today: dt.date, db_url: str, job: str = JOB_ID, report: Callable[[str], None] = print
) -> list[dt.date]:
    """Run every day after the last completed one up to ``today``, each exactly once."""
    with _run_lock:
        done = completed_days(db_url, job)
        ran: list[dt.date] = []
        for day in days_to_run(done[-1] if done else None, today):
            with UnitOfWork(db_url) as uow:  # claim the day (kept if a crash interrupts it)
                insert_ignoring_duplicates(
                    uow.session,
                    table_of(ScheduledRun),
                    ["job", "day", "started_at", "summary"],
                    select(literal(job), literal(day), literal(_now()), literal("")),
                    ["job", "day"],
                )
                row = uow.session.scalar(select(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.day == day))
                uow.commit()
                if row is not None and row.finished_at is not None:
                    continue
            summary = daily(as_of=day, db_url=db_url, send=(day == today))
            with UnitOfWork(db_url) as uow:
                row = uow.session.scalar(select(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.day == day))
                assert row is not None
                row.finished_at = _now()
                row.summary = json.dumps(summary, ensure_ascii=False)
                uow.commit()
            ran.append(day)
            report(f"{job} {day} done: {json.dumps(summary, ensure_ascii=False)}")
        if not ran:
            report(f"{job}: nothing to run up to {today}")
        return ran


def scheduled_job() -> None:
    """What APScheduler runs (stored by reference, so it survives restarts): catch up to today."""
    settings = _serving or load_settings()
    with embedded_engine():
        run_due_days(settings.today(), settings.db_url, report=lambda text: print(text, flush=True))


def build_scheduler(db_url: str, *, hour: int = 7, minute: int = 30):  # noqa: ANN201
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=shared_engine(db_url), tablename=JOBS_TABLE)},
        timezone=LOCAL_TZ,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
    )
    scheduler.add_job(
        scheduled_job,
        CronTrigger(hour=hour, minute=minute, timezone=LOCAL_TZ),
        id=JOB_ID,
        name="每日推进并发送通知",
        replace_existing=True,
    )
    return scheduler


def serve(
    settings: Settings,
    *,
    hour: int = 7,
    minute: int = 30,
    once: bool = False,
    as_of: dt.date | None = None,
    report: Callable[[str], None] = print,
) -> None:
    """Catch up, then (unless ``once``) run the daily job at hour:minute Asia/Shanghai forever."""
    global _serving  # noqa: PLW0603 - the settings of this serve process, for its stored job
    _serving = settings
    db_url = settings.db_url
    report(f"数据库：{describe(db_url)}；时区 Asia/Shanghai；每日 {hour:02d}:{minute:02d} 推进")
    with embedded_engine():
        run_due_days(as_of or settings.today(), db_url, report=report)
    if once:
        return
    engine_url = offer_engine()  # the day-long engine: other campaign commands run their flows on it meanwhile
    if engine_url is not None:
        report(
            f"常驻引擎：{engine_url}（本进程运行期间，同一 Prefect 主目录下的"
            " launch、tick、simulate、deliver 命令在它上面运行流程）"
        )
    scheduler = build_scheduler(db_url, hour=hour, minute=minute)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    scheduler.start()
    job = scheduler.get_job(JOB_ID)
    report(f"scheduler started: job {JOB_ID} next run {job.next_run_time if job else None}")
    try:
        while True:
            time.sleep(1)
    except (KeyboardInterrupt, SystemExit):
        report("scheduler stopping")
    finally:
        scheduler.shutdown(wait=False)


@flow(name="deliver-due", flow_run_name="deliver-due-{as_of}")
def deliver_due(as_of: dt.date | None = None, db_url: str | None = None) -> dict[str, str]:
    """Send what is due (retries after a backoff) for every live campaign, without ticking."""
    url, day, _ = flow_edge(db_url, as_of)
    out: dict[str, str] = {}
    for code in t.live_campaigns(day, url):
        summary = deliver(code, day, url)
        out[code] = summary.plan.skipped or ", ".join(f"{ch} sent {r.sent}" for ch, r in summary.sent.items())
    return out
