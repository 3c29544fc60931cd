"""Red-flag screening of a campaign's bid register and 预警分办 (issue 14 items 2, 3 and 5).

`scan_campaign` runs every rule (domain.risk.scan) on the stored register, keeps the flags of this scan (the
previous scan's are replaced), and turns each project scoring at least the YAML's `alert_score` into exactly one
lead: source 大数据预警, routed to the project's department with the flags as its content and the YAML's time limit
in working days (限时办结), then handled like every lead (services.leads). The natural key of a 预警 is
(campaign, project) — risk_alert — and scans of one campaign queue on its counter row, so however often the scan or
the tick runs, a project becomes one lead. Bidders on the credit watch list or blacklist add a CREDIT flag.

Hit rate per rule (the office tunes thresholds with it): of the 预警 whose lead is closed, the share found 查实
or 部分属实 (a lead borne out in part counts as a hit: the rule pointed at something real), counted for every rule
that raised the 预警.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from domain.access import Actor, Role, can_administer
from domain.credit import ENTITY_KIND, EntityKind
from domain.errors import NotFound
from domain.lead import SUBSTANTIATED, LeadSource, LeadStatus
from domain.localtime import local_day
from domain.problem import ProblemCategory
from domain.risk.network import CollusionGroup
from domain.risk.policy import RiskSection
from domain.risk.register import Register
from domain.risk.rules import RULES, Flag
from domain.risk.scan import RiskScan, RuleSummary, scan
from domain.risk.scoring import ProjectRisk, score_projects
from services.campaigns import get_campaign, lock_counter, stored_spec
from services.credit import flagged_entities, refresh_credit
from services.guard import check, department_scope, fail, resolve
from services.leads import assign_lead, intake_lead
from services.risk.register import load_register
from store import audit
from store.models import Bid, Campaign, Department, Lead, Project, RiskAlert, RiskFlag

CREDIT_RULE = "CREDIT"
CREDIT_TITLE = "信用重点关注或黑名单主体参与投标"
SUMMARY_MAX = 3800  # a lead's summary is a long text (limits.LONG_TEXT_MAX) with room to spare


@dataclass(frozen=True)
class ScanReport:
    projects: int
    bids: int
    flags: int
    flagged_projects: int
    alerts: int
    new_leads: tuple[str, ...]
    summary: tuple[RuleSummary, ...]
    risks: tuple[ProjectRisk, ...]  # flagged projects, highest score first
    groups: int
    alert_score: float


@dataclass(frozen=True)
class ProjectFlags:
    project_code: str
    project_name: str
    department_code: str
    score: float
    rules: tuple[str, ...]
    evidence: tuple[str, ...]
    lead_code: str | None
    lead_status: str | None


@dataclass(frozen=True)
class HitRate:
    rule_id: str
    title: str
    alerts: int  # 预警 the rule raised
    closed: int  # of those, leads closed
    confirmed: int  # of those, found 查实 or 部分属实

    @property
    def rate(self) -> float | None:
        return self.confirmed / self.closed if self.closed else None


def settings_of(campaign: Campaign) -> RiskSection:
    """The campaign's `risk:` section, or the documented defaults when its YAML has none."""
    return stored_spec(campaign).risk or RiskSection()


# The last scans, by register and settings: the rules are pure, so an unchanged register (load_register hands back
# the same object while its stamp stands) scanned with the same settings gives the same flags.
_SCANNED: dict[tuple[int, str], tuple[Register, RiskScan]] = {}
_SCANNED_KEEP = 4


def scan_of(register: Register, settings: RiskSection) -> RiskScan:
    """domain.risk.scan.scan(register, settings), once per register object and settings."""
    key = (id(register), settings.model_dump_json())  # the settings hold a dict: not hashable themselves
    kept = _SCANNED.get(key)
    if kept is not None and kept[0] is register:  # the same object, not another that reused its id
        return kept[1]
    result = scan(register, settings)
    _SCANNED[key] = (register, result)
    while len(_SCANNED) > _SCANNED_KEEP:
        del _SCANNED[next(iter(_SCANNED))]
    return result


def screen(session: Session, campaign: Campaign, settings: RiskSection) -> tuple[Register, RiskScan]:
    """The scan of the stored register, with the credit flags added and the scores recombined."""
    register = load_register(session, campaign.id)
    result = scan_of(register, settings)
    extra = _credit_flags(session, campaign, register, settings)
    if not extra:
        return register, result
    flags = (*result.flags, *extra)
    departments = {p.code: p.department_code for p in register.projects}
    return register, RiskScan(flags, score_projects(flags, departments), result.groups, result.alert_score)


def _credit_flags(session: Session, campaign: Campaign, register: Register, settings: RiskSection) -> list[Flag]:
    weight = settings.credit.watch_weight
    if weight <= 0:
        return []
    standing = flagged_entities(session, campaign.id, EntityKind.bidder)
    if not standing:
        return []
    flags = []
    for project in register.projects:
        named = sorted({b.bidder_code for b in register.bids(project.code) if b.bidder_code in standing})
        if named:
            who = "、".join(f"{standing[c][0]}（{standing[c][1]}）" for c in named)
            flags.append(
                Flag(
                    CREDIT_RULE,
                    project.code,
                    tuple(named),
                    f"{ENTITY_KIND.label(EntityKind.bidder)} {who} 参与投标",
                    weight,
                )
            )
    return flags


def scan_campaign(
    session: Session, *, actor: Actor, at: dt.datetime, campaign_code: str, dispatch: bool = True
) -> ScanReport:
    """Scan the campaign's register, keep its flags and (with `dispatch`) turn new 预警 into leads. Office/system."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="risk.scan",
        entity="campaign",
        entity_key=campaign_code,
        label="运行大数据预警筛查",
        reason="预警筛查与分办由牵头办公室负责。",
    )
    try:
        campaign = get_campaign(session, campaign_code)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action="risk.scan", entity="campaign", entity_key=campaign_code)
    lock_counter(session, campaign.id, "risk")  # scans of one campaign queue: one 预警 and one lead per project
    settings = settings_of(campaign)
    refresh_credit(session, actor=actor, at=at, campaign_code=campaign_code)  # the watch list feeds the scores
    register, result = screen(session, campaign, settings)
    project_ids = dict(
        session.execute(select(Project.code, Project.id).where(Project.campaign_id == campaign.id)).tuples().all()
    )
    _replace_flags(session, campaign.id, result, project_ids)
    alerts = [r for r in result.risks.values() if r.score >= settings.alert_score]
    alerts.sort(key=lambda r: (-r.score, r.project_code))
    new_leads = _dispatch(session, actor, at, campaign, settings, alerts, project_ids) if dispatch else []
    audit.record(
        session,
        at=at,
        actor=actor,
        action="risk.scan",
        entity="campaign",
        entity_key=campaign_code,
        after={
            "projects": len(register.projects),
            "bids": register.bid_count,
            "flags": len(result.flags),
            "flagged_projects": len(result.risks),
            "alerts": len(alerts),
            "new_leads": new_leads,
            "alert_score": settings.alert_score,
        },
    )
    summary = list(result.summary())
    credit = [f for f in result.flags if f.rule_id == CREDIT_RULE]
    if credit:
        summary.append(
            RuleSummary(
                CREDIT_RULE,
                CREDIT_TITLE,
                "量化记分（重点关注、黑名单）",
                len(credit),
                len({f.project_code for f in credit}),
            )
        )
    return ScanReport(
        len(register.projects),
        register.bid_count,
        len(result.flags),
        len(result.risks),
        len(alerts),
        tuple(new_leads),
        tuple(summary),
        tuple(sorted(result.risks.values(), key=lambda r: (-r.score, r.project_code))),
        len(result.groups),
        settings.alert_score,
    )


def _replace_flags(session: Session, campaign_id: int, result: RiskScan, project_ids: dict[str, int]) -> None:
    session.execute(delete(RiskFlag).where(RiskFlag.campaign_id == campaign_id))
    rows = [
        {
            "campaign_id": campaign_id,
            "project_id": project_ids[f.project_code],
            "rule_id": f.rule_id,
            "entities": json.dumps(list(f.entities)),
            "evidence": f.evidence,
            "weight": Decimal(str(round(f.weight, 3))),
            "link_value": f.link_value[:128],
        }
        for f in result.flags
        if f.project_code in project_ids
    ]
    if rows:
        session.execute(insert(RiskFlag), rows)


def _title(rule_id: str) -> str:
    return RULES[rule_id].title if rule_id in RULES else CREDIT_TITLE


def lead_summary(risk: ProjectRisk, name: str) -> str:
    lines = [
        f"大数据预警：项目 {risk.project_code}「{name}」风险分 {risk.score:.1f}，命中 {len(risk.rule_ids)} 条规则。"
    ]
    for flag in risk.flags:
        basis = RULES[flag.rule_id].basis if flag.rule_id in RULES else "量化记分"
        lines.append(f"【{flag.rule_id} {_title(flag.rule_id)}】{flag.evidence}（依据：{basis}）")
    text = "\n".join(lines)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _category(risk: ProjectRisk) -> ProblemCategory:
    collusive = any(r.startswith(("C40", "NET", "R028", "R025")) for r in risk.rule_ids)
    return ProblemCategory.collusion if collusive else ProblemCategory.other


def _dispatch(
    session: Session,
    actor: Actor,
    at: dt.datetime,
    campaign: Campaign,
    settings: RiskSection,
    alerts: list[ProjectRisk],
    project_ids: dict[str, int],
) -> list[str]:
    """One 预警 row and one lead per alerted project not yet alerted; returns the new leads' codes."""
    known = set(session.scalars(select(RiskAlert.project_id).where(RiskAlert.campaign_id == campaign.id)))
    names = dict(
        session.execute(select(Project.code, Project.name).where(Project.campaign_id == campaign.id)).tuples().all()
    )
    created = []
    for risk in alerts:
        project_id = project_ids.get(risk.project_code)
        if project_id is None or project_id in known:
            continue
        lead = intake_lead(
            session,
            actor=actor,
            at=at,
            campaign_code=campaign.code,
            source=LeadSource.big_data.value,
            received_on=local_day(at),
            category=_category(risk).value,
            summary=lead_summary(risk, names.get(risk.project_code, "")),
            project_code=risk.project_code,
        )
        assigned = assign_lead(
            session,
            actor=actor,
            at=at,
            lead_id=lead.id,
            expected_version=lead.version,
            department_code=risk.department_code,
            working_days=settings.lead_working_days,
        )
        session.add(
            RiskAlert(
                campaign_id=campaign.id,
                project_id=project_id,
                score=Decimal(str(risk.score)),
                rules="、".join(risk.rule_ids),
                entities=json.dumps(sorted({e for f in risk.flags for e in f.entities})),
                lead_id=assigned.id,
                raised_on=local_day(at),
            )
        )
        session.flush()
        audit.record(
            session,
            at=at,
            actor=actor,
            action="risk.alert",
            entity="project",
            entity_key=f"{campaign.code}/{risk.project_code}",
            after={"score": risk.score, "rules": list(risk.rule_ids), "lead": assigned.code},
        )
        created.append(assigned.code)
    return created


# --- reads ----------------------------------------------------------------------------------------------------


def list_flags(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> list[ProjectFlags]:
    """The latest scan's flagged projects with their 预警 lead; a department sees its own projects only."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="risk.flags",
        campaign_code=campaign_code,
        department_code=department_code,
        what="预警",
        reason="责任部门只能查看本部门项目的预警。",
    )
    campaign = get_campaign(session, campaign_code)
    q = (
        select(RiskFlag, Project.code, Project.name, Department.code)
        .join(Project, Project.id == RiskFlag.project_id)
        .join(Department, Department.id == Project.department_id)
        .where(RiskFlag.campaign_id == campaign.id)
    )
    if department_code:
        q = q.where(Department.code == department_code)
    grouped: dict[str, list[RiskFlag]] = defaultdict(list)
    info: dict[str, tuple[str, str]] = {}
    for flag, code, name, dept in session.execute(q.order_by(Project.code, RiskFlag.id)):
        grouped[code].append(flag)
        info[code] = (name, dept)
    leads = {
        code: (lead_code, status)
        for code, lead_code, status in session.execute(
            select(Project.code, Lead.code, Lead.status)
            .join(RiskAlert, RiskAlert.project_id == Project.id)
            .join(Lead, Lead.id == RiskAlert.lead_id)
            .where(RiskAlert.campaign_id == campaign.id)
        )
    }
    out = []
    for code, flags in grouped.items():
        strongest: dict[str, float] = {}
        for f in flags:
            strongest[f.rule_id] = max(strongest.get(f.rule_id, 0.0), float(f.weight))
        remaining = 1.0
        for w in strongest.values():
            remaining *= 1.0 - w
        lead_code, status = leads.get(code, (None, None))
        out.append(
            ProjectFlags(
                code,
                info[code][0],
                info[code][1],
                round(100.0 * (1.0 - remaining), 1),
                tuple(sorted(strongest)),
                tuple(f"【{f.rule_id} {_title(f.rule_id)}】{f.evidence}" for f in flags),
                lead_code,
                status,
            )
        )
    return sorted(out, key=lambda p: (-p.score, p.project_code))


def hit_rates(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> list[HitRate]:
    """Per rule: 预警 raised, their leads closed, and of those found 查实 (office and leaders)."""
    actor = resolve(session, actor, at=at)
    check(
        actor.role != Role.department,
        actor=actor,
        at=at,
        action="risk.hit_rates",
        entity="campaign",
        entity_key=campaign_code,
        label="查看预警规则命中率",
        reason="规则命中率供牵头办公室和领导调整预警阈值。",
    )
    return rule_hit_rates(session, get_campaign(session, campaign_code).id)


def rule_hit_rates(session: Session, campaign_id: int) -> list[HitRate]:
    """The figures behind `hit_rates`, for callers that checked the reader already (the monthly report)."""
    alerts: dict[str, int] = defaultdict(int)
    closed: dict[str, int] = defaultdict(int)
    confirmed: dict[str, int] = defaultdict(int)
    for rules, status, outcome in session.execute(
        select(RiskAlert.rules, Lead.status, Lead.outcome)
        .outerjoin(Lead, Lead.id == RiskAlert.lead_id)
        .where(RiskAlert.campaign_id == campaign_id)
    ):
        for rule_id in rules.split("、"):
            alerts[rule_id] += 1
            if status == LeadStatus.closed.value:
                closed[rule_id] += 1
                confirmed[rule_id] += outcome in SUBSTANTIATED
    order = [*RULES, CREDIT_RULE]
    return [
        HitRate(rule_id, _title(rule_id), alerts[rule_id], closed[rule_id], confirmed[rule_id])
        for rule_id in order
        if alerts.get(rule_id)
    ]


def collusion_network(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
) -> list[CollusionGroup]:
    """The collusion groups of the current register (office and leaders: it names companies across departments)."""
    actor = resolve(session, actor, at=at)
    check(
        actor.role != Role.department,
        actor=actor,
        at=at,
        action="risk.network",
        entity="campaign",
        entity_key=campaign_code,
        label="查看关联企业网络",
        reason="关联企业网络跨部门，供牵头办公室和领导查看。",
    )
    campaign = get_campaign(session, campaign_code)
    settings = settings_of(campaign)
    result = scan_of(load_register(session, campaign.id), settings)
    return sorted(result.groups, key=lambda g: (-len(g.members), g.group_id))


def risk_tick(session: Session, *, campaign_code: str, actor: Actor, at: dt.datetime) -> int:
    """The tick's 预警分办 step: a campaign with a `risk:` section and a bid register is scanned and its new 预警
    become leads; returns the leads created (none on a second run of the day: the 预警 are keyed by project)."""
    campaign = get_campaign(session, campaign_code)
    if stored_spec(campaign).risk is None:
        return 0
    if session.scalar(select(Bid.id).where(Bid.campaign_id == campaign.id).limit(1)) is None:
        return 0
    return len(scan_campaign(session, actor=actor, at=at, campaign_code=campaign_code).new_leads)
