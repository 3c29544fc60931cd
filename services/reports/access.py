"""Who may read and write a monthly report, and the audit key of one report."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, Role, can_act_for_department, can_administer, can_read_department
from domain.errors import NotFound
from services.guard import check, resolve
from store.models import Campaign, Department

ROLLUP_KEY = ""  # department_code of the office rollup in report_narrative / generated_report


def report_key(campaign_code: str, period: str, department_code: str | None) -> str:
    return f"{campaign_code}/{period}/{department_code or '汇总'}"


def can_read(actor: Actor, campaign_code: str, department_code: str | None) -> bool:
    """A department reads its own report in its own campaign; the office, leaders and the system read
    all and the rollup."""
    if department_code is None:
        return actor.role in (Role.office, Role.leader, Role.system)
    return can_read_department(actor, department_code, campaign_code)


def can_write(actor: Actor, campaign_code: str, department_code: str | None) -> bool:
    """A department writes its own report's text in its own campaign, the office the rollup's."""
    if department_code is None:
        return can_administer(actor)
    return can_act_for_department(actor, department_code, campaign_code)


def check_read(
    session: Session,
    actor: Actor,
    at: dt.datetime | None,
    campaign_code: str,
    period: str,
    department_code: str | None,
    action: str,
) -> Actor:
    """The reader, resolved from the user record (services.guard.resolve), if it may read this report."""
    actor = resolve(session, actor, at=at)
    what = "全区汇总报告" if department_code is None else f"部门 {department_code} 的报告"
    reason = "汇总报告由牵头办公室编写，领导可查看。" if department_code is None else "责任部门只能查看本部门的报告。"
    check(
        can_read(actor, campaign_code, department_code),
        actor=actor,
        at=at,
        action=action,
        entity="report",
        entity_key=report_key(campaign_code, period, department_code),
        label=f"查看{what}",
        reason=reason,
    )
    return actor


def check_write(
    session: Session,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    period: str,
    department_code: str | None,
    action: str,
) -> Actor:
    """The writer, resolved from the user record (services.guard.resolve), if it may write this report."""
    actor = resolve(session, actor, at=at)
    label = "编写全区汇总报告" if department_code is None else f"编写部门 {department_code} 的报告"
    reason = "汇总报告的文字由牵头办公室编写。" if department_code is None else "责任部门只能编写本部门的报告。"
    check(
        can_write(actor, campaign_code, department_code),
        actor=actor,
        at=at,
        action=action,
        entity="report",
        entity_key=report_key(campaign_code, period, department_code),
        label=label,
        reason=reason,
    )
    return actor


def department(session: Session, campaign: Campaign, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.campaign_id == campaign.id, Department.code == code))
    if dept is None:
        raise NotFound(f"部门代码 {code!r} 不在专项行动 {campaign.code} 中")
    return dept
