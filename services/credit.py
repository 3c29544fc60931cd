"""Credit (量化记分), watch list and blacklist (联合惩戒) of market entities; expert ratings (issue 14 item 6).

`refresh_credit` derives the credit events from the records (rules in domain.credit, weights in the YAML's
`risk.credit`), each once by its natural key: a closed 大数据预警 lead found 查实 or 部分属实 (in full:
the lead was borne out, even if in part) gives points to the bidders its flags named, the project's agent and its
evaluation experts; a lead whose measures include 列入黑名单 puts those
bidders on the blacklist; a problem in the ledger on a project gives points to its winner and agent. Points count
until the event expires; an entity's standing (正常 / 重点关注 / 黑名单) and an expert's rating (A–D) follow from the
points valid on the day. Every new event and every change of standing or rating is audited with the records
behind it, so each list entry is explainable. Reads: office and leaders see every entity; a department account
sees its campaign's lists (the blacklist is a 联合惩戒 list: every department acts on it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, can_administer
from domain.credit import ENTITY_KIND, STANDING, SUSPENDED_RATINGS, CreditRules, EntityKind, Standing
from domain.errors import NotFound
from domain.lead import SUBSTANTIATED, LeadMeasure, LeadStatus
from domain.localtime import local_day
from exchange.xlsx_export import to_xlsx
from services.campaigns import get_campaign, lock_counter, stored_spec
from services.guard import campaign_scope, check, fail, resolve
from store import audit
from store.models import (
    Bid,
    Campaign,
    CreditEvent,
    EvaluationExpert,
    Lead,
    MarketEntity,
    Problem,
    Project,
    RiskAlert,
)


@dataclass(frozen=True)
class CreditRecord:
    key: str
    points: int
    reason: str
    source: str
    occurred_on: dt.date
    expires_on: dt.date


@dataclass(frozen=True)
class CreditEntry:
    kind: str
    code: str
    name: str
    points: int
    standing: str
    rating: str | None
    records: tuple[CreditRecord, ...]

    @property
    def standing_label(self) -> str:
        return STANDING.label(self.standing)

    @property
    def suspended(self) -> bool:
        return self.kind == EntityKind.expert and self.rating in SUSPENDED_RATINGS


@dataclass(frozen=True)
class CreditRefresh:
    new_events: int
    changes: tuple[str, ...]  # "kind/code: before → after"


@dataclass(frozen=True)
class _Owed:
    key: str
    kind: EntityKind
    code: str
    name: str
    points: int
    reason: str
    source: str
    occurred_on: dt.date


def rules_of(campaign: Campaign) -> CreditRules:
    risk = stored_spec(campaign).risk
    return risk.credit if risk is not None else CreditRules()


def flagged_entities(session: Session, campaign_id: int, kind: EntityKind) -> dict[str, tuple[str, str]]:
    """code → (name, standing label) of the entities of `kind` on the watch list or the blacklist."""
    return {
        code: (name, STANDING.label(standing))
        for code, name, standing in session.execute(
            select(MarketEntity.code, MarketEntity.name, MarketEntity.standing).where(
                MarketEntity.campaign_id == campaign_id,
                MarketEntity.kind == kind.value,
                MarketEntity.standing != Standing.normal.value,
            )
        )
    }


def _owed(session: Session, campaign: Campaign, rules: CreditRules) -> list[_Owed]:
    """Every credit event the records call for (new or not)."""
    names = dict(
        session.execute(select(Bid.bidder_code, Bid.bidder_name).where(Bid.campaign_id == campaign.id)).tuples().all()
    )
    owed: list[_Owed] = []
    experts: dict[int, list[str]] = defaultdict(list)
    for project_id, expert in session.execute(
        select(EvaluationExpert.project_id, EvaluationExpert.expert)
        .join(Project, Project.id == EvaluationExpert.project_id)
        .where(Project.campaign_id == campaign.id)
    ):
        experts[project_id].append(expert)
    leads = session.execute(
        select(Lead, RiskAlert.entities, Project)
        .join(RiskAlert, RiskAlert.lead_id == Lead.id)
        .join(Project, Project.id == RiskAlert.project_id)
        .where(RiskAlert.campaign_id == campaign.id, Lead.status == LeadStatus.closed.value)
    )
    for lead, entities, project in leads:
        if lead.outcome not in SUBSTANTIATED or lead.closed_on is None:  # 部分属实 scores in full, like 查实
            continue
        day, why = lead.closed_on, f"大数据预警线索 {lead.code}（项目 {project.code}）经查{lead.outcome}"
        blacklisted = LeadMeasure.blacklist.value in (lead.measures or "").split("、")
        for code in json.loads(entities):
            owed.append(
                _Owed(
                    f"lead/{lead.code}/bidder/{code}",
                    EntityKind.bidder,
                    code,
                    names.get(code, code),
                    rules.confirmed_lead_points,
                    why,
                    lead.code,
                    day,
                )
            )
            if blacklisted:
                owed.append(
                    _Owed(
                        f"blacklist/{lead.code}/{code}",
                        EntityKind.bidder,
                        code,
                        names.get(code, code),
                        rules.blacklist_points,
                        f"{why}，处理措施：{LeadMeasure.blacklist.value}",
                        lead.code,
                        day,
                    )
                )
        if project.agent:
            owed.append(
                _Owed(
                    f"lead/{lead.code}/agent",
                    EntityKind.agent,
                    project.agent[:40],
                    project.agent,
                    rules.agent_points,
                    why,
                    lead.code,
                    day,
                )
            )
        for expert in experts.get(project.id, ()):
            owed.append(
                _Owed(
                    f"lead/{lead.code}/expert/{expert}",
                    EntityKind.expert,
                    expert,
                    expert,
                    rules.expert_points,
                    f"{why}（该项目评标专家）",
                    lead.code,
                    day,
                )
            )
    problems = session.execute(
        select(Problem, Project)
        .join(Project, (Project.campaign_id == Problem.campaign_id) & (Project.code == Problem.project_code))
        .where(Problem.campaign_id == campaign.id)
    )
    for problem, project in problems:
        why = f"问题台账 {problem.code}（项目 {project.code}，{problem.category}）"
        if project.winner_code:
            owed.append(
                _Owed(
                    f"problem/{problem.code}/bidder/{project.winner_code}",
                    EntityKind.bidder,
                    project.winner_code,
                    project.winner or names.get(project.winner_code, project.winner_code),
                    rules.problem_points,
                    f"{why}，中标人",
                    problem.code,
                    problem.found_on,
                )
            )
        if project.agent:
            owed.append(
                _Owed(
                    f"problem/{problem.code}/agent",
                    EntityKind.agent,
                    project.agent[:40],
                    project.agent,
                    rules.agent_points,
                    f"{why}，招标代理机构",
                    problem.code,
                    problem.found_on,
                )
            )
    return [o for o in owed if o.points > 0]


def refresh_credit(session: Session, *, actor: Actor, at: dt.datetime, campaign_code: str) -> CreditRefresh:
    """Record the credit events the records call for and recompute every entity's points, standing and rating as
    of the actor's day (office / system). Idempotent: events have natural keys; unchanged standings write nothing."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="credit.refresh",
        entity="campaign",
        entity_key=campaign_code,
        label="更新量化记分",
        reason="量化记分由牵头办公室负责。",
    )
    try:
        campaign = get_campaign(session, campaign_code)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action="credit.refresh", entity="campaign", entity_key=campaign_code)
    lock_counter(session, campaign.id, "credit")
    rules = rules_of(campaign)
    as_of = local_day(at)
    entities = {
        (e.kind, e.code): e
        for e in session.scalars(select(MarketEntity).where(MarketEntity.campaign_id == campaign.id))
    }
    known = set(session.scalars(select(CreditEvent.natural_key).where(CreditEvent.campaign_id == campaign.id)))
    new = 0
    for owed in _owed(session, campaign, rules):
        if owed.key in known:
            continue
        known.add(owed.key)
        entity = entities.get((owed.kind.value, owed.code))
        if entity is None:
            entity = MarketEntity(
                campaign_id=campaign.id,
                kind=owed.kind.value,
                code=owed.code,
                name=owed.name[:200],
                points=0,
                standing=Standing.normal.value,
                rating="A" if owed.kind == EntityKind.expert else None,
            )
            session.add(entity)
            session.flush()
            entities[(owed.kind.value, owed.code)] = entity
        expires = owed.occurred_on + dt.timedelta(days=rules.validity_days)
        session.add(
            CreditEvent(
                campaign_id=campaign.id,
                entity_id=entity.id,
                natural_key=owed.key,
                points=owed.points,
                reason=owed.reason,
                source=owed.source,
                occurred_on=owed.occurred_on,
                expires_on=expires,
            )
        )
        audit.record(
            session,
            at=at,
            actor=actor,
            action="credit.event",
            entity="market_entity",
            entity_key=f"{campaign_code}/{owed.kind.value}/{owed.code}",
            after={"points": owed.points, "reason": owed.reason, "source": owed.source, "expires_on": str(expires)},
        )
        new += 1
    session.flush()
    changes = _restate(session, actor, at, campaign, rules, as_of, list(entities.values()))
    return CreditRefresh(new, tuple(changes))


def _restate(
    session: Session,
    actor: Actor,
    at: dt.datetime,
    campaign: Campaign,
    rules: CreditRules,
    as_of: dt.date,
    entities: list[MarketEntity],
) -> list[str]:
    valid: dict[int, list[str]] = defaultdict(list)
    points: dict[int, int] = defaultdict(int)
    for event in session.scalars(
        select(CreditEvent).where(
            CreditEvent.campaign_id == campaign.id, CreditEvent.occurred_on <= as_of, CreditEvent.expires_on > as_of
        )
    ):
        points[event.entity_id] += event.points
        valid[event.entity_id].append(event.natural_key)
    changes = []
    for entity in entities:
        total = points.get(entity.id, 0)
        standing = rules.standing(total).value
        rating = rules.expert_rating(total) if entity.kind == EntityKind.expert.value else None
        old_standing, old_rating = entity.standing, entity.rating
        before = {"points": entity.points, "standing": old_standing, "rating": old_rating}
        after = {"points": total, "standing": standing, "rating": rating}
        entity.updated_on = as_of
        if before == after:
            continue
        entity.points, entity.standing, entity.rating = total, standing, rating
        audit.record(
            session,
            at=at,
            actor=actor,
            action="credit.standing",
            entity="market_entity",
            entity_key=f"{campaign.code}/{entity.kind}/{entity.code}",
            before=before,
            after={**after, "records": sorted(valid.get(entity.id, []))},
        )
        if old_standing != standing or old_rating != rating:
            changes.append(
                f"{ENTITY_KIND.label(entity.kind)} {entity.name}：{STANDING.label(old_standing)}"
                f" → {STANDING.label(standing)}" + (f"，评级 {old_rating} → {rating}" if rating else "")
            )
    session.flush()
    return changes


def list_credit(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    blacklist_only: bool = False,
    at: dt.datetime | None = None,
) -> list[CreditEntry]:
    """Entities with points, highest first, each with the records behind its points."""
    actor = resolve(session, actor, at=at)
    campaign_scope(actor=actor, at=at, action="credit.list", campaign_code=campaign_code, what="信用记分")
    campaign = get_campaign(session, campaign_code)
    q = select(MarketEntity).where(MarketEntity.campaign_id == campaign.id)
    if blacklist_only:
        q = q.where(MarketEntity.standing == Standing.blacklist.value)
    entities = list(session.scalars(q))
    records: dict[int, list[CreditRecord]] = defaultdict(list)
    for event in session.scalars(
        select(CreditEvent)
        .where(CreditEvent.campaign_id == campaign.id)
        .order_by(CreditEvent.occurred_on, CreditEvent.id)
    ):
        records[event.entity_id].append(
            CreditRecord(
                event.natural_key, event.points, event.reason, event.source, event.occurred_on, event.expires_on
            )
        )
    out = [
        CreditEntry(e.kind, e.code, e.name, e.points, e.standing, e.rating, tuple(records.get(e.id, ())))
        for e in entities
    ]
    return sorted(out, key=lambda e: (-e.points, e.kind, e.code))


def blacklist_xlsx(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> bytes:
    """The 联合惩戒 list as .xlsx: one sheet of entries, one of the records behind each entry."""
    entries = list_credit(session, actor=actor, campaign_code=campaign_code, blacklist_only=True, at=at)
    listed = (
        ["主体类型", "名称", "代码", "有效记分", "信用状态"],
        [(ENTITY_KIND.label(e.kind), e.name, e.code, e.points, e.standing_label) for e in entries],
    )
    behind = (
        ["名称", "代码", "记分", "事由", "来源编号", "记分日期", "有效期至"],
        [
            (e.name, e.code, r.points, r.reason, r.source, r.occurred_on, r.expires_on)
            for e in entries
            for r in e.records
        ],
    )
    return to_xlsx({"黑名单（联合惩戒）": listed, "记分记录": behind})
