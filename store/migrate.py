"""Alembic migrations, run as an explicit step: `campaign db upgrade` (also run by launch, demo
and serve). Every other entry point checks that the schema is current and says what to run."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from domain.errors import Invalid
from store.db import describe

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing or older than this program's."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = describe(engine.url.render_as_string(hide_password=False))
    if current is None:
        raise Invalid(f"数据库 {where} 尚未初始化：先运行 `campaign db upgrade`（或 `campaign launch`）")
    raise Invalid(f"数据库 {where} 的结构版本 {current} 落后于程序的 {head}：先运行 `campaign db upgrade`")
