"""The bid register in the store: its import (all or nothing) and its load as the pure `domain.risk.register.Register`
the rules read.

An import carries one 公共资源交易平台 export (exchange.bids: a row per bid). Projects are upserted by code — the
old register's columns kept filled (tender date, amount in 万元, winner, bidders) so every older view reads them —
and each project in the file has its bids and evaluation experts replaced by the file's: the export is the record.
The office imports any department's projects; a department only its own (like the project register).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from domain.access import Actor, Role, can_administer
from domain.errors import Invalid, NotFound, RowsRejected
from domain.localtime import local_day
from domain.project import TenderMethod
from domain.risk import register as pure
from domain.risk.register import AwardCriterion
from domain.risk.similarity import document_signature
from exchange.bids import BidRow, read_bids
from exchange.errors import ImportProblem, ImportRejected, RowError
from exchange.parsing import key_form
from services.campaigns import get_campaign, register_stamp, stamp_register
from services.guard import check, fail, resolve
from store import audit
from store.models import Bid, Campaign, Department, EvaluationExpert, Project
from store.sql import delete_by_ids

ACTION, ENTITY = "bid.import", "bid_register"
WAN = Decimal(10000)


@dataclass(frozen=True)
class BidImportReport:
    projects_added: int
    projects_updated: int
    bids: int
    experts: int

    def lines(self) -> list[str]:
        return [
            f"投标记录导入完成：新增项目 {self.projects_added} 个，更新项目 {self.projects_updated} 个，"
            f"投标 {self.bids} 条，评标专家 {self.experts} 人次"
        ]


def import_bids(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    data: bytes | Path | str,
    filename: str,
    sheet: str | None = None,
) -> BidImportReport:
    """Import one bid-register file into a campaign; the caller commits (or rolls everything back)."""
    actor = resolve(session, actor, at=at)
    key = f"{campaign_code}/{filename}"
    check(
        can_administer(actor) or (actor.role == Role.department and actor.campaign_code == campaign_code),
        actor=actor,
        at=at,
        action=ACTION,
        entity=ENTITY,
        entity_key=key,
        label="导入投标记录",
        reason="只有牵头办公室和责任部门可以导入投标记录。",
    )
    try:
        campaign = get_campaign(session, campaign_code)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action=ACTION, entity=ENTITY, entity_key=key)
    departments = {
        key_form(d.code): d
        for d in session.scalars(
            select(Department).where(Department.campaign_id == campaign.id, Department.active.is_(True))
        )
    }
    context = {"known_department_codes": [d.code for d in departments.values()], "today": local_day(at)}
    try:
        rows, errors = read_bids(data, filename=filename, sheet=sheet, context=context)
    except ImportProblem as exc:
        fail(Invalid(str(exc)), actor=actor, at=at, action=ACTION, entity=ENTITY, entity_key=key)
    existing = {p.code: p for p in session.scalars(select(Project).where(Project.campaign_id == campaign.id))}
    owner = {d.id: d.code for d in departments.values()}
    if actor.role == Role.department:
        foreign = _foreign_rows(rows, departments, existing, owner, actor)
        check(
            not foreign,
            actor=actor,
            at=at,
            action=ACTION,
            entity=ENTITY,
            entity_key=key,
            label="导入其他部门的项目",
            reason="；".join(f"第 {e.row_number} 行{e.message}" for e in foreign[:20]),
        )
    if errors:
        rejected = ImportRejected(filename, errors)
        fail(
            RowsRejected(str(rejected), rejected.errors),
            actor=actor,
            at=at,
            action=ACTION,
            entity=ENTITY,
            entity_key=key,
        )
    report = _apply(session, campaign, rows, departments, existing)
    audit.record(
        session,
        at=at,
        actor=actor,
        action=ACTION,
        entity=ENTITY,
        entity_key=key,
        after={
            "projects_added": report.projects_added,
            "projects_updated": report.projects_updated,
            "bids": report.bids,
            "experts": report.experts,
            "projects": sorted({r.project_code for _, r in rows})[:500],
        },
    )
    return report


def _foreign_rows(
    rows: list[tuple[int, BidRow]],
    departments: dict[str, Department],
    existing: dict[str, Project],
    owner: dict[int, str],
    actor: Actor,
) -> list[RowError]:
    errors = []
    for number, row in rows:
        dept = departments.get(key_form(row.regulator_code))
        if dept is not None and dept.code != actor.department_code:
            errors.append(
                RowError(row_number=number, column="监管部门代码", message="不属于本部门，部门只能导入本部门的项目")
            )
        elif (
            row.project_code in existing
            and owner.get(existing[row.project_code].department_id) != actor.department_code
        ):
            errors.append(
                RowError(
                    row_number=number, column="项目编号", message=f"项目 {row.project_code} 属于其他部门，不能改动"
                )
            )
    return errors


def _apply(
    session: Session,
    campaign: Campaign,
    rows: list[tuple[int, BidRow]],
    departments: dict[str, Department],
    existing: dict[str, Project],
) -> BidImportReport:
    by_project: dict[str, list[BidRow]] = defaultdict(list)
    for _n, row in rows:
        by_project[row.project_code].append(row)
    added = updated = experts_total = 0
    projects: dict[str, Project] = {}
    for code, bids in by_project.items():
        project = existing.get(code)
        if project is None:
            project = Project(campaign_id=campaign.id, code=code, sampled=False)
            session.add(project)
            added += 1
        else:
            updated += 1
        _fill_project(project, bids, departments)
        projects[code] = project
    session.flush()
    ids = [p.id for p in projects.values()]
    delete_by_ids(session, Bid, ids, column="project_id")
    delete_by_ids(session, EvaluationExpert, ids, column="project_id")
    bid_rows = []
    expert_rows = []
    for code, bids in by_project.items():
        project = projects[code]
        for row in bids:
            bid_rows.append(
                {
                    "campaign_id": campaign.id,
                    "project_id": project.id,
                    "bidder_code": row.bidder_code,
                    "bidder_name": row.bidder_name,
                    "price": row.price,
                    "valid": row.valid is not False,
                    "disqualify_reason": row.disqualify_reason or "",
                    "received_at": row.received_at,
                    "ip": row.ip,
                    "mac": row.mac,
                    "document_hash": row.document_hash,
                    "document_author": row.document_author,
                    "deposit_account": row.deposit_account,
                    "project_manager": row.project_manager,
                    "document_signature": _signature(row.document_text),
                }
            )
        experts = dict.fromkeys(e for row in bids for e in row.experts)
        expert_rows += [{"project_id": project.id, "expert": e} for e in experts]
        experts_total += len(experts)
    if bid_rows:
        session.execute(insert(Bid), bid_rows)
    if expert_rows:
        session.execute(insert(EvaluationExpert), expert_rows)
    session.flush()
    stamp_register(session, campaign.id)
    return BidImportReport(added, updated, len(bid_rows), experts_total)


def _signature(text: str | None) -> str | None:
    """The MinHash signature of a bid's text (the text itself is not kept)."""
    signature = document_signature(text) if text else None
    return json.dumps(list(signature)) if signature else None


def _first(bids: list[BidRow], name: str) -> object:
    return next((getattr(b, name) for b in bids if getattr(b, name) is not None), None)


def _fill_project(project: Project, bids: list[BidRow], departments: dict[str, Department]) -> None:
    head = bids[0]
    winner = next((b for b in bids if b.winner), None)
    notice = _first(bids, "notice_date")
    estimated = _first(bids, "estimated_price")
    award_price = _first(bids, "award_price")
    criterion = _first(bids, "award_criterion")
    project.name = head.project_name
    project.department_id = departments[key_form(head.regulator_code)].id
    project.procedure = head.procedure.value
    project.notice_on = notice  # type: ignore[assignment]
    project.bid_deadline_at = _first(bids, "bid_deadline")  # type: ignore[assignment]
    project.award_on = _first(bids, "award_date")  # type: ignore[assignment]
    project.estimated_price = estimated  # type: ignore[assignment]
    project.award_price = award_price if award_price is not None else (winner.price if winner else None)  # type: ignore[assignment]
    project.award_criterion = criterion.value if isinstance(criterion, AwardCriterion) else None
    project.tenderer = _first(bids, "tenderer")  # type: ignore[assignment]
    project.agent = _first(bids, "agent")  # type: ignore[assignment]
    project.winner_code = winner.bidder_code if winner else None
    # The old register's columns, so the project list, the draw and the reports read the project as before.
    project.tender_on = notice or project.tender_on  # type: ignore[assignment]
    if isinstance(estimated, Decimal):
        project.amount_wan = (estimated / WAN).quantize(Decimal("0.01"))
    project.winner = winner.bidder_name if winner else None
    project.bidders = "、".join(dict.fromkeys(b.bidder_name for b in bids))


# --- the register as the rules read it ------------------------------------------------------------------------


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


# Registers loaded lately, by (campaign id, register stamp): the weekly screening of an unchanged register reads
# it once. Small registers only — a province's (hundreds of thousands of bids) would stay in a long-lived
# process's memory, and its scan costs far more than its load anyway.
_LOADED: OrderedDict[tuple[int, int], pure.Register] = OrderedDict()
_LOADED_KEEP = 4
CACHED_BIDS = 20_000


def load_register(session: Session, campaign_id: int) -> pure.Register:
    """The campaign's bid register as domain values (projects without bids included: the rules skip them): the
    same object again while its stamp (services.campaigns.stamp_register) is unchanged."""
    stamp = register_stamp(session, campaign_id)
    key = (campaign_id, stamp) if stamp is not None else None
    if key is not None and key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    register = _read_register(session, campaign_id)
    if key is not None and register.bid_count <= CACHED_BIDS:
        _LOADED[key] = register
        while len(_LOADED) > _LOADED_KEEP:
            _LOADED.popitem(last=False)
    return register


def _read_register(session: Session, campaign_id: int) -> pure.Register:
    departments = dict(
        session.execute(select(Department.id, Department.code).where(Department.campaign_id == campaign_id))
        .tuples()
        .all()
    )
    code_of: dict[int, str] = {}
    projects = []
    for p in session.scalars(select(Project).where(Project.campaign_id == campaign_id).order_by(Project.code)):
        code_of[p.id] = p.code
        projects.append(
            pure.Project(
                code=p.code,
                name=p.name,
                department_code=departments.get(p.department_id, ""),
                procedure=TenderMethod(p.procedure) if p.procedure else TenderMethod.open,
                notice_date=p.notice_on,
                bid_deadline=p.bid_deadline_at,
                award_date=p.award_on,
                estimated_price=_float(p.estimated_price),
                award_criterion=AwardCriterion(p.award_criterion)
                if p.award_criterion
                else AwardCriterion.comprehensive,
                tenderer=p.tenderer or "",
                agent=p.agent or "",
                winner_code=p.winner_code,
                award_price=_float(p.award_price),
            )
        )
    columns = (
        Bid.project_id,
        Bid.bidder_code,
        Bid.bidder_name,
        Bid.price,
        Bid.valid,
        Bid.disqualify_reason,
        Bid.received_at,
        Bid.ip,
        Bid.mac,
        Bid.document_hash,
        Bid.document_author,
        Bid.deposit_account,
        Bid.project_manager,
        Bid.document_signature,
    )
    # Plain rows, not ORM objects: a province's register has hundreds of thousands of bids.
    bids = [
        pure.Bid(
            code_of[project_id],
            bidder_code,
            bidder_name,
            _float(price),
            valid,
            reason,
            received_at,
            ip,
            mac,
            document_hash,
            author,
            account,
            manager,
            tuple(json.loads(signature)) if signature else None,
        )
        for (
            project_id,
            bidder_code,
            bidder_name,
            price,
            valid,
            reason,
            received_at,
            ip,
            mac,
            document_hash,
            author,
            account,
            manager,
            signature,
        ) in session.execute(select(*columns).where(Bid.campaign_id == campaign_id).order_by(Bid.id))
    ]
    experts: dict[str, list[str]] = defaultdict(list)
    for project_id, expert in session.execute(
        select(EvaluationExpert.project_id, EvaluationExpert.expert)
        .join(Project, Project.id == EvaluationExpert.project_id)
        .where(Project.campaign_id == campaign_id)
        .order_by(EvaluationExpert.id)
    ):
        experts[code_of[project_id]].append(expert)
    evaluations = [pure.Evaluation(code, tuple(names)) for code, names in experts.items()]
    return pure.Register.build(projects, bids, evaluations)


def store_register(
    session: Session, campaign: Campaign, register: pure.Register, department_ids: dict[str, int]
) -> int:
    """Write a generated register (the demo's planted rings) straight into the store; returns bids written.
    Projects already in the campaign are left alone. `department_ids`: department code → id."""
    have = set(session.scalars(select(Project.code).where(Project.campaign_id == campaign.id)))
    fresh = [p for p in register.projects if p.code not in have and p.department_code in department_ids]
    names = register.bidder_names()
    for p in fresh:
        bids = register.bids(p.code)
        session.add(
            Project(
                campaign_id=campaign.id,
                code=p.code,
                name=p.name,
                department_id=department_ids[p.department_code],
                tender_on=p.notice_date,
                amount_wan=(Decimal(str(p.estimated_price)) / WAN).quantize(Decimal("0.01"))
                if p.estimated_price
                else None,
                winner=names.get(p.winner_code or ""),
                bidders="、".join(b.bidder_name for b in bids),
                sampled=False,
                procedure=p.procedure.value,
                notice_on=p.notice_date,
                bid_deadline_at=p.bid_deadline,
                award_on=p.award_date,
                estimated_price=_decimal(p.estimated_price),
                award_price=_decimal(p.award_price),
                award_criterion=p.award_criterion.value,
                tenderer=p.tenderer or None,
                agent=p.agent or None,
                winner_code=p.winner_code,
            )
        )
    session.flush()
    ids = dict(
        session.execute(select(Project.code, Project.id).where(Project.campaign_id == campaign.id)).tuples().all()
    )
    rows = [
        {
            "campaign_id": campaign.id,
            "project_id": ids[b.project_code],
            "bidder_code": b.bidder_code,
            "bidder_name": b.bidder_name,
            "price": _decimal(b.price),
            "valid": b.valid,
            "disqualify_reason": b.disqualify_reason,
            "received_at": b.received_at,
            "ip": b.ip,
            "mac": b.mac,
            "document_hash": b.document_hash,
            "document_author": b.document_author,
            "deposit_account": b.deposit_account,
            "project_manager": b.project_manager,
            "document_signature": json.dumps(list(b.document_signature)) if b.document_signature else None,
        }
        for p in fresh
        for b in _unique_bidders(register.bids(p.code))
    ]
    if rows:
        session.execute(insert(Bid), rows)
    experts = [
        {"project_id": ids[p.code], "expert": e}
        for p in fresh
        if p.code in register.evaluations
        for e in dict.fromkeys(register.evaluations[p.code].experts)
    ]
    if experts:
        session.execute(insert(EvaluationExpert), experts)
    session.flush()
    stamp_register(session, campaign.id)
    return len(rows)


def _unique_bidders(bids: Iterable[pure.Bid]) -> list[pure.Bid]:
    seen: dict[str, pure.Bid] = {}
    for bid in bids:
        seen.setdefault(bid.bidder_code, bid)
    return list(seen.values())


def _decimal(value: float | None) -> Decimal | None:
    return Decimal(str(round(value, 2))) if value is not None else None
