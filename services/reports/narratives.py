"""The four narrative sections of a monthly report (开展情况和主要做法, 发现的问题及处理情况,
可复制推广的典型经验, 下一步工作打算和意见建议): text that the department — or, for the rollup, the
office — writes and saves with an optimistic version. Nobody can edit a figure: there is nowhere to
store one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.access import Actor
from domain.errors import Conflict, Invalid, NotFound
from domain.localtime import local_text
from domain.reporting import parse_period
from exchange.reports import SECTION_HEADINGS, Narrative
from services.campaigns import get_campaign
from services.guard import fail
from services.reports.access import ROLLUP_KEY, check_read, check_write, department, report_key
from store import audit
from store.models import ReportNarrative

MAX_SECTION_CHARS = 20_000
NARRATIVE_STALE = "该报告的文字已被{who}于{when}修改，请刷新后在最新内容上编辑"
ACTION_SAVE = "report.narrative"


@dataclass(frozen=True)
class NarrativeDTO:
    campaign_code: str
    period: str
    department_code: str | None  # None: the office rollup
    narrative: Narrative
    version: int  # 0: nothing saved yet (pass 0 as expected_version to create it)
    updated_by: str | None
    updated_at: dt.datetime | None


def narrative_row(
    session: Session, campaign_id: int, period: str, department_code: str | None, *, for_update: bool = False
) -> ReportNarrative | None:
    q = select(ReportNarrative).where(
        ReportNarrative.campaign_id == campaign_id,
        ReportNarrative.period == period,
        ReportNarrative.department_code == (department_code or ROLLUP_KEY),
    )
    if for_update:
        q = q.with_for_update().execution_options(populate_existing=True)
    return session.scalar(q)


def narrative_dto(
    campaign_code: str, period: str, department_code: str | None, row: ReportNarrative | None
) -> NarrativeDTO:
    if row is None:
        return NarrativeDTO(campaign_code, period, department_code, Narrative(), 0, None, None)
    text = Narrative(
        practices=row.practices, problems=row.problems, experience=row.experience, next_steps=row.next_steps
    )
    return NarrativeDTO(campaign_code, period, department_code, text, row.version, row.updated_by, row.updated_at)


def get_narrative(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    period: str,
    department_code: str | None,
    at: dt.datetime | None = None,
) -> NarrativeDTO:
    """The saved text of a report (empty, version 0, when nothing has been saved)."""
    parse_period(period)
    actor = check_read(session, actor, at, campaign_code, period, department_code, "report.narrative.read")
    campaign = get_campaign(session, campaign_code)
    return narrative_dto(
        campaign_code, period, department_code, narrative_row(session, campaign.id, period, department_code)
    )


def _clean(text: str, heading: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_SECTION_CHARS:
        raise Invalid(f"「{heading}」超过 {MAX_SECTION_CHARS} 字，请精简")
    return text


def save_narrative(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    period: str,
    department_code: str | None,
    narrative: Narrative,
    expected_version: int = 0,
) -> NarrativeDTO:
    """Save the four text sections of a report. A department writes its own report's text, the
    office the rollup's; leaders read only. `expected_version` is the version the editor started
    from (0 for a first save): if someone saved in between, Conflict, and nothing is overwritten."""
    key = report_key(campaign_code, period, department_code)
    actor = check_write(session, actor, at, campaign_code, period, department_code, ACTION_SAVE)
    try:
        parse_period(period)
        campaign = get_campaign(session, campaign_code)
        if department_code is not None:
            department(session, campaign, department_code)
        text = {name: _clean(getattr(narrative, name), heading) for name, heading in SECTION_HEADINGS}
        row = narrative_row(session, campaign.id, period, department_code, for_update=True)
        current = row.version if row is not None else 0
        if current != expected_version:
            raise Conflict(
                NARRATIVE_STALE.format(
                    who=row.updated_by if row else "他人", when=local_text(row.updated_at) if row else ""
                )
            )
    except (Invalid, Conflict, NotFound) as exc:
        fail(exc, actor=actor, at=at, action=ACTION_SAVE, entity="report", entity_key=key)
    before = None if row is None else narrative_dto(campaign_code, period, department_code, row).narrative.model_dump()
    try:
        with session.begin_nested():  # another editor may insert or save first, between our read and write
            if row is None:
                row = ReportNarrative(
                    campaign_id=campaign.id, period=period, department_code=department_code or ROLLUP_KEY
                )
                session.add(row)
            for name, value in text.items():
                setattr(row, name, value)
            row.updated_by, row.updated_at = actor.username, at
            session.flush()
    except (IntegrityError, StaleDataError):
        fail(
            Conflict(NARRATIVE_STALE.format(who="他人", when="刚才")),
            actor=actor,
            at=at,
            action=ACTION_SAVE,
            entity="report",
            entity_key=key,
        )
    audit.record(
        session,
        at=at,
        actor=actor,
        action=ACTION_SAVE,
        entity="report",
        entity_key=key,
        before=before,
        after={**text, "version": row.version},
    )
    return narrative_dto(campaign_code, period, department_code, row)
