"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, a launched campaign, demo users.

- `engine`: parametrised [sqlite, postgres]. SQLite is a fresh file in tmp_path; PostgreSQL is one
  database per test session (`cm_test_<random>`, created through postgres@127.0.0.1/postgres and
  dropped at the end), migrated once and emptied (TRUNCATE) before every test. If the server is
  down the postgres tests fail with a clear message; nothing is skipped.
- `uow_factory`: `uow_factory()` opens a UnitOfWork on that engine.
- `launched_campaign`: config/campaigns/yanjiang-2020.yaml launched as SYSTEM and ticked (services,
  not Prefect) to 2020-06-01; returns a `Launched` (code, spec, as_of, at).
- `tick`: `tick(as_of)` runs every tick step of the flow for the launched campaign, committed.
- `prefect_harness`: the real Prefect engine under `prefect_test_harness`, configured like the
  embedded default (one per test session / xdist worker).
- `users`: username -> password for office / leader / one department user per department
  (`dept_<code>`); `actors`: the same names (plus "system") -> Actor.

Password hashing uses cheap argon2 parameters in tests (the production parameters cost ~50 ms a hash).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from domain.access import SYSTEM, Actor
from domain.spec import CampaignSpec
from store.db import make_engine
from store.migrate import upgrade
from store.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "config" / "campaigns" / "yanjiang-2020.yaml"
PG_ADMIN_URL = os.environ.get("CAMPAIGN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
LAUNCH_AT = dt.datetime(2020, 5, 8, 1, 0, tzinfo=dt.timezone.utc)
TICK_TO = dt.date(2020, 6, 1)
PASSWORD = "Passw0rd!2020"


@pytest.fixture(scope="session")
def prefect_harness():
    """The real Prefect engine on a throw-away database, set up as the embedded default runs it."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.runtime import configure_embedded, embedded_engine

    configure_embedded()  # before the harness starts its server, which reads these settings
    with prefect_test_harness(server_startup_timeout=60), embedded_engine():
        yield
        # Its "stopping server" message would go to a stream pytest has already closed.
        logging.getLogger("prefect").setLevel(logging.WARNING)


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
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (start it, or set CAMPAIGN_TEST_PG_ADMIN): {exc}",
                    pytrace=False)
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


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{(tmp_path / 'campaign.db').as_posix()}")
        upgrade(eng)
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("_pg_database")
        _truncate_all(eng)
        yield eng


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


def run_tick(engine: Engine, code: str, as_of: dt.date) -> None:
    """Every step of flows.campaign_flows.tick, called directly (no Prefect), committed."""
    from services.ticking import tick_without_prefect

    with UnitOfWork(engine) as uow:
        tick_without_prefect(uow.session, code, as_of)
        uow.commit()


@pytest.fixture
def launched_campaign(engine) -> Launched:
    from services.campaigns import launch
    from services.spec_files import load_spec

    spec = load_spec(SPEC_PATH)
    with UnitOfWork(engine) as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT, source_path=str(SPEC_PATH))
        uow.commit()
    run_tick(engine, spec.id, TICK_TO)
    return Launched(spec.id, spec, TICK_TO, dt.datetime.combine(TICK_TO, dt.time(2, 0), dt.timezone.utc))


@pytest.fixture
def tick(engine, launched_campaign):
    def run(as_of: dt.date) -> None:
        run_tick(engine, launched_campaign.code, as_of)

    return run


@pytest.fixture
def users(engine, launched_campaign) -> dict[str, str]:
    from services.users import add_user

    out: dict[str, str] = {}
    with UnitOfWork(engine) as uow:
        s = uow.session
        add_user(s, actor=SYSTEM, at=LAUNCH_AT, username="office", display_name="办公室管理员", role="office",
                 department_code=None, email="office@example.gov.cn", password=PASSWORD)
        add_user(s, actor=SYSTEM, at=LAUNCH_AT, username="leader", display_name="分管领导", role="leader",
                 department_code=None, email=None, password=PASSWORD)
        out["office"] = out["leader"] = PASSWORD
        for d in launched_campaign.spec.departments:
            add_user(s, actor=SYSTEM, at=LAUNCH_AT, username=f"dept_{d.code}", display_name=f"{d.name}联络员",
                     role="department", department_code=d.code, email=None, password=PASSWORD)
            out[f"dept_{d.code}"] = PASSWORD
        uow.commit()
    return out


@pytest.fixture
def actors(engine, users) -> dict[str, Actor]:
    from services.users import actor_for

    with UnitOfWork(engine) as uow:
        out = {name: actor_for(uow.session, name) for name in users}
    out["system"] = SYSTEM
    return out
