"""Excel exports of the registers, read through the permission-checked services.

- ledger_xlsx: the 整改台账, one row per problem with its whole close-out history in the last
  column (services.problems.problem_ledger → exchange.ledger_to_xlsx);
- leads_xlsx, projects_xlsx: the lead and project registers (a department sees its own; reporter
  identities only for the office, as services.leads decides).
Any other table a screen shows goes out with exchange.to_xlsx (Chinese headers, frozen header row).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.lead import LEAD
from domain.problem import PROBLEM, PROBLEM_EVENT
from exchange.xlsx_export import ledger_to_xlsx, to_xlsx
from services.campaigns import get_campaign
from services.guard import resolve
from services.leads import list_leads
from services.problems import problem_ledger
from services.projects import list_projects
from store.models import Phase, Project

LEDGER_COLUMNS: list[tuple[str, str]] = [
    ("code", "问题编号"),
    ("department_name", "责任单位"),
    ("phase", "发现阶段"),
    ("project_code", "项目编号"),
    ("project_name", "项目名称"),
    ("category", "问题类别"),
    ("description", "问题描述"),
    ("responsible_person", "责任人"),
    ("measure", "整改措施"),
    ("handling_class", "整改方式"),
    ("found_on", "发现日期"),
    ("deadline", "整改时限"),
    ("status", "整改状态"),
    ("rebound", "销号后反弹"),
    ("closed_on", "销号日期"),
]

__all__ = ["LEDGER_COLUMNS", "leads_xlsx", "ledger_records", "ledger_xlsx", "projects_xlsx"]


def ledger_records(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """One dict per problem (keys of LEDGER_COLUMNS plus `history`), oldest event first."""
    actor = resolve(session, actor, at=at)
    items = problem_ledger(session, actor=actor, campaign_code=campaign_code, department_code=department_code, at=at)
    campaign = get_campaign(session, campaign_code)
    phases = dict(
        session.execute(select(Phase.key, Phase.title).where(Phase.campaign_id == campaign.id)).tuples().all()
    )
    names = dict(
        session.execute(select(Project.code, Project.name).where(Project.campaign_id == campaign.id)).tuples().all()
    )
    out = []
    for p, events in items:
        history = [
            {
                "time": e.at,
                "actor": e.actor,
                "action": PROBLEM_EVENT.label(e.action),
                "note": e.note
                + ("（附件：" + "、".join(a.filename for a in e.attachments) + "）" if e.attachments else ""),
            }
            for e in events
        ]
        out.append(
            {
                "code": p.code,
                "department_name": p.department_name,
                "phase": phases.get(p.phase_key, p.phase_key),
                "project_code": p.project_code,
                "project_name": names.get(p.project_code or ""),
                "category": p.category,
                "description": p.description,
                "responsible_person": p.responsible_person,
                "measure": p.measure,
                "handling_class": p.handling_class,
                "found_on": p.found_on,
                "deadline": p.deadline_on,
                "status": PROBLEM.label(p.status),
                "rebound": p.rebound,
                "closed_on": p.closed_on,
                "history": history,
            }
        )
    return out


def ledger_xlsx(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> bytes:
    """The 整改台账 as .xlsx: one row per problem, the 销号过程 (every event) in its last column."""
    records = ledger_records(session, actor=actor, campaign_code=campaign_code, department_code=department_code, at=at)
    return ledger_to_xlsx(records, columns=LEDGER_COLUMNS, sheet_name="整改台账")


def leads_xlsx(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> bytes:
    actor = resolve(session, actor, at=at)
    rows = list_leads(session, actor=actor, campaign_code=campaign_code, department_code=department_code, at=at)
    headers = [
        "线索编号",
        "来源",
        "收到日期",
        "涉及项目编号",
        "问题类别",
        "内容摘要",
        "承办部门",
        "办理时限",
        "办理状态",
        "办理结果",
        "处理措施",
        "罚款（万元）",
        "涉及企业（家）",
        "处理人员（人）",
        "办结日期",
    ]
    secret = any(x.reporter_name or x.reporter_phone for x in rows)
    if secret:
        headers += ["举报人姓名", "举报人电话"]
    body = [
        [
            x.code,
            x.source,
            x.received_on,
            x.project_code,
            x.category,
            x.summary,
            x.department_code,
            x.due_on,
            LEAD.label(x.status),
            x.outcome,
            x.measures,
            x.fine_wan,
            x.enterprises_involved,
            x.people_dealt_with,
            x.closed_on,
        ]
        + ([x.reporter_name, x.reporter_phone] if secret else [])
        for x in rows
    ]
    return to_xlsx({"线索台账": (headers, body)})


def projects_xlsx(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> bytes:
    actor = resolve(session, actor, at=at)
    rows = list_projects(session, actor=actor, campaign_code=campaign_code, department_code=department_code, at=at)
    headers = ["项目编号", "项目名称", "监管部门代码", "招标日期", "合同估算价（万元）", "中标人", "投标人", "抽中核查"]
    body = [
        [p.code, p.name, p.department_code, p.tender_on, p.amount_wan, p.winner, p.bidders, p.sampled] for p in rows
    ]
    return to_xlsx({"监管项目": (headers, body)})
