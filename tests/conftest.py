"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, a launched campaign, demo users.

- `engine`: parametrised [sqlite, postgres]. SQLite is a fresh file in tmp_path; PostgreSQL is one
  database per test session (`cm_test_<random>`, created through postgres@127.0.0.1/postgres and
  dropped at the end), migrated once and refilled from a snapshot schema before every test (see
  the snapshots below). If the server is down the postgres tests fail with a clear message; nothing
  is skipped. The PostgreSQL variant
  carries the `postgres` marker (`-m "not postgres"` runs SQLite only, `-m postgres` PostgreSQL only).
- `memory_engine` / `memory_uow`: the fast service tier — an in-memory SQLite store built from the
  models (no migration, no file), for service tests that need no PostgreSQL behaviour.
- `uow_factory`: `uow_factory()` opens a UnitOfWork on that engine.
- `launched_campaign`: config/campaigns/yanjiang-2020.yaml launched as SYSTEM and ticked to
  2020-06-01 (the one tick composition, services.ticking.tick, each step in a unit of work of its
  own — what the flow runs as tasks); returns a `Launched` (code, spec, as_of, at).
- `tick`: `tick(as_of)` runs that composition for the launched campaign.
- `prefect_harness`: the real Prefect engine as the embedded default runs it — its own API server
  process (flows.api_server) on a copy of a Prefect database migrated once per test session (one
  server per xdist worker).
- `users`: username -> password for office / leader / one department user per department
  (`dept_<code>`); `actors`: the same names (plus "system") -> Actor.

Password hashing uses cheap argon2 parameters in tests (the production parameters cost ~50 ms a hash).
"""

from __future__ import annotations

import compileall
import contextlib
import datetime as dt
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine, text

from domain.access import SYSTEM, Actor
from domain.spec import CampaignSpec
from flows.api_server import ApiServer
from services import ticking
from services.ticking import StepRunner, TickSummary
from settings import load_settings
from store import audit
from store.audit import KEY_FILE_NAME
from store.db import make_engine
from store.migrate import upgrade
from store.uow import UnitOfWork, unit_per_step
from tests.cli_support import PREFECT_HOME
from tests.machine import ensure_browser, ensure_libreoffice

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "config" / "campaigns" / "yanjiang-2020.yaml"
PG_ADMIN_URL = os.environ.get("CAMPAIGN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
LAUNCH_AT = dt.datetime(2020, 5, 8, 1, 0, tzinfo=dt.UTC)
TICK_TO = dt.date(2020, 6, 1)
PASSWORD = "Passw0rd!2020"
T = TypeVar("T")
PACKAGES = ("domain", "store", "services", "tasks", "flows", "cli", "dashboard", "notify", "exchange", "settings")


def pytest_configure(config: pytest.Config) -> None:
    """Compile the project once for every process the suite starts (CLI commands, dashboards, API servers
    and workers): where PYTHONDONTWRITEBYTECODE is set, as on this machine, each of them compiled every
    module it imports again. Python still reads bytecode that exists; __pycache__ is not committed. Done by
    the controller alone: xdist starts its workers after this."""
    if hasattr(config, "workerinput"):
        return
    for name in PACKAGES:
        compileall.compile_dir(ROOT / name, quiet=1)
    install_machine_packages()


def install_machine_packages() -> None:
    """Chromium (browser tests, and every report's charts, unit tests included) and LibreOffice, installed
    once by the controller before any worker starts: two workers running apt-get at once collide on its
    lock, and a test that draws a chart must not depend on a browser test having run first. Where they
    cannot be installed, the tests that need them say so (their fixtures call the same functions)."""
    for ensure in (ensure_browser, ensure_libreoffice):
        try:
            ensure()
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            print(f"conftest: {ensure.__name__}: {exc}", file=sys.stderr)


PREFECT_DB_FILE = "prefect.db"


def _start_prefect_server(database: Path) -> ApiServer:
    """The embedded engine's own Prefect API server (flows.api_server) on the Prefect database `database`."""
    server = ApiServer({"PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{database.as_posix()}"})
    # A loaded 2-core machine (CI runs three workers) can take well over a minute to start the server.
    server.wait_ready(180)
    return server


def _stop_prefect_server(server: ApiServer) -> None:
    """ApiServer.stop, then waiting for the process to end (its database is copied or removed next)."""
    server.stop()
    assert server.process is not None
    server.process.wait(timeout=60)


def built_once_per_session(
    tmp_path_factory: pytest.TempPathFactory,
    folder_name: str,
    file_name: str,
    build: Callable[[Path], None],
    beside: tuple[str, ...] = (),
) -> Path:
    """`folder_name/file_name`, made once per test session — not per xdist worker: the first worker to take the
    lock runs `build(work)` (which makes `work/file_name`) under the workers' shared temporary directory; the
    others wait for it and reuse it. The files named in `beside` are moved next to it, the file itself last: its
    presence says the build is complete."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the directory all workers of this session share
    folder = base / folder_name
    folder.mkdir(exist_ok=True)
    done = folder / file_name
    with open(folder / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.is_file():
                work = folder / "building"
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                build(work)
                for name in beside:
                    (work / name).replace(folder / name)
                (work / file_name).replace(done)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return done


def _migrate_prefect_database(work: Path) -> None:
    _stop_prefect_server(_start_prefect_server(work / PREFECT_DB_FILE))
    with sqlite3.connect(work / PREFECT_DB_FILE) as conn:  # everything in the one file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="session")
def prefect_database_template(tmp_path_factory) -> Path:
    """A Prefect database with Prefect's migrations applied, to copy; made once per test session. Measured here: a
    server on a new database took 19.9 s to answer, ~13 s of it migrating; on a migrated one 6.2 s — and every
    worker started one."""
    return built_once_per_session(tmp_path_factory, "prefect-template", PREFECT_DB_FILE, _migrate_prefect_database)


def seeded_prefect_home(home: Path, template: Path) -> Path:
    """A Prefect home whose database is already migrated (a copy of `template`), for `campaign` processes
    that start their own server there, as on a user's machine after the first command."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / PREFECT_DB_FILE).exists():
        shutil.copyfile(template, home / PREFECT_DB_FILE)
    return home


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory, prefect_database_template):
    """The real Prefect engine, set up as the embedded default runs it: this worker's own Prefect API server
    (the one flows.api_server starts for a command) on its own copy of a migrated Prefect database, which
    flows then run on (their embedded_engine finds the API URL set and starts none)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.runtime import embedded_prefect_settings

    database = tmp_path_factory.mktemp("prefect") / PREFECT_DB_FILE
    shutil.copyfile(prefect_database_template, database)
    seeded_prefect_home(PREFECT_HOME, prefect_database_template)  # the home this worker's `campaign` processes use
    with embedded_prefect_settings():
        server = _start_prefect_server(database)
        try:
            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                yield
                # What the flows sent must reach the server before it stops (as prefect_test_harness does).
                with contextlib.suppress(RuntimeError):  # the log worker may not have started
                    APILogWorker.instance().drain()
                EventsWorker.drain_all()
        finally:
            # Its "stopping server" message would go to a stream pytest has already closed.
            logging.getLogger("prefect").setLevel(logging.WARNING)
            _stop_prefect_server(server)


@pytest.fixture
def clean_campaign_env(monkeypatch):
    """Settings come only from what a test sets, not from the developer's shell."""
    for name in list(os.environ):
        if name.upper().startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    from argon2 import PasswordHasher

    import services.users as users_service

    original = users_service._hasher
    users_service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users_service._hasher = original


# --- PostgreSQL: one database per test session ------------------------------------------------


@pytest.fixture(scope="session")
def _pg_database():
    import psycopg

    from tests.machine import ensure_postgres

    name = f"cm_test_{uuid.uuid4().hex[:12]}"
    if "127.0.0.1" in PG_ADMIN_URL or "localhost" in PG_ADMIN_URL:
        try:
            ensure_postgres()
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            pytest.fail(f"PostgreSQL: {exc}", pytrace=False)
    admin_conninfo = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        admin = psycopg.connect(admin_conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} (start it, or set CAMPAIGN_TEST_PG_ADMIN): {exc}",
            pytrace=False,
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all(engine: Engine) -> None:
    from store.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# --- snapshots of the common starting points (SQLite and PostgreSQL) ----------------------------
# Migrating (~0.25 s), launching and ticking the example and adding its accounts cost ~1-2 s a test on a loaded
# 2-core machine, the same work in several hundred tests. Each starting point is built once per test process by
# the real code (upgrade, launch, the tick, add_user) and a test gets a copy: on SQLite the file with its audit
# key and anchor (the chain is keyed per directory); on PostgreSQL the session database's tables refilled in one
# transaction from a copy kept in a schema of that database, with every sequence set back (a test's setup ~0.2 s;
# dropping and re-creating the database from a template cost ~1.5 s a test under the suite's load, 363 s in all).
# What the test then does is exactly what it would do on a store it had built itself.

SNAPSHOT_FILES = ("campaign.db", KEY_FILE_NAME, "campaign.audit-anchor.log")
Head = tuple[int, int, int]


def _audit_head(eng: Engine) -> Head:
    """(campaigns, accounts, audit entries): every change is audited, so equal heads mean an untouched copy."""
    with eng.connect() as conn:
        return (
            conn.exec_driver_sql("SELECT count(*) FROM campaign").scalar_one(),
            conn.exec_driver_sql("SELECT count(*) FROM app_user").scalar_one(),
            conn.exec_driver_sql("SELECT count(*) FROM audit_entry").scalar_one(),
        )


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _pg_url(database: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}"


class Snapshots:
    """Named stores, each `base` + one step, built on first use; `restore` puts one in place of a test's store."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[tuple[str, str], Path | str] = {}  # (backend, name) -> folder or database
        self.heads: dict[tuple[str, str], Head] = {}
        self.pg_session_database: str | None = None  # the only PostgreSQL database restore may refill
        self.sequences: dict[str, list[tuple[str, int, bool]]] = {}  # schema -> (sequence, value, called)

    def backend(self, eng: Engine) -> str | None:
        """Which kind of snapshot fits this engine's store, if any."""
        if eng.url.get_backend_name() == "sqlite" and Path(eng.url.database or "").name == "campaign.db":
            return "sqlite"
        if eng.url.get_backend_name() == "postgresql" and eng.url.database == self.pg_session_database:
            return "postgresql"
        return None

    def build(self, backend: str, name: str, step: Callable[[Engine], object], base: str | None = None) -> None:
        if (backend, name) in self.built:
            return
        if backend == "postgresql":
            self._build_in_schema(name, step, base)
            return
        folder = self.root / name
        if base is None:
            folder.mkdir()
        else:
            shutil.copytree(self.built[(backend, base)], folder)
        url = f"sqlite:///{(folder / 'campaign.db').as_posix()}"
        eng = make_engine(url)
        try:
            if base is None:
                upgrade(eng)
            step(eng)
            self.heads[(backend, name)] = _audit_head(eng)
            with eng.connect() as conn:  # the whole database in the one file: a plain copy is the database
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            eng.dispose()
        audit.forget(url)
        self.built[(backend, name)] = folder

    def restore(self, backend: str, name: str, eng: Engine) -> None:
        """Replace the engine's store by a copy of snapshot `name`."""
        if backend == "postgresql":
            self._refill(str(self.built[(backend, name)]))
            return
        source = self.built[(backend, name)]
        eng.dispose()
        target = Path(eng.url.database or "").parent
        for file in (*SNAPSHOT_FILES, "campaign.db-wal", "campaign.db-shm"):
            (target / file).unlink(missing_ok=True)
            if (Path(source) / file).exists():
                shutil.copyfile(Path(source) / file, target / file)

    # PostgreSQL: snapshots are schemas of the session database, restored by refilling its tables.

    def _build_in_schema(self, name: str, step: Callable[[Engine], object], base: str | None) -> None:
        assert self.pg_session_database is not None
        url = _pg_url(self.pg_session_database)
        eng = make_engine(url)
        try:
            if base is None:
                _truncate_all(eng)  # the migrated schema with no rows, whatever an earlier test left
            else:
                self._refill(str(self.built[("postgresql", base)]))
            step(eng)
            self.heads[("postgresql", name)] = _audit_head(eng)
        finally:
            eng.dispose()
        audit.forget(url)
        schema = f"snap_{name.replace('-', '_')}"
        with self._session_db() as conn:
            tables = self._tables(conn)
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{schema}"')
            for table in tables:
                conn.execute(f'CREATE TABLE "{schema}"."{table}" AS TABLE public."{table}"')
            self.sequences[schema] = conn.execute(
                "SELECT schemaname || '.' || sequencename, coalesce(last_value, start_value), last_value IS NOT NULL"
                " FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        self.built[("postgresql", name)] = schema

    def _session_db(self):
        import psycopg

        assert self.pg_session_database is not None
        return psycopg.connect(_pg_url(self.pg_session_database).replace("+psycopg", ""), autocommit=True)

    @staticmethod
    def _tables(conn) -> list[str]:
        """The application's tables (the migration's version table is the same in every snapshot)."""
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            " ORDER BY tablename"
        ).fetchall()
        return [r[0] for r in rows]

    def _refill(self, schema: str) -> None:
        """The session database's tables emptied and refilled from `schema`, its sequences where the snapshot
        left them: one transaction, foreign keys unchecked while the rows go in (they were consistent when
        copied). Another connection still holding a lock past 5 s (a killed child's) is ended, and the refill
        tried again."""
        import psycopg

        with self._session_db() as conn:
            tables = self._tables(conn)
            statements = ["SET LOCAL session_replication_role = replica", "SET LOCAL lock_timeout = '5s'"]
            statements += [f'DELETE FROM public."{t}"' for t in tables]
            statements += [f'INSERT INTO public."{t}" SELECT * FROM "{schema}"."{t}"' for t in tables]
            statements += [
                f"SELECT setval('{seq}', {value}, {'true' if called else 'false'})"
                for seq, value, called in self.sequences[schema]
            ]
            script = ";\n".join(statements)
            for attempt in range(2):
                try:
                    with conn.transaction():
                        conn.execute(script)
                    return
                except psycopg.errors.LockNotAvailable:
                    if attempt == 1:
                        raise
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


@pytest.fixture(scope="session")
def _snapshots(tmp_path_factory):
    # The PostgreSQL snapshots are schemas of the session database (_pg_database) and go with it.
    return Snapshots(tmp_path_factory.mktemp("snapshots"))


def step_or_snapshot(
    engine: Engine, snapshots: Snapshots, base: str, name: str, step: Callable[[Engine], object]
) -> None:
    """Run `step` on the test's store; on an untouched copy of snapshot `base`, put in place instead the snapshot
    `name` — `base` with `step` run on it once per test process. The test sees the same store either way."""
    backend = snapshots.backend(engine)
    # A snapshot's chain is keyed (and anchored) where an unconfigured store keeps its key: a test that
    # configured its own key or anchor first builds its store itself.
    default_keys = audit.locations(engine.url) == audit.default_locations(engine.url, anchored=False)
    if (
        backend is not None
        and default_keys
        and (backend, base) in snapshots.heads
        and _audit_head(engine) == snapshots.heads[(backend, base)]
    ):
        snapshots.build(backend, name, step, base)
        snapshots.restore(backend, name, engine)
    else:
        step(engine)


def sqlite_engine(tmp_path: Path, snapshots: Snapshots) -> Engine:
    """A migrated SQLite file `campaign.db` in tmp_path (a copy of the migrated snapshot)."""
    eng = make_engine(f"sqlite:///{(tmp_path / 'campaign.db').as_posix()}")
    snapshots.build("sqlite", "migrated", lambda _eng: None)
    snapshots.restore("sqlite", "migrated", eng)
    return eng


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path, _snapshots):
    if request.param == "sqlite":
        eng = sqlite_engine(tmp_path, _snapshots)
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("_pg_database")
        _snapshots.pg_session_database = eng.url.database
        _snapshots.build("postgresql", "migrated", lambda _eng: None)
        _snapshots.restore("postgresql", "migrated", eng)
        # The new database starts a new audit chain: the heads an earlier test anchored for it
        # (a flow entry configures the anchor) go with the old one, as for the demo's fresh database.
        url = eng.url.render_as_string(hide_password=False)
        audit.discard_anchor(load_settings(database_url=url))
        audit.forget(url)
        yield eng


@pytest.fixture
def memory_engine() -> Engine:
    """An in-memory SQLite store with the models' schema: one shared connection (StaticPool), so
    every unit of work sees the same database; foreign keys on, as in the file store."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    from store.models import Base

    eng = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})

    @event.listens_for(eng, "connect")
    def _foreign_keys(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def memory_uow(memory_engine):
    """`memory_uow()` opens a UnitOfWork on the in-memory store."""

    def make() -> UnitOfWork:
        return UnitOfWork(memory_engine)

    return make


@pytest.fixture
def uow_factory(engine):
    def make() -> UnitOfWork:
        return UnitOfWork(engine)

    return make


@pytest.fixture
def attachment_dir(tmp_path) -> Path:
    d = tmp_path / "attachments"
    d.mkdir()
    return d


# --- a launched campaign ------------------------------------------------------------------------


@dataclass(frozen=True)
class Launched:
    code: str
    spec: CampaignSpec
    as_of: dt.date
    at: dt.datetime


def run_tick(
    engine: Engine, code: str, as_of: dt.date, actor: Actor = SYSTEM, run: StepRunner | None = None
) -> TickSummary:
    """The one tick composition (services.ticking.tick), as SYSTEM at 10:00 Beijing time that day, each step
    in a unit of work of its own (or as `run` runs it)."""
    at = dt.datetime.combine(as_of, dt.time(2, 0), dt.UTC)
    return ticking.tick(run or unit_per_step(engine), code, as_of, actor=actor, at=at)


# --- what the plan says, so no test hard-wires counts of the example YAML ------------------------


def planned(spec: CampaignSpec):
    from domain.plan import build_plan
    from services.holidays import campaign_calendar

    return build_plan(spec, campaign_calendar(spec))


def expected_open_by(spec: CampaignSpec, as_of: dt.date) -> int:
    """Assignments a tick to `as_of` opens when nothing was submitted (their opening day has come)."""
    return sum(1 for a in planned(spec).assignments if a.opens_on <= as_of)


def expected_escalations(spec: CampaignSpec, as_of: dt.date) -> int:
    """Rungs of the ladder reached by `as_of` when nothing was submitted: one per assignment and rung."""
    from domain.rules import rungs_reached, standing
    from services.holidays import campaign_calendar

    cal = campaign_calendar(spec)
    return sum(
        len(rungs_reached(standing(a.due_on, as_of, cal).overdue_working_days, spec.escalation))
        for a in planned(spec).assignments
        if a.opens_on <= as_of and not a.ongoing  # an ongoing duty has no deadline to be overdue against
    )


def june_report_departments() -> list[str]:
    """The departments whose monthly report for June 2020 the example campaign asks for (due on the
    20th, a Saturday, so on Monday the 22nd): what the daily flow files that day."""
    from services.spec_files import load_spec

    spec = load_spec(SPEC_PATH)
    monthly = {r.key for r in spec.recurring_reports}
    return sorted(
        {
            a.department_code
            for a in planned(spec).assignments
            if a.template_key in monthly and a.period == "2020-06" and a.due_on == dt.date(2020, 6, 22)
        }
    )


def _launch_and_tick(engine: Engine) -> CampaignSpec:
    from services.campaigns import launch
    from services.spec_files import load_spec

    spec = load_spec(SPEC_PATH)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT, source_path=str(SPEC_PATH))
        uow.commit()
    run_tick(engine, spec.id, TICK_TO)
    return spec


@pytest.fixture
def launched_campaign(engine, _snapshots) -> Launched:
    from services.spec_files import load_spec

    step_or_snapshot(engine, _snapshots, "migrated", "launched", _launch_and_tick)
    spec = load_spec(SPEC_PATH)
    return Launched(spec.id, spec, TICK_TO, dt.datetime.combine(TICK_TO, dt.time(2, 0), dt.UTC))


@pytest.fixture
def tick(engine, launched_campaign):
    def run(as_of: dt.date) -> TickSummary:
        return run_tick(engine, launched_campaign.code, as_of)

    return run


@pytest.fixture
def users(engine, launched_campaign, _snapshots) -> dict[str, str]:
    step_or_snapshot(engine, _snapshots, "launched", "launched-users", lambda eng: _add_users(eng, launched_campaign))
    return dict.fromkeys(
        ["office", "leader", *(f"dept_{d.code}" for d in launched_campaign.spec.departments)], PASSWORD
    )


def _add_users(engine: Engine, launched_campaign: Launched) -> dict[str, str]:
    from services.users import add_user

    out: dict[str, str] = {}
    with UnitOfWork(engine) as uow:
        s = uow.session
        add_user(
            s,
            actor=SYSTEM,
            at=LAUNCH_AT,
            username="office",
            display_name="办公室管理员",
            role="office",
            department_code=None,
            email="office@example.gov.cn",
            password=PASSWORD,
        )
        add_user(
            s,
            actor=SYSTEM,
            at=LAUNCH_AT,
            username="leader",
            display_name="分管领导",
            role="leader",
            department_code=None,
            email=None,
            password=PASSWORD,
        )
        out["office"] = out["leader"] = PASSWORD
        for d in launched_campaign.spec.departments:
            add_user(
                s,
                actor=SYSTEM,
                at=LAUNCH_AT,
                username=f"dept_{d.code}",
                display_name=f"{d.name}联络员",
                role="department",
                department_code=d.code,
                email=None,
                password=PASSWORD,
                campaign_code=launched_campaign.code,
            )
            out[f"dept_{d.code}"] = PASSWORD
        uow.commit()
    return out


Account = tuple[str, str, str, str | None]  # username, display name, role, department code (None: office/leader)


def add_accounts(session, accounts: tuple[Account, ...], *, at: dt.datetime, campaign_code: str | None = None) -> None:
    """The accounts a test's own store needs (password PASSWORD); department accounts bound to `campaign_code`."""
    from services.users import add_user

    for username, name, role, dept in accounts:
        add_user(
            session,
            actor=SYSTEM,
            at=at,
            username=username,
            display_name=name,
            role=role,
            department_code=dept,
            email=None,
            password=PASSWORD,
            campaign_code=campaign_code if dept else None,
        )


@pytest.fixture
def actors(engine, users) -> dict[str, Actor]:
    from services.users import actor_for

    with UnitOfWork(engine) as uow:
        out = {name: actor_for(uow.session, name) for name in users}
    out["system"] = SYSTEM
    return out


# === The simulated Yanjiang demo database, built once per test session ===========================
# `campaign demo` simulates the example (seed 7) day by day to DEMO_AS_OF and then adds its accounts;
# re-simulating that in every test that reads it cost ~15 s a test (~35 s on PostgreSQL). Here it is
# built once per test session — not per xdist worker: the first worker to take the lock builds it
# under the session's shared temporary directory, the others wait for it and reuse it — through the
# same services the simulate flow composes (launch, the seeded model, the one tick composition; the
# flow itself is checked against these steps in tests/integration/test_simulation.py), then the
# demo's accounts and their catch-up delivery (cli.campaign_commands.cmd_demo).
# - `demo_db`: the shared file, for tests that only read it (open it with `demo_reader`).
# - `demo_reader`: an engine on the shared file that refuses writes (PRAGMA query_only).
# - `demo_copy`: a private copy of the file (with its audit key) in the test's tmp_path, to write to.
# - `demo_engine`: an engine on that private copy.

DEMO_AS_OF = dt.date(2020, 7, 15)  # cli.campaign_commands.DEMO_AS_OF
DEMO_SEED = 7
DEMO_FILE = "demo.db"


def copy_database(source: Path, target: Path) -> str:
    """A consistent copy of the SQLite file `source` at `target` (SQLite's backup, whatever journal the
    writer kept), with its audit chain's key and anchor beside it as store.audit looks for them (as
    tests/conftest.py's snapshots do); its URL."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    if (source.parent / KEY_FILE_NAME).exists():
        shutil.copyfile(source.parent / KEY_FILE_NAME, target.parent / KEY_FILE_NAME)
    anchor = source.parent / f"{source.stem}.audit-anchor.log"
    if anchor.exists():
        shutil.copyfile(anchor, target.parent / f"{target.stem}.audit-anchor.log")
    return f"sqlite:///{target.as_posix()}"


def launched_sqlite_file(path: Path) -> str:
    """The example launched (before it starts) into a migrated SQLite file at `path`, for a test's child
    processes to open; returns its URL."""
    from services.campaigns import launch
    from services.spec_files import load_spec

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with UnitOfWork(engine) as uow:
        launch(uow.session, load_spec(SPEC_PATH), actor=SYSTEM, at=dt.datetime(2020, 5, 1, tzinfo=dt.UTC))
        uow.commit()
    engine.dispose()
    return url


def simulate_campaign(engine: Engine, seed: int, until: dt.date) -> str:
    """The example launched and simulated day by day to `until` with `seed`: the seeded model's day
    (services.simulation) then that day's tick, as the simulate flow runs them. Returns the code."""
    from services.campaigns import launch
    from services.simulation import enlist_simulated_people
    from services.spec_files import load_spec
    from tasks.work_tasks import simulate_and_tick

    spec = load_spec(SPEC_PATH)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT, source_path=None)
        enlist_simulated_people(uow.session, spec.id, LAUNCH_AT)
        uow.commit()
    day = spec.start
    while day <= until:
        simulate_and_tick(engine, spec.id, day, seed)
        day += dt.timedelta(days=1)
    return spec.id


def _build_demo_db(path: Path) -> None:
    from cli.campaign_commands import DEMO_AS_OF as CLI_DEMO_AS_OF
    from cli.campaign_commands import create_demo_users
    from services.delivery import deliver_in_app
    from settings import Settings

    assert CLI_DEMO_AS_OF == DEMO_AS_OF
    url = f"sqlite:///{path.as_posix()}"
    eng = make_engine(url)
    try:
        upgrade(eng)
        code = simulate_campaign(eng, DEMO_SEED, DEMO_AS_OF)
        # The demo's accounts come after the ticks, on the simulated day; their inboxes are caught up.
        settings = Settings(database_url=url, as_of=DEMO_AS_OF)
        create_demo_users(settings, code)
        with UnitOfWork(eng) as uow:
            deliver_in_app(uow.session, campaign_code=code, day=DEMO_AS_OF, at=settings.now(), catch_up=True)
            uow.commit()
        with eng.connect() as conn:  # everything in the one file, so a plain copy is the database
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        eng.dispose()
        audit.forget(url)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, _cheap_password_hashing) -> Path:
    """The shared demo database file (read it only; `demo_copy` for a private one to write to).
    Its audit key (audit.key) lies beside it."""
    return built_once_per_session(
        tmp_path_factory,
        "yanjiang-demo",
        DEMO_FILE,
        lambda work: _build_demo_db(work / DEMO_FILE),
        beside=(audit.KEY_FILE_NAME,),
    )


@pytest.fixture
def demo_reader(demo_db) -> Engine:
    """An engine on the shared demo database that refuses writes (other tests read the same file)."""
    from sqlalchemy import event

    eng = make_engine(f"sqlite:///{demo_db.as_posix()}")

    @event.listens_for(eng, "connect")
    def _read_only(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA query_only=ON")

    yield eng
    eng.dispose()


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> Path:
    """A private copy of the demo database (and its audit key) at tmp_path/data/demo.db, where
    `campaign demo` run from tmp_path keeps it."""
    import shutil

    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    shutil.copy(demo_db.parent / audit.KEY_FILE_NAME, folder / audit.KEY_FILE_NAME)
    return Path(shutil.copy(demo_db, folder / DEMO_FILE))


@pytest.fixture
def demo_engine(demo_copy) -> Engine:
    """An engine on this test's private copy of the demo database."""
    url = f"sqlite:///{demo_copy.as_posix()}"
    eng = make_engine(url)
    yield eng
    eng.dispose()
    audit.forget(url)


# === end: the simulated Yanjiang demo database ===================================================
