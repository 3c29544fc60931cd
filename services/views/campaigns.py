"""Campaign-level reads: the campaigns, their spec, phases and departments, and the data stamp."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.access import Actor, Role
from domain.assignment import PHASE_STATE
from domain.department import DEPARTMENT_KIND
from domain.spec import PHASE_KIND, CampaignSpec
from services.views.common import campaign_id, frame, reader, visible
from store.models import AuditEntry, Campaign, Department, Phase


def data_stamp(session: Session) -> tuple[object, ...]:
    """Changes whenever anything is written through a service or a tick runs: the cache key of
    every cached read (not a read of anyone's rows, so it takes no actor)."""
    audit = session.scalar(select(func.max(AuditEntry.id)))
    tick = session.execute(select(func.max(Campaign.last_tick_on), func.max(Campaign.updated_at))).one()
    return (audit, str(tick[0]), str(tick[1]))


def campaigns(session: Session, *, actor: Actor, at: dt.datetime | None = None) -> pd.DataFrame:
    """The campaigns the actor works in, newest first: every campaign for the office and leaders,
    its own for a department account."""
    actor = reader(session, actor, at=at)
    stmt = select(
        Campaign.id,
        Campaign.code,
        Campaign.title,
        Campaign.issuer,
        Campaign.start_on,
        Campaign.end_on,
        Campaign.last_tick_on,
    ).order_by(Campaign.start_on.desc())
    if actor.role == Role.department:
        stmt = stmt.where(Campaign.code == actor.campaign_code)
    return frame(session, stmt)


def campaign_spec(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
) -> CampaignSpec | None:
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    raw = session.scalar(select(Campaign.spec_json).where(Campaign.code == campaign_code))
    return CampaignSpec.model_validate_json(raw) if raw else None


def escalation_names(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
) -> dict[int, str]:
    """Escalation level -> its name in the campaign's ladder (预警, 通报批评 …).

    Reads only the ladder of the stored spec (validated when it was launched): validating the whole
    spec of a province-sized campaign costs more than the overdue list it labels."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    raw = session.scalar(select(Campaign.spec_json).where(Campaign.code == campaign_code))
    ladder = json.loads(raw).get("escalation", []) if raw else []
    return {int(rung["level"]): str(rung["name"]) for rung in ladder}


def phases(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> pd.DataFrame:
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    df = frame(
        session,
        select(Phase.key, Phase.kind, Phase.title, Phase.start_on, Phase.end_on, Phase.state, Phase.ordinal)
        .where(Phase.campaign_id == cid)
        .order_by(Phase.ordinal),
    )
    df["kind_label"] = df["kind"].map(PHASE_KIND.label)
    df["state_label"] = df["state"].map(PHASE_STATE.label)
    return df


def departments(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> pd.DataFrame:
    """The active departments; a department actor gets its own row only."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    df = frame(
        session,
        select(Department.id, Department.code, Department.name, Department.kind, Department.tags, Department.is_office)
        .where(Department.campaign_id == cid, Department.active.is_(True), visible(actor))
        .order_by(Department.id),
    )
    df["kind_label"] = df["kind"].map(DEPARTMENT_KIND.label)
    return df
