"""Province-scale benchmark: launch, a busy tick, an idle re-tick, against a hand-written SQL baseline.

    python bench/tick.py --departments 2000

Generates N departments x 30 tasks (one-off tasks over six phases), launches it through the
launch entry (flows.campaign_flows.run_launch), copies the database, then runs the one tick
(flows.campaign_flows.run_tick: the tick flow, each step a named task, each changing step audited)
on one copy and hand-written set-based SQL doing the same state changes on the other, in the same
process. Prints figures and a RESULT line.
tick_ratio = (tick time - an empty flow run's time, measured here) / baseline time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.rules import reminder_due, rungs_reached, standing
from domain.spec import CampaignSpec

AS_OF = dt.date(2020, 7, 20)  # busy: three phases live, many deadlines past, reminders due
PHASES = [
    ("mobilize", "mobilization", "2020-05-06", "2020-05-29"),
    ("self_check", "self_check", "2020-06-01", "2020-06-30"),
    ("verify", "verification", "2020-07-01", "2020-09-30"),
    ("cases", "case_handling", "2020-07-01", "2020-10-30"),
    ("review", "review", "2020-11-02", "2020-11-30"),
    ("summary", "summary", "2020-12-01", "2020-12-25"),
]


def generate_spec(n: int, kinds: tuple[str, ...] = ("industry_regulator",)) -> CampaignSpec:
    """N departments (kinds in turn) x 30 one-off tasks over six phases, all members assigned."""
    departments = [{"code": "office", "name": "省联席办", "kind": "office"}]
    departments += [
        {"code": f"d{i:04d}", "name": f"第{i}责任单位", "kind": kinds[i % len(kinds)], "tags": ["成员"]}
        for i in range(1, n + 1)
    ]
    phases = []
    for key, kind, start, end in PHASES:
        start_d, end_d = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        span = (end_d - start_d).days
        tasks = [
            {
                "key": f"{key}_t{j}",
                "title": f"{key} 任务 {j}",
                "deliverable": "report",
                "assignees": {"all_members": True},
                "due": (start_d + dt.timedelta(days=span * (j + 1) // 6)).isoformat(),
            }
            for j in range(5)
        ]
        phases.append({"key": key, "kind": kind, "start": start, "end": end, "tasks": tasks})
    return CampaignSpec.model_validate(
        {
            "id": "province-bench",
            "title": "全省招投标专项整治（基准测试）",
            "issuer": "省联席会议办公室",
            "start": "2020-05-06",
            "end": "2020-12-31",
            "office": "office",
            "departments": departments,
            "phases": phases,
        }
    )


def baseline_tick(db: Path, spec: CampaignSpec, as_of: dt.date) -> float:
    """The same state changes as the tick flow, as hand-written SQL in one connection."""
    from services.holidays import campaign_calendar

    cal = campaign_calendar(spec)
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    cur = con.cursor()
    cid = cur.execute("SELECT id FROM campaign WHERE code=?", (spec.id,)).fetchone()[0]
    d = as_of.isoformat()
    cur.execute(
        "UPDATE phase SET state = CASE WHEN ? < start_on THEN 'pending' WHEN ? <= end_on THEN 'open' "
        "ELSE 'closed' END WHERE campaign_id=?",
        (d, d, cid),
    )
    cur.execute(
        "UPDATE assignment SET status='open' WHERE campaign_id=? AND status='scheduled' AND opens_on<=?", (cid, d)
    )
    dues = [
        dt.date.fromisoformat(r[0])
        for r in cur.execute(
            "SELECT DISTINCT due_on FROM assignment WHERE campaign_id=? AND status IN ('open','returned')", (cid,)
        )
    ]
    for due in dues:
        days = standing(due, as_of, cal).overdue_working_days
        where = "campaign_id=? AND due_on=? AND status IN ('open','returned')"
        args = (cid, due.isoformat())
        cur.execute(f"UPDATE assignment SET overdue_days=? WHERE {where} AND overdue_days<>?", (days, *args, days))
        for rung in rungs_reached(days, spec.escalation):
            cur.execute(
                "INSERT OR IGNORE INTO escalation (campaign_id, assignment_id, level, name, overdue_days, reached_on) "
                f"SELECT campaign_id, id, ?, ?, ?, ? FROM assignment WHERE {where}",
                (rung.level, rung.name, days, d, *args),
            )
            for aud in rung.notify:
                cur.execute(
                    "INSERT OR IGNORE INTO outbox (campaign_id, natural_key, kind, assignment_id, department_id, "
                    "audience, level, created_on, state) SELECT campaign_id, ? || id, 'escalation', id, "
                    f"department_id, ?, ?, ?, 'pending' FROM assignment WHERE {where}",
                    (f"esc:{rung.level}:{aud.value}:", aud.value, rung.level, d, *args),
                )
            cur.execute(
                f"UPDATE assignment SET escalation_level=? WHERE {where} AND escalation_level<?",
                (rung.level, *args, rung.level),
            )
        rem = reminder_due(due, as_of, spec.reminders, cal)
        if rem:
            cur.execute(
                "INSERT OR IGNORE INTO outbox (campaign_id, natural_key, kind, assignment_id, department_id, "
                "audience, level, created_on, state) SELECT campaign_id, ? || id, ?, id, department_id, "
                f"'department', 0, ?, 'pending' FROM assignment WHERE {where}",
                (f"rem:{rem.key}:", rem.kind, d, *args),
            )
            cur.execute(
                f"UPDATE assignment SET last_reminder_on=? WHERE {where} AND "
                "(last_reminder_on IS NULL OR last_reminder_on<?)",
                (d, *args, d),
            )
    cur.execute("DELETE FROM rollup_snapshot WHERE campaign_id=? AND as_of=?", (cid, d))
    counts = (
        "SUM(status IN ('open','submitted','returned','accepted')), SUM(status IN ('submitted','accepted')), "
        "SUM(status='accepted'), SUM(status='accepted' AND on_time=1), "
        "SUM(status IN ('open','returned') AND overdue_days>0), "
        "MAX(CASE WHEN status IN ('open','returned') THEN escalation_level ELSE 0 END)"
    )
    extras = (
        "problems_open",
        "problems_closed",
        "problems_overdue",
        "problems_rebound",
        "projects_supervised",
        "projects_sampled",
        "leads_open",
        "leads_closed",
        "leads_overdue",
    )
    cols = (
        "campaign_id, as_of, department_id, phase_key, assigned, submitted, accepted, on_time, overdue, "
        "escalation_level, " + ", ".join(extras)
    )
    counts += ", 0" * len(extras)
    cur.execute(
        f"INSERT INTO rollup_snapshot ({cols}) SELECT a.campaign_id, ?, a.department_id, p.key, {counts} "
        "FROM assignment a JOIN phase p ON p.id=a.phase_id WHERE a.campaign_id=? GROUP BY a.department_id, p.key",
        (d, cid),
    )
    cur.execute(
        f"INSERT INTO rollup_snapshot ({cols}) SELECT campaign_id, ?, department_id, '', {counts} "
        "FROM assignment WHERE campaign_id=? GROUP BY department_id",
        (d, cid),
    )
    cur.execute("UPDATE campaign SET last_tick_on=? WHERE id=?", (d, cid))
    con.commit()
    con.close()
    return time.perf_counter() - t0


def table_counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    out = {
        t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("escalation", "outbox", "rollup_snapshot")
    }
    out["overdue"] = con.execute("SELECT COUNT(*) FROM assignment WHERE overdue_days>0").fetchone()[0]
    out["open"] = con.execute("SELECT COUNT(*) FROM assignment WHERE status='open'").fetchone()[0]
    con.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=2000)
    args = parser.parse_args()

    from flows.runtime import embedded_engine

    work = Path(tempfile.mkdtemp(prefix="bench-tick-"))
    db, base = work / "flow.db", work / "baseline.db"
    url = f"sqlite:///{db}"
    spec = generate_spec(args.departments)
    at = dt.datetime(2020, 5, 1, tzinfo=dt.UTC)
    from prefect import flow

    from domain.access import SYSTEM
    from flows.campaign_flows import run_launch, run_tick
    from store.db import shared_engine
    from store.migrate import upgrade

    @flow(name="empty")
    def empty() -> None:
        return None

    with embedded_engine():
        empty()  # starts the ephemeral engine; not part of any figure
        t0 = time.perf_counter()
        empty()
        empty_s = time.perf_counter() - t0
    upgrade(shared_engine(url))  # the migration step, so launch times only the launch

    # The entries the CLI and the dashboard call: the launch flow, the one tick composition as a flow.
    t0 = time.perf_counter()
    report = run_launch(spec, settings_or_db_url=url, actor=SYSTEM, at=at)
    launch_s = time.perf_counter() - t0
    shared_engine(url).dispose()
    shutil.copy(db, base)

    t0 = time.perf_counter()
    summary = run_tick(spec.id, AS_OF, settings_or_db_url=url, actor=SYSTEM, at=at)
    tick_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_tick(spec.id, AS_OF, settings_or_db_url=url, actor=SYSTEM, at=at)
    retick_s = time.perf_counter() - t0
    baseline_s = baseline_tick(base, spec, AS_OF)
    flow_counts, base_counts = table_counts(db), table_counts(base)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tick_ratio = (tick_s - empty_s) / baseline_s

    print(f"departments={args.departments} assignments={report.assignments_added}")
    print(f"busy tick on {AS_OF}: {summary.counts}")
    print(f"state after flow tick:     {flow_counts}")
    print(f"state after baseline SQL:  {base_counts}")
    if flow_counts != base_counts:
        print("MISMATCH: the flow and the baseline did not make the same changes", file=sys.stderr)
        return 1
    print(f"empty_flow_s={empty_s:.3f}")
    print(
        f"RESULT launch_s={launch_s:.2f} tick_s={tick_s:.2f} baseline_s={baseline_s:.2f} "
        f"tick_ratio={tick_ratio:.2f} retick_s={retick_s:.2f} peak_rss_mb={peak_mb:.0f}"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
