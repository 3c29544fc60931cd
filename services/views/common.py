"""What every read model shares: frames from SQL, the campaign id, and the actor's department scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, true
from sqlalchemy.orm import Session

from domain.access import Actor, Role
from services.campaigns import get_campaign
from services.guard import campaign_scope, department_scope, resolve
from store.models import Department

Kinds = tuple[str, ...] | None


def frame(session: Session, stmt: Select[Any]) -> pd.DataFrame:
    """The rows of a statement as a DataFrame, read on the session's own connection."""
    return pd.read_sql(stmt, session.connection())


def reader(session: Session, actor: Actor, *, at: dt.datetime | None, campaign_code: str | None = None) -> Actor:
    """Who reads, from the user record at call time (services.guard.resolve: missing, disabled and
    forged actors refused). A department account reads only in its own campaign: asking about
    another campaign is refused and audited, whatever department code the two share."""
    actor = resolve(session, actor, at=at)
    if campaign_code is not None:
        campaign_scope(actor=actor, at=at, action="view.read", campaign_code=campaign_code, what="数据")
    return actor


def campaign_id(session: Session, campaign_code: str) -> int:
    """Raises services.campaigns.CampaignNotFound for an unknown code."""
    return get_campaign(session, campaign_code).id


def own_department(actor: Actor) -> str | None:
    """The one department a department actor may read; None: every department (office, leaders, system)."""
    return actor.department_code if actor.role == Role.department else None


def visible(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Department that keeps a department actor to its own rows."""
    own = own_department(actor)
    return Department.code == own if own is not None else true()


def kinds_filter(kinds: Kinds) -> ColumnElement[bool]:
    return Department.kind.in_(kinds) if kinds else true()


def asked_department(
    *, actor: Actor, at: dt.datetime | None, action: str, campaign_code: str, department_code: str | None, what: str
) -> str | None:
    """The department a read that names one may show: a department actor naming another is refused."""
    return department_scope(
        actor=actor,
        at=at,
        action=action,
        campaign_code=campaign_code,
        department_code=department_code,
        what=what,
        reason="责任部门只能查看本部门的数据。",
    )
