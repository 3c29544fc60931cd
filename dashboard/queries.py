"""Every read query of the dashboard, over the rollup tables and the records, as DataFrames.

The raw functions (`q_*`) take the database URL and plain arguments, so the bench can time them
without Streamlit. The cached wrappers below add a data stamp (latest audit entry and last tick)
to the cache key, so a write anywhere shows on the next rerun, and are bounded (ttl, max_entries).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st
from sqlalchemy import and_, case, func, select

from domain.rollup import Counts, grade, rate
from domain.spec import DEPARTMENT_KIND_LABELS, PHASE_KIND_LABELS, CampaignSpec
from store.db import shared_engine
from store.models import (
    AuditEntry,
    Assignment,
    Campaign,
    Department,
    Lead,
    Phase,
    Problem,
    RollupSnapshot,
    TaskTemplate,
)

from dashboard.session import db_url

TTL = 300
ENTRIES = 64

STATUS_LABELS = {
    "scheduled": "未开始",
    "open": "办理中",
    "submitted": "待审核",
    "returned": "已退回",
    "accepted": "已通过",
    "cancelled": "已撤销",
}
PHASE_STATE_LABELS = {"pending": "未开始", "open": "进行中", "closed": "已结束"}
LEAD_STATUS_LABELS = {"received": "已受理", "assigned": "办理中", "reported": "待办结审核", "closed": "已办结"}
PROBLEM_STATUS_LABELS = {"open": "整改中", "closing": "待销号审核", "closed": "已销号"}
COUNT_COLUMNS = ["assigned", "submitted", "accepted", "on_time", "overdue", "escalation_level"]
BOARD_LABELS = {
    "code": "部门代码", "name": "部门", "kind_label": "类别", "assigned": "已布置", "submitted": "已提交",
    "accepted": "已通过", "on_time": "按时", "overdue": "逾期", "escalation_level": "升级级别",
    "completion": "完成率", "on_time_rate": "按时率", "grade": "状态",
}


def _read(stmt, url: str) -> pd.DataFrame:  # noqa: ANN001
    with shared_engine(url).connect() as conn:
        return pd.read_sql(stmt, conn)


def _campaign_id(url: str, code: str) -> int | None:
    with shared_engine(url).connect() as conn:
        return conn.scalar(select(Campaign.id).where(Campaign.code == code))


def _kinds_filter(kinds: tuple[str, ...] | None):  # noqa: ANN202
    return Department.kind.in_(kinds) if kinds else True


# --- raw queries ------------------------------------------------------------------------------


def q_stamp(url: str) -> tuple:
    """Cheap: changes whenever anything is written through a service or a tick runs."""
    with shared_engine(url).connect() as conn:
        audit = conn.scalar(select(func.max(AuditEntry.id)))
        tick = conn.execute(select(func.max(Campaign.last_tick_on), func.max(Campaign.updated_at))).first()
    return (audit, str(tick[0]), str(tick[1]))


def q_campaigns(url: str) -> pd.DataFrame:
    return _read(select(Campaign.id, Campaign.code, Campaign.title, Campaign.issuer, Campaign.start_on,
                        Campaign.end_on, Campaign.last_tick_on).order_by(Campaign.start_on.desc()), url)


def q_spec_json(url: str, code: str) -> str | None:
    with shared_engine(url).connect() as conn:
        return conn.scalar(select(Campaign.spec_json).where(Campaign.code == code))


def q_phases(url: str, code: str) -> pd.DataFrame:
    df = _read(select(Phase.key, Phase.kind, Phase.title, Phase.start_on, Phase.end_on, Phase.state, Phase.ordinal)
               .join(Campaign, Campaign.id == Phase.campaign_id).where(Campaign.code == code)
               .order_by(Phase.ordinal), url)
    df["kind_label"] = df["kind"].map(lambda k: PHASE_KIND_LABELS.get(k, k))
    df["state_label"] = df["state"].map(lambda s: PHASE_STATE_LABELS.get(s, s))
    return df


def q_departments(url: str, code: str) -> pd.DataFrame:
    df = _read(select(Department.id, Department.code, Department.name, Department.kind, Department.tags,
                      Department.is_office)
               .join(Campaign, Campaign.id == Department.campaign_id)
               .where(Campaign.code == code, Department.active.is_(True)).order_by(Department.id), url)
    df["kind_label"] = df["kind"].map(lambda k: DEPARTMENT_KIND_LABELS.get(k, k))
    return df


def q_rollup_day(url: str, code: str, as_of: dt.date) -> dt.date | None:
    cid = _campaign_id(url, code)
    with shared_engine(url).connect() as conn:
        return conn.scalar(select(func.max(RollupSnapshot.as_of))
                           .where(RollupSnapshot.campaign_id == cid, RollupSnapshot.as_of <= as_of))


def _with_rates(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        for col in ("completion", "on_time_rate", "grade"):
            df[col] = pd.Series(dtype=object)
        return df
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"])]
    df["on_time_rate"] = [rate(o, a) for o, a in zip(df["on_time"], df["accepted"])]
    df["grade"] = [
        grade(Counts(*(int(r[c]) for c in COUNT_COLUMNS))).value for r in df[COUNT_COLUMNS].to_dict("records")
    ]
    return df


def q_department_board(url: str, code: str, day: dt.date | None, phase_key: str = "",
                       kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per department from the rollup snapshot of `day` (phase '' = all phases)."""
    cid = _campaign_id(url, code)
    r = RollupSnapshot
    df = _read(
        select(Department.code, Department.name, Department.kind, r.assigned, r.submitted, r.accepted, r.on_time,
               r.overdue, r.escalation_level)
        .join(r, r.department_id == Department.id)
        .where(r.campaign_id == cid, r.as_of == day, r.phase_key == phase_key, _kinds_filter(kinds))
        .order_by(Department.id),
        url,
    )
    df["kind_label"] = df["kind"].map(lambda k: DEPARTMENT_KIND_LABELS.get(k, k))
    return _with_rates(df)


def q_heatmap(url: str, code: str, day: dt.date | None, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Department × phase: assigned, accepted, overdue and completion rate."""
    cid = _campaign_id(url, code)
    r = RollupSnapshot
    df = _read(
        select(Department.code, Department.name, Phase.title.label("phase"), Phase.ordinal, r.assigned,
               r.accepted, r.overdue)
        .join(r, r.department_id == Department.id)
        .join(Phase, and_(Phase.campaign_id == r.campaign_id, Phase.key == r.phase_key))
        .where(r.campaign_id == cid, r.as_of == day, r.phase_key != "", _kinds_filter(kinds)),
        url,
    )
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"])]
    return df


def q_trend(url: str, code: str, phase_key: str = "", kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    cid = _campaign_id(url, code)
    r = RollupSnapshot
    q = (select(r.as_of, func.sum(r.assigned).label("assigned"), func.sum(r.submitted).label("submitted"),
                func.sum(r.accepted).label("accepted"), func.sum(r.on_time).label("on_time"),
                func.sum(r.overdue).label("overdue"))
         .where(r.campaign_id == cid, r.phase_key == phase_key))
    if kinds:
        q = q.join(Department, Department.id == r.department_id).where(_kinds_filter(kinds))
    df = _read(q.group_by(r.as_of).order_by(r.as_of), url)
    df["completion"] = [rate(a, n) for a, n in zip(df["accepted"], df["assigned"])]
    return df


def q_overdue(url: str, code: str, phase_key: str = "", kinds: tuple[str, ...] | None = None,
              limit: int = 500) -> pd.DataFrame:
    """Unfinished overdue assignments (as of the last tick), worst first, with the escalation name."""
    q = (select(Assignment.id, Department.code, Department.name, Phase.title.label("phase"),
                TaskTemplate.title.label("task"), Assignment.period, Assignment.due_on, Assignment.status,
                Assignment.overdue_days, Assignment.escalation_level)
         .join(Campaign, Campaign.id == Assignment.campaign_id)
         .join(Department, Department.id == Assignment.department_id)
         .join(Phase, Phase.id == Assignment.phase_id)
         .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
         .where(Campaign.code == code, Assignment.status.in_(("open", "returned")), Assignment.overdue_days > 0,
                _kinds_filter(kinds)))
    if phase_key:
        q = q.where(Phase.key == phase_key)
    df = _read(q.order_by(Assignment.escalation_level.desc(), Assignment.overdue_days.desc(), Department.code)
               .limit(limit), url)
    names = escalation_names(url, code)
    df["status_label"] = df["status"].map(lambda s: STATUS_LABELS.get(s, s))
    df["escalation"] = df["escalation_level"].map(lambda lv: names.get(int(lv), "—") if lv else "—")
    return df


def escalation_names(url: str, code: str) -> dict[int, str]:
    raw = q_spec_json(url, code)
    if not raw:
        return {}
    spec = CampaignSpec.model_validate_json(raw)
    return {e.level: e.name for e in spec.escalation}


def q_problems_by_department(url: str, code: str, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    cid = _campaign_id(url, code)
    df = _read(
        select(Department.code, Department.name, func.count(Problem.id).label("total"),
               func.sum(case((Problem.status == "closed", 1), else_=0)).label("closed"),
               func.sum(case((Problem.status == "closing", 1), else_=0)).label("closing"),
               func.sum(case((Problem.rebound.is_(True), 1), else_=0)).label("rebound"))
        .join(Problem, Problem.department_id == Department.id)
        .where(Problem.campaign_id == cid, _kinds_filter(kinds))
        .group_by(Department.code, Department.name).order_by(Department.code),
        url,
    )
    df["close_rate"] = [rate(int(c), int(t)) for c, t in zip(df["closed"], df["total"])]
    return df


def q_leads(url: str, code: str, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Lead funnel by department (reporter identities are never read here)."""
    cid = _campaign_id(url, code)
    q = (select(func.coalesce(Department.name, "（未交办）").label("name"), Lead.status, Lead.outcome,
                func.count(Lead.id).label("n"), func.sum(Lead.fine_wan).label("fine_wan"),
                func.sum(Lead.enterprises_involved).label("enterprises"),
                func.sum(Lead.people_dealt_with).label("people"))
         .outerjoin(Department, Department.id == Lead.department_id)
         .where(Lead.campaign_id == cid))
    if kinds:
        q = q.where(_kinds_filter(kinds))
    df = _read(q.group_by(Department.name, Lead.status, Lead.outcome), url)
    df["fine_wan"] = df["fine_wan"].astype(float).fillna(0.0)
    return df


def q_department_assignments(url: str, code: str, department_code: str) -> pd.DataFrame:
    """Drill-down table for readers of every department (office, leaders)."""
    df = _read(
        select(Assignment.id, TaskTemplate.title.label("task"), Phase.title.label("phase"), Assignment.period,
               Assignment.due_on, Assignment.status, Assignment.overdue_days, Assignment.escalation_level,
               Assignment.on_time)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(Department, Department.id == Assignment.department_id)
        .join(Phase, Phase.id == Assignment.phase_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Campaign.code == code, Department.code == department_code, Assignment.status != "cancelled")
        .order_by(Assignment.due_on, TaskTemplate.key, Assignment.period),
        url,
    )
    df["status_label"] = df["status"].map(lambda s: STATUS_LABELS.get(s, s))
    return df


def q_bulletin_lists(url: str, code: str, day: dt.date | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(praise, criticise) by domain.rollup's 通报 rules, from the rollup of `day`."""
    from domain.rollup import Counts, criticised, praised

    board = q_department_board(url, code, day)
    if board.empty:
        return board, board
    counts = [Counts(int(r.assigned), int(r.submitted), int(r.accepted), int(r.on_time), int(r.overdue),
                     int(r.escalation_level)) for r in board.itertuples()]
    praise = board[[praised(c) for c in counts]]
    criticise = board[[criticised(c) for c in counts]].sort_values(["escalation_level", "overdue"], ascending=False)
    return praise, criticise


# --- cached wrappers (the only place st.cache_data is used) -----------------------------------


def stamp() -> tuple:
    return q_stamp(db_url())


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def _campaigns(url: str, _stamp: tuple) -> pd.DataFrame:
    return q_campaigns(url)


def campaigns() -> pd.DataFrame:
    return _campaigns(db_url(), stamp())


def campaign_codes() -> list[str]:
    return list(campaigns()["code"])


def campaign_row(code: str) -> dict:
    df = campaigns()
    rows = df[df["code"] == code].to_dict("records")
    return rows[0] if rows else {}


def campaign_title(code: str) -> str:
    row = campaign_row(code)
    return f"{row.get('title', code)}（{code}）"


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _spec(url: str, code: str, stamp_: tuple) -> str | None:
    return q_spec_json(url, code)


def spec(code: str) -> CampaignSpec | None:
    raw = _spec(db_url(), code, stamp())
    return CampaignSpec.model_validate_json(raw) if raw else None


def _named(fn):  # noqa: ANN001, ANN202
    """st.cache_data keys on the function's qualified name and source; give each wrapper its own."""
    def inner(url: str, stamp_: tuple, *args):  # noqa: ANN001, ANN202
        return fn(url, *args)

    inner.__name__ = inner.__qualname__ = f"cached_{fn.__name__}"
    inner.__module__ = __name__
    cached = st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)(inner)

    def call(*args):  # noqa: ANN001, ANN202
        return cached(db_url(), stamp(), *args)

    return call


phases = _named(q_phases)
departments = _named(q_departments)
rollup_day = _named(q_rollup_day)
department_board = _named(q_department_board)
heatmap = _named(q_heatmap)
trend = _named(q_trend)
overdue = _named(q_overdue)
problems_by_department = _named(q_problems_by_department)
leads = _named(q_leads)
department_assignments = _named(q_department_assignments)
bulletin_lists = _named(q_bulletin_lists)


def clear() -> None:
    st.cache_data.clear()


def rows_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False)
