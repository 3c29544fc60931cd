"""The ledger boards: problems by department (销号 rate, rebounds) and the lead funnel with penalties.

Reporter identities of leads are never read here. A department actor reads its own department's rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.lead import LEAD
from domain.problem import ProblemStatus
from domain.rollup import rate
from services.views.common import Kinds, campaign_id, frame, kinds_filter, own_department, reader, visible
from store.models import Department, Lead, Problem

UNASSIGNED = "（未交办）"


def problems_by_department(
    session: Session, *, actor: Actor, campaign_code: str, kinds: Kinds = None, at: dt.datetime | None = None
) -> pd.DataFrame:
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)

    def count_of(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    df = frame(
        session,
        select(
            Department.code,
            Department.name,
            func.count(Problem.id).label("total"),
            count_of(Problem.status == ProblemStatus.closed.value).label("closed"),
            count_of(Problem.status == ProblemStatus.closing.value).label("closing"),
            count_of(Problem.rebound.is_(True)).label("rebound"),
        )
        .join(Problem, Problem.department_id == Department.id)
        .where(Problem.campaign_id == cid, kinds_filter(kinds), visible(actor))
        .group_by(Department.code, Department.name)
        .order_by(Department.code),
    )
    df["close_rate"] = [rate(int(c), int(t)) for c, t in zip(df["closed"], df["total"], strict=False)]
    return df


def lead_funnel(
    session: Session, *, actor: Actor, campaign_code: str, kinds: Kinds = None, at: dt.datetime | None = None
) -> pd.DataFrame:
    """Leads by department, status and outcome, with fines, enterprises and people dealt with.
    A department actor sees the leads assigned to it (not the office's unassigned ones)."""
    actor = reader(session, actor, at=at, campaign_code=campaign_code)
    cid = campaign_id(session, campaign_code)
    q = (
        select(
            func.coalesce(Department.name, UNASSIGNED).label("name"),
            Lead.status,
            Lead.outcome,
            func.count(Lead.id).label("n"),
            func.sum(Lead.fine_wan).label("fine_wan"),
            func.sum(Lead.enterprises_involved).label("enterprises"),
            func.sum(Lead.people_dealt_with).label("people"),
        )
        .outerjoin(Department, Department.id == Lead.department_id)
        .where(Lead.campaign_id == cid)
    )
    if kinds or own_department(actor) is not None:
        q = q.where(kinds_filter(kinds), visible(actor))
    df = frame(session, q.group_by(Department.name, Lead.status, Lead.outcome))
    df["fine_wan"] = df["fine_wan"].astype(float).fillna(0.0)
    df["status_label"] = df["status"].map(LEAD.label)
    return df
