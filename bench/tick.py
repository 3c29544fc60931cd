"""National-scale benchmark: launch, a busy tick, an idle re-tick and the rollup, against a
hand-written SQL baseline, on SQLite or PostgreSQL, in-process and as `campaign` CLI processes.

    python bench/tick.py --departments 2000                       # SQLite files in a temp directory
    python bench/tick.py --departments 2000 --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/tick.py --sizes 500,2000,10000,33000 --cli [--database-url ...]

Each size runs in a child process of its own (so each peak RSS is its own); its output is shown
when it ends.

Generates N departments x 30 tasks (one-off tasks over six phases), launches it through the
launch entry (flows.entries.run_launch), copies the database (SQLite: the file; PostgreSQL:
CREATE DATABASE ... TEMPLATE), then runs the one tick (flows.entries.run_tick) on one copy
and hand-written set-based SQL doing the same state changes on the other, and compares the end
states. With a PostgreSQL URL, the URL names the server's maintenance database: each run creates
throw-away databases (as tests/conftest.py does) and drops them at the end.
tick_ratio = (tick time - an empty flow run's time, measured here) / baseline time.

--cli times the same launch / busy tick / idle re-tick as `campaign` processes on a third database
(wall clock, what a user waits for), each starting its own engine, then again while `campaign serve`
runs (the resident engine, CLI_RESIDENT). --views times one department's board queries and the office
rollup report. --late hands in half the open work on a copy and times the score step and the next day's
tick (the busy day has nothing handed in). --reconcile applies, on a copy of the ticked database, a changed
spec that drops the last tenth of the departments (RECONCILE reconcile_s). --people times the busy tick
of the campaign with an account for every department, the office and a leader (PEOPLE: the tick then
also fills their inboxes, which the baseline does not do). --repeat K runs K busy-tick /
baseline pairs on copies of the launch and reports the medians (this machine swings by a third from run to
run). --sizes runs each size in a child process (so each peak RSS is its own), prints every size's figures
and the growth exponent of the tick time (least-squares slope of log tick time against log size, sizes from 2,000 up).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from domain.duban import level_style, respond_due
from domain.rules import reminder_due, rungs_reached, standing
from domain.spec import CampaignSpec
from tests.machine import PG_HOST, PG_PORT, ensure_postgres

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGN_CLI = ROOT / ".venv" / "bin" / "campaign"
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
    departments: list[dict[str, object]] = [{"code": "office", "name": "省联席办", "kind": "office"}]
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


def spec_document(n: int, kinds: tuple[str, ...] = ("industry_regulator",)) -> dict[str, object]:
    """The campaign YAML's content for N departments (what `campaign launch` reads, as a mapping)."""
    return generate_spec(n, kinds).model_dump(mode="json", exclude_defaults=True)


# --------------------------------------------------------------------------- databases


class Databases:
    """Where one run's databases live: SQLite files in a work directory, or throw-away databases on a
    PostgreSQL server (created like tests/conftest.py's, dropped by `drop_all`)."""

    def __init__(self, server_url: str | None, work: Path):
        self.work = work
        self.server = make_url(server_url) if server_url else None
        if self.server is not None and (self.server.host, self.server.port or 5432) == (PG_HOST, PG_PORT):
            ensure_postgres()  # the local cluster, started when down, as the tests start it
        self.prefix = f"bench_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    @property
    def kind(self) -> str:
        return "postgresql" if self.server is not None else "sqlite"

    def _admin(self):  # noqa: ANN202 - a psycopg connection
        import psycopg

        assert self.server is not None
        conninfo = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)

    def url(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.work / f'{name}.db'}"
        database = f"{self.prefix}_{name}"
        return self.server.set(drivername="postgresql+psycopg", database=database).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        """An empty database (or a copy of `template`'s, whose connections must be closed)."""
        url = self.url(name)
        if self.server is None:
            if template is not None:
                shutil.copy(self.work / f"{template}.db", self.work / f"{name}.db")
            return url
        database = make_url(url).database
        with self._admin() as admin:
            copy = f' TEMPLATE "{self.prefix}_{template}"' if template else ""
            admin.execute(f'CREATE DATABASE "{database}"{copy}')
        self.created.append(str(database))
        return url

    def drop_all(self) -> None:
        if self.server is not None and self.created:
            with self._admin() as admin:
                for database in self.created:
                    admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(self.work, ignore_errors=True)


# --------------------------------------------------------------------------- the yardstick


def baseline_tick(engine: Engine, spec: CampaignSpec, as_of: dt.date) -> float:
    """The same state changes as the tick flow, as hand-written SQL in one transaction (SQLite and
    PostgreSQL alike)."""
    from sqlalchemy import Date, bindparam

    from services.holidays import campaign_calendar

    cal = campaign_calendar(spec)
    t0 = time.perf_counter()
    with engine.begin() as con:

        def run(sql: str, **params: object):  # noqa: ANN202
            dates = [
                bindparam(k, type_=Date)
                for k, v in params.items()
                if isinstance(v, dt.date) and re.search(rf":{k}\b", sql)
            ]
            return con.execute(text(sql).bindparams(*dates), params)

        cid = run("SELECT id FROM campaign WHERE code=:code", code=spec.id).scalar_one()
        d = as_of
        run(
            "UPDATE phase SET state = CASE WHEN :d < start_on THEN 'pending' WHEN :d <= end_on THEN 'open' "
            "ELSE 'closed' END WHERE campaign_id=:cid",
            d=d,
            cid=cid,
        )
        run(
            "UPDATE assignment SET status='open' WHERE campaign_id=:cid AND status='scheduled' AND opens_on<=:d",
            cid=cid,
            d=d,
        )
        dues = [
            v if isinstance(v, dt.date) else dt.date.fromisoformat(v)  # SQLite returns text for text()
            for v in run(
                "SELECT DISTINCT due_on FROM assignment WHERE campaign_id=:cid AND status IN ('open','returned')",
                cid=cid,
            ).scalars()
        ]
        where = "campaign_id=:cid AND due_on=:due AND status IN ('open','returned')"
        for due in dues:
            days = standing(due, as_of, cal).overdue_working_days
            args = {"cid": cid, "due": due, "days": days, "d": d}
            run(f"UPDATE assignment SET overdue_days=:days WHERE {where} AND overdue_days<>:days", **args)
            reached = rungs_reached(days, spec.escalation)
            for rung in reached:
                run(
                    "INSERT INTO escalation (campaign_id, assignment_id, level, name, overdue_days, reached_on) "
                    f"SELECT campaign_id, id, :level, :name, :days, :d FROM assignment WHERE {where} "
                    "ON CONFLICT DO NOTHING",
                    level=rung.level,
                    name=rung.name,
                    **args,
                )
                for aud in rung.notify:
                    run(
                        "INSERT INTO outbox (campaign_id, natural_key, kind, assignment_id, department_id, "
                        "audience, level, created_on, state) SELECT campaign_id, CAST(:key AS TEXT) || "
                        "CAST(id AS TEXT), 'escalation', id, department_id, :aud, :level, :d, 'pending' "
                        f"FROM assignment WHERE {where} ON CONFLICT DO NOTHING",
                        key=f"esc:{rung.level}:{aud.value}:",
                        aud=aud.value,
                        level=rung.level,
                        **args,
                    )
            top = max((rung.level for rung in reached), default=0)
            if top:  # once a row, to the highest rung reached (as the tick raises it)
                run(
                    f"UPDATE assignment SET escalation_level=:level WHERE {where} AND escalation_level<:level",
                    level=top,
                    **args,
                )
            rem = reminder_due(due, as_of, spec.reminders, cal)
            if rem:
                run(
                    "INSERT INTO outbox (campaign_id, natural_key, kind, assignment_id, department_id, "
                    "audience, level, created_on, state) SELECT campaign_id, CAST(:key AS TEXT) || "
                    "CAST(id AS TEXT), :kind, id, department_id, 'department', 0, :d, 'pending' "
                    f"FROM assignment WHERE {where} ON CONFLICT DO NOTHING",
                    key=f"rem:{rem.key}:",
                    kind=rem.kind,
                    **args,
                )
                run(
                    f"UPDATE assignment SET last_reminder_on=:d WHERE {where} AND "
                    "(last_reminder_on IS NULL OR last_reminder_on<:d)",
                    **args,
                )
        # 督办单: one per escalation of work still owed, numbered in the order reached; one message each.
        owed = (
            "FROM escalation e JOIN assignment a ON a.id=e.assignment_id LEFT JOIN duban u "
            "ON u.assignment_id=e.assignment_id AND u.level=e.level WHERE e.campaign_id=:cid AND u.id IS NULL "
            "AND a.status IN ('open','returned')"
        )
        owed_count = run(f"SELECT COUNT(*) {owed}", cid=cid).scalar_one()
        if owed_count:
            run(
                "INSERT INTO campaign_counter (campaign_id, name, value) VALUES (:cid, 'duban', 0) "
                "ON CONFLICT DO NOTHING",
                cid=cid,
            )
            last = run(
                "UPDATE campaign_counter SET value=value+:n WHERE campaign_id=:cid AND name='duban' RETURNING value",
                n=owed_count,
                cid=cid,
            ).scalar_one()
            heads = {lv: level_style(spec.duban, lv) for lv in {r.level for r in spec.escalation}}
            head = "CASE e.level " + " ".join(f"WHEN {lv} THEN :head{lv}" for lv in heads) + " END"
            colour = "CASE e.level " + " ".join(f"WHEN {lv} THEN :colour{lv}" for lv in heads) + " END"
            seq = f"({last - owed_count} + ROW_NUMBER() OVER (ORDER BY e.reached_on, e.level, e.assignment_id))"
            run(
                "INSERT INTO duban (campaign_id, assignment_id, department_id, level, seq, number, colour, issued_on, "
                "nominal_due_on, due_on, overdue_days, requirement, respond_due_on, state) "
                f"SELECT :cid, e.assignment_id, a.department_id, e.level, {seq}, "
                f"{head} || CAST({seq} AS TEXT) || '号', {colour}, :d, "
                "COALESCE(a.original_due_on, a.due_on), a.due_on, "
                "CASE WHEN e.overdue_days > a.overdue_days THEN e.overdue_days ELSE a.overdue_days END, "
                f":requirement, :respond, 'issued' {owed} ON CONFLICT DO NOTHING",
                cid=cid,
                d=d,
                requirement=spec.duban.requirement,
                respond=respond_due(d, spec.duban, cal),
                **{f"head{lv}": f"{st.prefix}〔{d.year}〕" for lv, st in heads.items()},
                **{f"colour{lv}": st.colour.value for lv, st in heads.items()},
            )
            run(
                "INSERT INTO outbox (campaign_id, natural_key, kind, assignment_id, department_id, audience, level, "
                "created_on, state, chases) SELECT campaign_id, 'evt:duban:' || CAST(assignment_id AS TEXT) || ':' "
                "|| CAST(level AS TEXT), 'duban', assignment_id, department_id, 'department', level, :d, 'pending', "
                "false FROM duban WHERE campaign_id=:cid AND seq > :first ON CONFLICT DO NOTHING",
                cid=cid,
                d=d,
                first=last - owed_count,
            )
        run("DELETE FROM rollup_snapshot WHERE campaign_id=:cid AND as_of=:d", cid=cid, d=d)
        counts = (
            "SUM(CASE WHEN status IN ('open','submitted','returned','accepted') THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status IN ('submitted','accepted') THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status='accepted' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status='accepted' AND on_time THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status IN ('open','returned') AND overdue_days>0 THEN 1 ELSE 0 END), "
            "MAX(CASE WHEN status IN ('open','returned') THEN escalation_level ELSE 0 END), "
            "SUM(CASE WHEN status IN ('open','submitted','returned','accepted') AND due_on<=:d THEN 1 ELSE 0 END)"
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
            "escalation_level, due, " + ", ".join(extras)
        )
        counts += ", 0" * len(extras)
        run(
            f"INSERT INTO rollup_snapshot ({cols}) SELECT a.campaign_id, :d, a.department_id, p.key, {counts} "
            "FROM assignment a JOIN phase p ON p.id=a.phase_id WHERE a.campaign_id=:cid "
            "GROUP BY a.campaign_id, a.department_id, p.key",
            d=d,
            cid=cid,
        )
        run(
            f"INSERT INTO rollup_snapshot ({cols}) SELECT campaign_id, :d, department_id, '', {counts} "
            "FROM assignment WHERE campaign_id=:cid GROUP BY campaign_id, department_id",
            d=d,
            cid=cid,
        )
        run("UPDATE campaign SET last_tick_on=:d WHERE id=:cid", d=d, cid=cid)
    checkpoint(engine)
    return time.perf_counter() - t0


def checkpoint(engine: Engine) -> None:
    """SQLite: copy what is left in the WAL into the database file now, so that neither the tick's figure
    nor the baseline's leaves that work to whoever writes next. (A larger wal_autocheckpoint made both
    look faster and saved nothing once this was counted: measured, 2,000 departments.)"""
    if engine.dialect.name == "sqlite":
        with engine.connect() as con:
            con.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as con:
        out = {
            t: con.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("escalation", "outbox", "rollup_snapshot", "duban")
        }
        out["overdue"] = con.execute(text("SELECT COUNT(*) FROM assignment WHERE overdue_days>0")).scalar_one()
        out["open"] = con.execute(text("SELECT COUNT(*) FROM assignment WHERE status='open'")).scalar_one()
    return out


def campaign_state(engine: Engine, code: str) -> dict[str, object]:
    """What a tick changes in one campaign, named by department, task and phase rather than row ids, so the
    flow's and the baseline's end states compare even in two campaigns of one database (the test does)."""
    with engine.connect() as con:

        def rows(sql: str) -> list[tuple[object, ...]]:
            return [tuple(r) for r in con.execute(text(sql), {"code": code})]

        of_campaign = "JOIN campaign c ON c.id = a.campaign_id AND c.code = :code"
        work = rows(
            "SELECT a.id, d.code, t.key, COALESCE(a.period, ''), a.status, a.overdue_days, a.escalation_level, "
            f"a.last_reminder_on FROM assignment a {of_campaign} JOIN department d ON d.id = a.department_id "
            "JOIN task_template t ON t.id = a.template_id"
        )
        name = {r[0]: r[1:4] for r in work}

        def named_key(key: object, aid: object) -> str:  # the natural key with its assignment id named
            parts = str(key).split(":")  # esc:<level>:<audience>:<id>, rem:<key>:<id>, evt:<kind>:<id>:<suffix>
            parts[2 if parts[0] == "evt" else -1] = str(name[aid])
            return ":".join(parts)

        return {
            "assignments": sorted(map(str, (r[1:] for r in work))),
            "escalations": sorted(
                str((name[r[0]], *r[1:]))
                for r in rows(
                    "SELECT e.assignment_id, e.level, e.name, e.overdue_days, e.reached_on FROM escalation e "
                    "JOIN assignment a ON a.id = e.assignment_id " + of_campaign
                )
            ),
            "outbox": sorted(
                str((named_key(r[0], r[1]), *r[2:]))
                for r in rows(
                    "SELECT o.natural_key, o.assignment_id, o.kind, o.audience, o.level, o.created_on, o.state, "
                    "o.chases FROM outbox o JOIN assignment a ON a.id = o.assignment_id " + of_campaign
                )
            ),
            "duban": sorted(
                str((name[r[0]], *r[1:]))
                for r in rows(
                    "SELECT u.assignment_id, u.level, u.seq, u.number, u.colour, u.issued_on, u.nominal_due_on, "
                    "u.due_on, u.overdue_days, u.requirement, u.respond_due_on, u.state FROM duban u "
                    "JOIN assignment a ON a.id = u.assignment_id " + of_campaign
                )
            ),
            "rollup": sorted(
                map(
                    str,
                    rows(
                        "SELECT d.code, r.phase_key, r.as_of, r.assigned, r.submitted, r.accepted, r.on_time, "
                        "r.overdue, r.escalation_level, r.due, r.problems_open, r.leads_open, r.projects_sampled "
                        "FROM rollup_snapshot r JOIN department d ON d.id = r.department_id "
                        "JOIN campaign c ON c.id = r.campaign_id AND c.code = :code"
                    ),
                )
            ),
            "counters": sorted(
                map(
                    str,
                    rows(
                        "SELECT n.name, n.value FROM campaign_counter n "
                        "JOIN campaign c ON c.id = n.campaign_id AND c.code = :code"
                    ),
                )
            ),
            "phases": rows(
                "SELECT p.key, p.state FROM phase p JOIN campaign c ON c.id = p.campaign_id AND c.code = :code "
                "ORDER BY p.ordinal"
            ),
            "last_tick_on": rows("SELECT last_tick_on FROM campaign WHERE code = :code"),
        }


# --------------------------------------------------------------------------- as a user runs it


def cli_times(dbs: Databases, spec: CampaignSpec, n: int, database: str = "cli") -> dict[str, float]:
    """launch / busy tick / idle re-tick as `campaign` processes on a fresh database (wall clock),
    the schema migrated first (timed apart: a one-off step)."""
    import yaml

    url = dbs.create(database)
    spec_file = dbs.work / "campaign.yaml"
    spec_file.write_text(yaml.safe_dump(spec_document(n), allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {
        **os.environ,
        "CAMPAIGN_DATABASE_URL": url,
        "CAMPAIGN_DATA_DIR": str(dbs.work / "cli-data"),
    }
    times: dict[str, float] = {}
    day = AS_OF.isoformat()
    commands = {
        "upgrade": ["db", "upgrade"],
        "launch": ["launch", str(spec_file)],
        "tick": ["tick", "--campaign", spec.id, "--as-of", day],
        "retick": ["tick", "--campaign", spec.id, "--as-of", day],
    }
    for name, argv in commands.items():
        t0 = time.perf_counter()
        done = subprocess.run([str(CAMPAIGN_CLI), *argv], env=env, capture_output=True, text=True, check=False)
        times[name] = time.perf_counter() - t0
        if done.returncode != 0:
            log = dbs.work / "cli-data" / "logs" / "campaign.log"  # an internal error's traceback
            detail = log.read_text(encoding="utf-8")[-4000:] if log.is_file() else ""
            raise RuntimeError(f"campaign {' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}{detail}")
        shown = done.stdout.strip().splitlines()
        longest = max((len(line) for line in shown), default=0)
        print(f"  campaign {argv[0]}: {len(shown)} lines, longest {longest} chars: {' | '.join(shown[:3])[:300]}")
    times["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return times


def resident_cli_times(dbs: Databases, spec: CampaignSpec, n: int) -> dict[str, float]:
    """The same commands while `campaign serve` runs on its own database: they run their flows on its
    API server, the resident engine (flows.api_server), as an office's commands do all day."""
    from flows.api_server import resident_server

    env = {**os.environ, "CAMPAIGN_DATABASE_URL": dbs.create("serve"), "CAMPAIGN_DATA_DIR": str(dbs.work / "serve")}
    serve = subprocess.Popen(
        [str(CAMPAIGN_CLI), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 300
        found = resident_server()
        while found is None or found.pid != serve.pid:
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"campaign serve did not offer its engine (exit {serve.poll()})")
            time.sleep(0.2)
            found = resident_server()
        return cli_times(dbs, spec, n, database="cli_resident")
    finally:
        serve.terminate()  # a graceful stop: it withdraws its offer
        serve.wait(timeout=60)


def view_times(url: str, spec: CampaignSpec, at: dt.datetime) -> dict[str, float]:
    """One department's board queries (as its own account) and the office's monthly rollup report."""
    from domain.access import SYSTEM, Actor, Role
    from services import reports
    from services.users import add_user
    from services.views import boards
    from store.uow import UnitOfWork

    code = "d0001"
    username = f"bench-{code}"
    with UnitOfWork(url) as uow:
        add_user(
            uow.session,
            actor=SYSTEM,
            at=at,
            username=username,
            display_name="基准测试联络员",
            role=Role.department,
            department_code=code,
            email=None,
            password="bench-pass-2020",
            campaign_code=spec.id,
        )
        uow.commit()
    me = Actor(username, Role.department, code, campaign_code=spec.id)
    out: dict[str, float] = {}
    with UnitOfWork(url) as uow:
        s = uow.session
        t0 = time.perf_counter()
        day = boards.rollup_day(s, actor=me, campaign_code=spec.id, as_of=AS_OF, at=at)
        board = boards.department_board(s, actor=me, campaign_code=spec.id, day=day, at=at)
        heat = boards.heatmap(s, actor=me, campaign_code=spec.id, day=day, at=at)
        trend = boards.trend(s, actor=me, campaign_code=spec.id, at=at)
        late = boards.overdue(s, actor=me, campaign_code=spec.id, at=at)
        mine = boards.department_assignments(s, actor=me, campaign_code=spec.id, department_code=code, at=at)
        out["board_s"] = time.perf_counter() - t0
        print(
            f"  department {code}'s board: {len(board)} board row, {len(heat)} heat-map cells, {len(trend)} days, "
            f"{len(late)} overdue, {len(mine)} tasks"
        )
        made = dt.datetime(2020, 8, 3, 2, tzinfo=dt.UTC)
        t0 = time.perf_counter()
        data = reports.report_data(
            s, actor=SYSTEM, campaign_code=spec.id, period="2020-07", department_code=None, at=made
        )
        out["report_s"] = time.perf_counter() - t0
        print(f"  office rollup report 2020-07: {len(data.department_rows)} department rows")
    return out


def late_times(url: str, spec: CampaignSpec, at: dt.datetime) -> dict[str, float]:
    """Late in a campaign, on a copy of the ticked database: every other open assignment handed in (by SQL, one
    submission each, every other one of those accepted), then the score step and the next day's whole tick
    timed. The busy day above has nothing handed in, so only this shows what grows with handed-in work."""
    from sqlalchemy import bindparam

    from domain.access import SYSTEM
    from flows.entries import run_tick
    from services.scoring import write_scores
    from store.db import shared_engine
    from store.models import Submission
    from store.uow import UnitOfWork

    handed = bindparam("handed", type_=Submission.submitted_at.type)
    reviewed = bindparam("reviewed", type_=Submission.reviewed_at.type)
    engine = shared_engine(url)
    with engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO submission (assignment_id, seq, submitted_by, submitted_at, text, rows_json, state, "
                "reviewed_by, reviewed_at) SELECT id, 1, 'bench', :handed, '', '[]', CASE WHEN id % 4 = 0 THEN "
                "'accepted' ELSE 'pending' END, CASE WHEN id % 4 = 0 THEN 'bench' END, CASE WHEN id % 4 = 0 THEN "
                ":reviewed END FROM assignment WHERE status = 'open' AND id % 2 = 0"
            ).bindparams(handed, reviewed),
            {
                "handed": dt.datetime(2020, 7, 17, 2, tzinfo=dt.UTC),
                "reviewed": dt.datetime(2020, 7, 17, 8, tzinfo=dt.UTC),
            },
        )
        con.execute(
            text(
                "UPDATE assignment SET status = CASE WHEN id % 4 = 0 THEN 'accepted' ELSE 'submitted' END "
                "WHERE status = 'open' AND id % 2 = 0"
            )
        )
        count = con.execute(text("SELECT COUNT(*) FROM submission")).scalar_one()
    with UnitOfWork(url) as uow:
        t0 = time.perf_counter()
        write_scores(uow.session, campaign_code=spec.id, as_of=AS_OF, actor=SYSTEM, at=at)
        uow.commit()
        score_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_tick(spec.id, AS_OF + dt.timedelta(days=1), settings_or_db_url=url, actor=SYSTEM, at=at)
    tick_s = time.perf_counter() - t0
    return {"handed_in": float(count), "score_s": score_s, "tick_s": tick_s}


def people_times(url: str, spec: CampaignSpec, at: dt.datetime) -> dict[str, float]:
    """The busy tick of a campaign whose people have accounts (an office account, a leader, one account per
    department), on a copy of the launch: the tick then also puts every owed message in their inboxes, which
    the campaign without people above (and the baseline) never does. Timed as the busy tick is."""
    from sqlalchemy import bindparam

    from domain.access import SYSTEM
    from flows.entries import run_tick
    from store.db import shared_engine
    from store.models import User

    engine = shared_engine(url)
    made = bindparam("made", type_=User.created_at.type)
    with engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO app_user (username, display_name, role, department_code, campaign_code, password_hash, "
                "disabled, created_at) SELECT 'bench-' || code, name, CASE WHEN is_office THEN 'office' ELSE "
                "'department' END, code, :campaign, 'not-a-login', false, :made FROM department"
            ).bindparams(made),
            {"campaign": spec.id, "made": at},
        )
        con.execute(
            text(
                "INSERT INTO app_user (username, display_name, role, password_hash, disabled, created_at) "
                "VALUES ('bench-leader', '分管领导', 'leader', 'not-a-login', false, :made)"
            ).bindparams(made),
            {"made": at},
        )
    t0 = time.perf_counter()
    run_tick(spec.id, AS_OF, settings_or_db_url=url, actor=SYSTEM, at=at)
    checkpoint(engine)
    tick_s = time.perf_counter() - t0
    with engine.connect() as con:
        accounts = con.execute(text("SELECT COUNT(*) FROM app_user")).scalar_one()
        items = con.execute(text("SELECT COUNT(*) FROM outbox_delivery WHERE channel = 'inbox'")).scalar_one()
    return {
        "accounts": float(accounts),
        "inbox_items": float(items),
        "tick_s": tick_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def reconcile_times(url: str, n: int, at: dt.datetime) -> dict[str, float]:
    """A changed spec on a copy of the ticked database: the last tenth of the departments dropped (their work
    not yet opened is deleted, the rest cancelled), applied through the launch entry and timed. Each deleted
    assignment makes the database find its messages and files; migration 0021 indexed those."""
    from domain.access import SYSTEM
    from flows.entries import run_launch

    t0 = time.perf_counter()
    report = run_launch(generate_spec(n - n // 10), settings_or_db_url=url, actor=SYSTEM, at=at)
    return {
        "departments_retired": float(len(report.departments_retired)),
        "assignments_removed": float(report.assignments_removed),
        "reconcile_s": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- one size


def measure(
    n: int,
    server_url: str | None,
    *,
    cli: bool,
    views: bool,
    repeat: int = 1,
    late: bool = False,
    reconcile: bool = False,
    people: bool = False,
) -> int:
    from prefect import flow

    from domain.access import SYSTEM
    from flows.entries import run_launch, run_tick
    from flows.runtime import embedded_engine
    from services import ticking
    from services.ticking import TickSummary
    from settings import Settings, load_settings
    from store.db import shared_engine
    from store.migrate import upgrade
    from store.uow import UnitOfWork

    dbs = Databases(server_url, Path(tempfile.mkdtemp(prefix="bench-tick-")))
    try:
        url = dbs.create("flow")
        settings = load_settings(database_url=url, data_dir=dbs.work / "data")
        spec = generate_spec(n)
        at = dt.datetime(2020, 5, 1, tzinfo=dt.UTC)

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
        report = run_launch(spec, settings_or_db_url=settings, actor=SYSTEM, at=at)
        launch_s = time.perf_counter() - t0
        shared_engine(url).dispose()
        base_url = dbs.create("baseline", template="flow")
        people_url = dbs.create("people", template="flow") if people else None
        # Further pairs on copies of the launched database: this machine's tick and baseline each swing by
        # a third from run to run (disk and checkpoint timing), so the figures are medians over the pairs.
        extra = [
            (dbs.create(f"tick{i}", template="flow"), dbs.create(f"base{i}", template="flow")) for i in range(1, repeat)
        ]

        def busy_tick(on: Settings) -> tuple[TickSummary, float]:
            """The tick the figures time: the flow, then the WAL checkpoint (as the baseline ends too)."""
            t0 = time.perf_counter()
            done = run_tick(spec.id, AS_OF, settings_or_db_url=on, actor=SYSTEM, at=at)
            checkpoint(shared_engine(on.db_url))
            return done, time.perf_counter() - t0

        summary, first_tick_s = busy_tick(settings)
        tick_times = [first_tick_s]
        t0 = time.perf_counter()
        run_tick(spec.id, AS_OF, settings_or_db_url=settings, actor=SYSTEM, at=at)
        retick_s = time.perf_counter() - t0
        with UnitOfWork(url) as uow:  # the rollup step alone (rewrites the day's identical rows)
            t0 = time.perf_counter()
            rollup_rows = ticking.write_rollup(uow.session, spec.id, AS_OF)
            uow.commit()
            rollup_s = time.perf_counter() - t0
        base_engine = shared_engine(base_url)
        baseline_times = [baseline_tick(base_engine, spec, AS_OF)]
        flow_counts, base_counts = table_counts(shared_engine(url)), table_counts(base_engine)
        base_engine.dispose()
        for tick_url, pair_base_url in extra:  # alternated, so a slow minute of the machine hits both
            tick_times.append(busy_tick(load_settings(database_url=tick_url, data_dir=dbs.work / "data"))[1])
            shared_engine(tick_url).dispose()
            baseline_times.append(baseline_tick(shared_engine(pair_base_url), spec, AS_OF))
            shared_engine(pair_base_url).dispose()
        tick_s, baseline_s = statistics.median(tick_times), statistics.median(baseline_times)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tick_ratio = (tick_s - empty_s) / baseline_s

        print(f"database={dbs.kind} departments={n} assignments={report.assignments_added}")
        print(f"busy tick on {AS_OF}: {summary.counts}")
        print(f"state after flow tick:     {flow_counts}")
        print(f"state after baseline SQL:  {base_counts}")
        print(f"empty_flow_s={empty_s:.3f} rollup_rows={rollup_rows}")
        if repeat > 1:
            print(f"tick_s each: {' '.join(f'{t:.2f}' for t in tick_times)}  (median {tick_s:.2f})")
            print(f"baseline_s each: {' '.join(f'{t:.2f}' for t in baseline_times)}  (median {baseline_s:.2f})")
        print(
            f"RESULT launch_s={launch_s:.2f} tick_s={tick_s:.2f} baseline_s={baseline_s:.2f} "
            f"tick_ratio={tick_ratio:.2f} retick_s={retick_s:.2f} peak_rss_mb={peak_mb:.0f}"
        )
        print(f"ROLLUP rollup_s={rollup_s:.2f}")
        if people_url is not None:  # before the views and the comparison below, which hold much in memory
            pt = people_times(people_url, spec, at)
            print(
                f"PEOPLE accounts={pt['accounts']:.0f} inbox_items={pt['inbox_items']:.0f} tick_s={pt['tick_s']:.2f} "
                f"peak_rss_mb={pt['peak_rss_mb']:.0f}"
            )
        if views:
            v = view_times(url, spec, at)
            print(f"VIEWS board_s={v['board_s']:.2f} report_s={v['report_s']:.2f}")
        # After the figures: a new tick step the baseline lacks still shows its cost.
        if flow_counts != base_counts or campaign_state(shared_engine(url), spec.id) != campaign_state(
            base_engine, spec.id
        ):
            print("MISMATCH: the flow and the baseline did not make the same changes")
            return 1
        shared_engine(url).dispose()
        if late:
            lt = late_times(dbs.create("late", template="flow"), spec, at)
            print(f"LATE handed_in={lt['handed_in']:.0f} score_s={lt['score_s']:.2f} tick_s={lt['tick_s']:.2f}")
        if reconcile:
            rc = reconcile_times(dbs.create("reconcile", template="flow"), n, at + dt.timedelta(days=80))
            print(
                f"RECONCILE departments_retired={rc['departments_retired']:.0f} "
                f"assignments_removed={rc['assignments_removed']:.0f} reconcile_s={rc['reconcile_s']:.2f}"
            )
        if cli:
            c = cli_times(dbs, spec, n)
            print(
                f"CLI launch_s={c['launch']:.2f} tick_s={c['tick']:.2f} retick_s={c['retick']:.2f} "
                f"upgrade_s={c['upgrade']:.2f} peak_rss_mb={c['peak_rss_mb']:.0f}"
            )
            r = resident_cli_times(dbs, spec, n)
            print(f"CLI_RESIDENT launch_s={r['launch']:.2f} tick_s={r['tick']:.2f} retick_s={r['retick']:.2f}")
        return 0
    finally:
        for name in ("flow", "baseline", "late", "reconcile", "people"):
            shared_engine(dbs.url(name)).dispose()
        dbs.drop_all()


# --------------------------------------------------------------------------- several sizes


def growth_exponent(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(time) against log(size): 1.0 is linear growth."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def figures_of(output: str) -> dict[str, float]:
    """Every key=value of the RESULT / ROLLUP / VIEWS / CLI lines (CLI's prefixed cli_)."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        head, _, rest = line.partition(" ")
        if head in ("RESULT", "ROLLUP", "VIEWS", "CLI", "CLI_RESIDENT", "LATE", "RECONCILE", "PEOPLE"):
            prefix = {"CLI": "cli_", "CLI_RESIDENT": "resident_", "LATE": "late_", "PEOPLE": "people_"}.get(head, "")
            for key, value in re.findall(r"(\w+)=([\d.]+)", rest):
                found[f"{prefix}{key}"] = float(value)
    return found


# Measured on a loaded 2-core machine: Prefect's ephemeral server took over the project's 60 s to
# start and the run died. A figure under load is still a figure: each size's process and the CLI
# processes it starts wait longer (an operator's own setting wins).
CHILD_ENV = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600", **os.environ}


def run_sizes(sizes: list[int], forwarded: list[str]) -> int:
    table: list[tuple[int, dict[str, float]]] = []
    for n in sizes:
        print(f"=== {n} departments", flush=True)
        # The flows build their settings from the environment and the URL they are given: without a data
        # directory of its own, a PostgreSQL run left its audit key and anchors in the checkout's ./data.
        data_dir = tempfile.mkdtemp(prefix="bench-tick-data-")
        try:
            child = subprocess.run(
                [sys.executable, __file__, "--one-size", "--departments", str(n), *forwarded],
                env={**CHILD_ENV, "CAMPAIGN_DATA_DIR": data_dir},
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        print(child.stdout, end="", flush=True)
        if child.returncode != 0:
            print(child.stderr[-4000:], file=sys.stderr, flush=True)
            print(f"FAILED at {n} departments (exit {child.returncode})", flush=True)
            continue
        table.append((n, figures_of(child.stdout)))
    keys = ["launch_s", "tick_s", "retick_s", "rollup_s", "baseline_s", "tick_ratio", "peak_rss_mb"]
    keys += sorted({k for _, f in table for k in f} - set(keys))
    print("\nsize    " + " ".join(f"{k:>14}" for k in keys))
    for n, f in table:
        print(f"{n:<7} " + " ".join(f"{f.get(k, float('nan')):>14.2f}" for k in keys))
    exponent = growth_exponent([(n, f["tick_s"]) for n, f in table if n >= 2000])
    print(f"GROWTH tick_exponent={'n/a' if exponent is None else f'{exponent:.2f}'} (log-log fit, sizes >= 2000)")
    return 0 if len(table) == len(sizes) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=2000)
    parser.add_argument("--sizes", help="comma-separated department counts, each run in its own process")
    parser.add_argument("--database-url", help="a PostgreSQL server's maintenance database URL (default: SQLite files)")
    parser.add_argument("--cli", action="store_true", help="also time launch / tick / re-tick as campaign processes")
    parser.add_argument("--views", action="store_true", help="also time a department's board and the rollup report")
    parser.add_argument(
        "--late", action="store_true", help="also time the score and the next tick with half the open work handed in"
    )
    parser.add_argument(
        "--people", action="store_true", help="also time the busy tick with an account for every department"
    )
    parser.add_argument(
        "--reconcile", action="store_true", help="also time a changed spec that drops a tenth of the departments"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="busy tick and baseline pairs on copies of the launch; medians reported"
    )
    parser.add_argument("--one-size", action="store_true", help=argparse.SUPPRESS)  # the child run_sizes starts
    args = parser.parse_args()
    if args.one_size:
        return measure(
            args.departments,
            args.database_url,
            cli=args.cli,
            views=args.views,
            repeat=args.repeat,
            late=args.late,
            reconcile=args.reconcile,
            people=args.people,
        )
    forwarded = [*(["--database-url", args.database_url] if args.database_url else [])]
    forwarded += [*(["--cli"] if args.cli else []), *(["--views"] if args.views else [])]
    forwarded += ["--late"] if args.late else []
    forwarded += ["--reconcile"] if args.reconcile else []
    forwarded += ["--people"] if args.people else []
    forwarded += ["--repeat", str(args.repeat)]
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.departments]
    return run_sizes(sizes, forwarded)


if __name__ == "__main__":
    sys.exit(main())
