"""Supervised projects: the register import (all or nothing) and the verification sampling draw.

The draw is domain.sampling.draw over each department's project codes with the campaign's seed;
the seed, ratio, population and drawn codes are recorded in sample_draw so anyone can re-run it.

A campaign whose YAML has a `risk:` section draws risk-weighted instead (issue 14, domain.risk.draw): each
department still gets at least the ratio, projects scoring at least `draw_always_score` are always drawn (reason
risk), the rest by weighted sampling keyed on the seed (reason random). The scores the round drew with and the
reason for each project are recorded with it (sample_draw.risk_json), so a replay draws the same projects.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from domain import sampling
from domain.access import SYSTEM, Actor, Role, can_administer
from domain.assignment import AssignmentStatus
from domain.errors import NotFound
from domain.risk.draw import DRAW_REASON, Candidate, DrawReason, draw_department
from domain.risk.policy import RiskSection
from domain.spec import SAMPLE_TEMPLATE_KEY
from services.campaigns import get_campaign, lock_counter, stored_spec
from services.guard import check, department_scope, resolve
from services.holidays import campaign_calendar
from services.imports import ImportReport, import_file
from services.risk.screening import screen
from store import audit
from store.models import (
    Assignment,
    Department,
    Phase,
    Project,
    SampleDraw,
    TaskTemplate,
)


@dataclass(frozen=True)
class ProjectDTO:
    code: str
    name: str
    department_code: str
    tender_on: dt.date | None
    amount_wan: Decimal | None
    winner: str | None
    bidders: list[str]
    sampled: bool


@dataclass(frozen=True)
class DrawDTO:
    department_code: str
    seed: int
    min_ratio: float
    population: int
    sampled_codes: list[str]  # this round's
    drawn_on: dt.date
    round: int = 1
    sampled_total: int | None = None  # this round and the earlier ones
    population_codes: list[str] | None = None
    # risk-weighted rounds: project code -> (reason label 风险必抽 / 加权随机, its risk score)
    reasons: dict[str, tuple[str, float]] | None = None
    risk_record: dict | None = None  # the recorded settings and scores a risk-weighted round replays from

    @property
    def ratio(self) -> float:
        """The share of the register sampled once this round was drawn."""
        return sampling.ratio(self.sampled_total or len(self.sampled_codes), self.population)


def import_projects(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    data: bytes | Path | str,
    filename: str,
    sheet: str | None = None,
) -> ImportReport:
    """Office imports any department's rows; a department only its own. Existing codes are updated."""
    return import_file(
        session,
        actor=actor,
        at=at,
        campaign_code=campaign_code,
        kind="projects",
        data=data,
        filename=filename,
        sheet=sheet,
    )


def list_projects(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> list[ProjectDTO]:
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="project.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="项目",
        reason="责任部门只能查看本部门的项目。",
    )
    campaign = get_campaign(session, campaign_code)
    q = (
        select(Project, Department.code)
        .join(Department, Department.id == Project.department_id)
        .where(Project.campaign_id == campaign.id)
    )
    if department_code:
        q = q.where(Department.code == department_code)
    return [
        ProjectDTO(
            p.code,
            p.name,
            d,
            p.tender_on,
            p.amount_wan,
            p.winner,
            [b for b in (p.bidders or "").split("、") if b],
            bool(p.sampled),
        )
        for p, d in session.execute(q.order_by(Project.code))
    ]


def _sampling_phase(session: Session, campaign_id: int, phase_key: str) -> Phase:
    phase = session.scalar(select(Phase).where(Phase.campaign_id == campaign_id, Phase.key == phase_key))
    if phase is None:
        raise NotFound(f"抽查阶段 {phase_key!r} 不存在")
    return phase


def _template(session: Session, campaign_id: int, phase: Phase) -> int:
    tid = session.scalar(
        select(TaskTemplate.id).where(TaskTemplate.campaign_id == campaign_id, TaskTemplate.key == SAMPLE_TEMPLATE_KEY)
    )
    if tid is None:
        t = TaskTemplate(
            campaign_id=campaign_id,
            key=SAMPLE_TEMPLATE_KEY,
            phase_id=phase.id,
            title="重点核查抽取项目核查情况",
            deliverable="report",
            review_required=True,
            recurring_day=None,
        )
        session.add(t)
        session.flush()
        tid = t.id
    return tid


def draw_verification_samples(session: Session, campaign_code: str, as_of: dt.date) -> int:
    """Draw each department's sample (idempotent); returns the verification assignments created.

    Runs only once the sampling phase has started. A department whose register arrives later is
    drawn on the first tick after; a register that grows after its draw is topped up in a further
    round so the sampled share never falls below the ratio. Earlier rounds are never redrawn: each
    round is recorded with its seed and the register it drew from, so it can be replayed.
    """
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    rule = spec.sampling
    if rule is None:
        return 0
    phase = _sampling_phase(session, campaign.id, rule.phase)
    if as_of < phase.start_on:
        return 0
    # Concurrent draws of one campaign queue here; each then reads the rounds the one before committed,
    # so a draw that raced another finds nothing left to draw instead of inserting the same round twice.
    lock_counter(session, campaign.id, "draw")
    cal = campaign_calendar(spec)
    due = cal.add_workdays(as_of, rule.due_working_days)
    rounds: dict[int, int] = {}
    already: dict[int, set[str]] = {}
    for dept_id, rnd, codes in session.execute(
        select(SampleDraw.department_id, SampleDraw.round, SampleDraw.sampled_codes).where(
            SampleDraw.campaign_id == campaign.id
        )
    ):
        rounds[dept_id] = max(rounds.get(dept_id, 0), rnd)
        already.setdefault(dept_id, set()).update(json.loads(codes))
    per_dept: dict[int, list[str]] = {}
    for dept_id, code in session.execute(
        select(Project.department_id, Project.code).where(Project.campaign_id == campaign.id)
    ):
        per_dept.setdefault(dept_id, []).append(code)
    dept_codes = dict(
        session.execute(select(Department.id, Department.code).where(Department.campaign_id == campaign.id))
        .tuples()
        .all()
    )
    scores: dict[str, float] | None = None
    if spec.risk is not None and per_dept:
        result = screen(session, campaign, spec.risk)[1]
        scores = {code: risk.score for code, risk in result.risks.items()}
    created = 0
    template_id: int | None = None
    for dept_id in sorted(per_dept):
        population = sorted(set(per_dept[dept_id]))
        risk_json = None
        if scores is None or spec.risk is None:
            chosen = sampling.top_up(
                population, already.get(dept_id, ()), float(rule.min_ratio), rule.seed, dept_codes[dept_id]
            )
        else:
            chosen, risk_json = _risk_round(
                population,
                scores,
                already.get(dept_id, set()),
                rule.min_ratio,
                rule.seed,
                dept_codes[dept_id],
                spec.risk,
            )
        if not chosen:
            continue
        rnd = rounds.get(dept_id, 0) + 1
        session.add(
            SampleDraw(
                campaign_id=campaign.id,
                department_id=dept_id,
                seed=rule.seed,
                round=rnd,
                min_ratio=rule.min_ratio,
                population=len(population),
                population_codes=json.dumps(population, ensure_ascii=False),
                sampled_codes=json.dumps(chosen, ensure_ascii=False),
                drawn_on=as_of,
                risk_json=json.dumps(risk_json, ensure_ascii=False) if risk_json else None,
            )
        )
        session.execute(
            update(Project)
            .where(Project.campaign_id == campaign.id, Project.code.in_(chosen))
            .values(sampled=True)
            .execution_options(synchronize_session=False)
        )
        template_id = template_id or _template(session, campaign.id, phase)
        existing = set(
            session.scalars(
                select(Assignment.period).where(
                    Assignment.template_id == template_id, Assignment.department_id == dept_id
                )
            )
        )
        rows = [
            {
                "campaign_id": campaign.id,
                "template_id": template_id,
                "department_id": dept_id,
                "phase_id": phase.id,
                "period": code,
                "is_lead": False,
                "opens_on": as_of,
                "due_on": due,
                "nominal_due_on": due,
                "review_required": True,
                "status": AssignmentStatus.open.value,
                "overdue_days": 0,
                "escalation_level": 0,
                "version": 1,
            }
            for code in chosen
            if code not in existing
        ]
        if rows:
            session.execute(insert(Assignment), rows)
        created += len(rows)
        session.flush()
        audit.record(
            session,
            at=dt.datetime.combine(as_of, dt.time(), dt.UTC),
            actor=SYSTEM,
            action="sampling.draw",
            entity="sample_draw",
            entity_key=f"{campaign_code}/{dept_codes[dept_id]}/{rnd}",
            after={
                "seed": rule.seed,
                "min_ratio": float(rule.min_ratio),
                "round": rnd,
                "population": len(population),
                "sampled": chosen,
                "due_on": str(due),
                **({"reasons": risk_json["picks"]} if risk_json else {}),
            },
        )
    return created


def _risk_round(
    population: list[str],
    scores: dict[str, float],
    already: set[str],
    min_ratio: float,
    seed: int,
    department_code: str,
    settings: RiskSection,
) -> tuple[list[str], dict | None]:
    """A risk-weighted round over one department's register: the codes drawn and the record that replays it."""
    recorded = {code: scores[code] for code in population if scores.get(code, 0.0) > 0}
    picks = draw_department(
        [Candidate(code, recorded.get(code, 0.0)) for code in population],
        float(min_ratio),
        seed,
        department_code,
        always_score=settings.draw_always_score,
        base_weight=settings.draw_base_weight,
        already_sampled=already,
    )
    if not picks:
        return [], None
    return [p.project_code for p in picks], {
        "method": "risk",
        "always_score": settings.draw_always_score,
        "base_weight": settings.draw_base_weight,
        "scores": recorded,
        "picks": [
            {
                "code": p.project_code,
                "reason": p.reason.value,
                "score": p.score,
                "why": p.explanation(settings.draw_always_score, settings.draw_base_weight),
            }
            for p in picks
        ],
    }


def _replay(record: dict, population: list[str], prior: list[str], min_ratio: float, seed: int, dept: str) -> list[str]:
    scores: dict[str, float] = record.get("scores", {})
    picks = draw_department(
        [Candidate(code, float(scores.get(code, 0.0))) for code in population],
        min_ratio,
        seed,
        dept,
        always_score=float(record["always_score"]),
        base_weight=float(record["base_weight"]),
        already_sampled=prior,
    )
    return [p.project_code for p in picks]


def list_draws(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> list[DrawDTO]:
    """Every draw round with its seed (office and leaders; a department sees its own)."""
    actor = resolve(session, actor, at=at)
    own = department_scope(
        actor=actor,
        at=at,
        action="sampling.list",
        campaign_code=campaign_code,
        department_code=None,
        what="抽查记录",
        reason="责任部门只能查看本部门的抽查记录。",
    )
    campaign = get_campaign(session, campaign_code)
    q = (
        select(SampleDraw, Department.code)
        .join(Department, Department.id == SampleDraw.department_id)
        .where(SampleDraw.campaign_id == campaign.id)
    )
    if own is not None:
        q = q.where(Department.code == own)
    out: list[DrawDTO] = []
    total: dict[str, int] = {}
    for d, code in session.execute(q.order_by(Department.code, SampleDraw.round)):
        sampled = json.loads(d.sampled_codes)
        total[code] = total.get(code, 0) + len(sampled)
        record = json.loads(d.risk_json) if d.risk_json else None
        out.append(
            DrawDTO(
                code,
                d.seed,
                float(d.min_ratio),
                d.population,
                sampled,
                d.drawn_on,
                d.round,
                total[code],
                json.loads(d.population_codes) if d.population_codes else None,
                {p["code"]: (DRAW_REASON.label(DrawReason(p["reason"])), float(p["score"])) for p in record["picks"]}
                if record
                else None,
                record,
            )
        )
    return out


def verify_draws(session: Session, *, actor: Actor, campaign_code: str) -> list[tuple[str, bool]]:
    """Re-run each recorded round from its seed over the register it drew from; (department, same result?)."""
    actor = resolve(session, actor)
    check(
        can_administer(actor) or actor.role == Role.leader,
        actor=actor,
        at=None,
        action="sampling.verify",
        entity="campaign",
        entity_key=campaign_code,
        label="复核抽查结果",
    )
    campaign = get_campaign(session, campaign_code)
    out = []
    earlier: dict[str, list[str]] = {}
    for d in list_draws(session, actor=actor, campaign_code=campaign_code):
        population = d.population_codes
        if population is None:  # recorded before rounds existed: the register as it stands
            population = list(
                session.scalars(
                    select(Project.code)
                    .join(Department, Department.id == Project.department_id)
                    .where(Project.campaign_id == campaign.id, Department.code == d.department_code)
                )
            )
        prior = earlier.setdefault(d.department_code, [])
        if d.risk_record is not None:
            again = _replay(d.risk_record, population, prior, d.min_ratio, d.seed, d.department_code)
        else:
            again = sampling.top_up(population, prior, d.min_ratio, d.seed, d.department_code)
        out.append((d.department_code, again == d.sampled_codes))
        prior.extend(d.sampled_codes)
    return out


def sampled_ratio(session: Session, campaign_code: str) -> dict[str, tuple[int, int]]:
    """department code -> (sampled, supervised)."""
    campaign = get_campaign(session, campaign_code)
    rows = session.execute(
        select(Department.code, Project.sampled)
        .join(Department, Department.id == Project.department_id)
        .where(Project.campaign_id == campaign.id)
    )
    out: dict[str, list[int]] = {}
    for code, sampled_flag in rows:
        entry = out.setdefault(code, [0, 0])
        entry[1] += 1
        entry[0] += 1 if sampled_flag else 0
    return {k: (v[0], v[1]) for k, v in out.items()}


__all__ = [
    "DrawDTO",
    "ImportReport",
    "ProjectDTO",
    "draw_verification_samples",
    "import_projects",
    "list_draws",
    "list_projects",
    "sampled_ratio",
    "verify_draws",
]
