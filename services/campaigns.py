"""Launch a campaign, or apply a changed YAML to a live one without losing submitted work."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

from sqlalchemy import (
    ScalarSelect,
    Table,
    Update,
    and_,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from domain.access import Actor, can_administer
from domain.assignment import AssignmentStatus, PhaseState
from domain.errors import NotFound
from domain.plan import CampaignPlan, PlanChange, build_plan, diff_plan
from domain.spec import SAMPLE_TEMPLATE_KEY, CampaignSpec
from services.guard import check, resolve
from services.holidays import campaign_calendar
from store import audit
from store.models import (
    Assignment,
    Campaign,
    CampaignCounter,
    Department,
    Phase,
    SpecVersion,
    TaskTemplate,
    UTCDateTime,
)
from store.sql import OF_CAMPAIGN, ROWS_PER_STATEMENT, delete_by_ids, insert_ignoring_duplicates, update_by_ids


class CampaignNotFound(NotFound):
    def __init__(self, code: str):
        super().__init__(f"没有编号为 {code!r} 的专项行动（先用 `campaign launch 文件.yaml` 启动）")


@dataclass(frozen=True)
class LaunchReport:
    campaign_code: str
    created: bool
    departments_added: tuple[str, ...] = ()
    departments_retired: tuple[str, ...] = ()
    assignments_added: int = 0
    assignments_removed: int = 0  # deleted before any work started
    assignments_cancelled: int = 0  # kept for the record: work had started
    deadlines_moved: tuple[tuple[str, str, str, str, str], ...] = field(default=())  # key parts, old, new
    unchanged: bool = False

    def lines(self) -> list[str]:
        if self.unchanged:
            return [f"专项行动 {self.campaign_code} 与 YAML 一致，无需变更。"]
        head = "新建专项行动" if self.created else "更新专项行动"
        out = [f"{head} {self.campaign_code}：新增任务 {self.assignments_added} 项"]
        if self.departments_added:
            out.append(f"  新增部门 {_count_and_first(self.departments_added)}")
        if self.departments_retired:
            out.append(f"  移出部门 {_count_and_first(self.departments_retired)}（已提交的材料保留）")
        if self.assignments_removed:
            out.append(f"  删除尚未开始的任务 {self.assignments_removed} 项")
        if self.assignments_cancelled:
            out.append(f"  撤销已开始的任务 {self.assignments_cancelled} 项（保留记录）")
        for template, dept, period, old, new in self.deadlines_moved[:20]:
            out.append(f"  截止日期调整：{template}/{dept}{'/' + period if period else ''} {old} → {new}")
        if len(self.deadlines_moved) > 20:
            out.append(f"  ……另有 {len(self.deadlines_moved) - 20} 项截止日期调整")
        return out


def _count_and_first(names: tuple[str, ...], shown: int = 5) -> str:
    """A count and the first few names (2,000 个：省联席办、第1责任单位 …): a national launch adds
    tens of thousands of departments, and these lines go to the terminal, the dashboard and the audit."""
    more = " …" if len(names) > shown else ""
    return f"{len(names):,} 个：{'、'.join(names[:shown])}{more}"


def spec_digest(spec: CampaignSpec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()


@lru_cache(maxsize=32)
def _spec_from_json(spec_json: str) -> CampaignSpec:
    return CampaignSpec.model_validate_json(spec_json)


_CAMPAIGN_BY_CODE = select(Campaign).where(Campaign.code == bindparam("code"))  # built once: every step asks
_CAMPAIGN_IDS = "campaign_ids"  # session.info key: code -> id, for this unit of work


def get_campaign(session: Session, code: str) -> Campaign:
    """The campaign by its code. A unit of work asks this dozens of times (every step and service does):
    after the first query the row comes from the session's identity map, the same object the query would
    have returned, without re-reading its stored spec (a code never changes)."""
    ids: dict[str, int] = session.info.setdefault(_CAMPAIGN_IDS, {})
    known = ids.get(code)
    campaign = session.get(Campaign, known) if known is not None else None
    if campaign is None:
        campaign = session.scalar(_CAMPAIGN_BY_CODE, {"code": code})
        if campaign is None:
            raise CampaignNotFound(code)
        ids[code] = campaign.id
    return campaign


def stored_spec(campaign: Campaign) -> CampaignSpec:
    """The spec the campaign runs on (the stored copy, so ticks never depend on the YAML file)."""
    return _spec_from_json(campaign.spec_json)


COUNTER = cast(Table, CampaignCounter.__table__)


def _counter(session: Session, campaign_id: int, name: str, first: ScalarSelect[int] | int) -> None:
    """Create the counter row if it is missing (concurrent creators: one wins, the others do nothing)."""
    start = first if isinstance(first, ScalarSelect) else literal(first)
    insert_ignoring_duplicates(
        session,
        COUNTER,
        ["campaign_id", "name", "value"],
        select(literal(campaign_id), literal(name), start),
        ["campaign_id", "name"],
    )


# The counter's changes, built once (every tick step that numbers or draws takes one), each returning the value.
_COUNTER_ROW = and_(COUNTER.c.campaign_id == OF_CAMPAIGN, COUNTER.c.name == bindparam("counter"))
_ADD = update(COUNTER).where(_COUNTER_ROW).values(value=COUNTER.c.value + bindparam("by")).returning(COUNTER.c.value)
_SET = update(COUNTER).where(_COUNTER_ROW).values(value=bindparam("to")).returning(COUNTER.c.value)
_VALUE = select(COUNTER.c.value).where(_COUNTER_ROW)


def _change_counter(
    session: Session,
    campaign_id: int,
    name: str,
    first: ScalarSelect[int] | int,
    change: Update,
    values: dict[str, object],
) -> int:
    """Apply `change` to the counter row, creating the row first when it is missing (only then: a row
    that exists costs one statement). The UPDATE's row lock is held until the caller commits."""
    params = {OF_CAMPAIGN.key: campaign_id, "counter": name, **values}
    value = session.execute(change, params).scalar()
    if value is None:
        _counter(session, campaign_id, name, first)
        value = session.execute(change, params).scalar_one()
    return int(value)


def take_number(session: Session, campaign_id: int, name: str, first: ScalarSelect[int] | int = 0) -> int:
    """The next number of a per-campaign counter (1, 2, …; a new counter starts after `first`).

    UPDATE … RETURNING: on PostgreSQL the row lock makes a concurrent taker wait for this
    transaction and then read the committed value; on SQLite the write lock does the same. The
    lock is held until the caller commits, so a code built from the number is unique."""
    return _change_counter(session, campaign_id, name, first, _ADD, {"by": 1})


def take_numbers(session: Session, campaign_id: int, name: str, count: int) -> int:
    """Reserve `count` consecutive numbers of a per-campaign counter in one statement and return the
    first (a set-based step numbering many rows at once); locked like `take_number`."""
    return _change_counter(session, campaign_id, name, 0, _ADD, {"by": count}) - count + 1


def lock_counter(session: Session, campaign_id: int, name: str) -> None:
    """Hold a per-campaign counter row until the caller commits: concurrent holders of the same
    row queue, and each then reads what the one before it committed (a sampling draw, a chosen code)."""
    _change_counter(session, campaign_id, name, 0, _ADD, {"by": 0})


REGISTER_STAMP = "register-stamp"  # the counter row a write of the campaign's bid register sets afresh


def stamp_register(session: Session, campaign_id: int) -> None:
    """A write of the campaign's projects, bids or evaluation experts sets this row to a new random value in the
    same transaction, so a register loaded under the old value (services.risk.register) is not used again. Random,
    not counted: a database restored from a copy never shows a value that stood for another register."""
    # the column is a 32-bit integer on PostgreSQL
    _change_counter(session, campaign_id, REGISTER_STAMP, 0, _SET, {"to": secrets.randbelow(2**31 - 1) + 1})


def register_stamp(session: Session, campaign_id: int) -> int | None:
    """The value the last write of the campaign's register set (None: not written since the stamp was kept)."""
    return session.scalar(_VALUE, {OF_CAMPAIGN.key: campaign_id, "counter": REGISTER_STAMP})


def list_campaign_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Campaign.code).order_by(Campaign.start_on.desc())))


def store_spec(session: Session, spec: CampaignSpec, *, actor: Actor, at: dt.datetime) -> str:
    """Keep a spec for a launch to come, once per (campaign, digest), and return its digest: the
    launch flow takes the campaign code and this digest as parameters, never the spec itself."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="campaign.spec",
        entity="campaign",
        entity_key=spec.id,
        label="提交专项行动方案",
    )
    digest = spec_digest(spec)
    source = select(literal(spec.id), literal(digest), literal(spec.model_dump_json()), literal(at, UTCDateTime))
    versions = cast(Table, SpecVersion.__table__)
    columns = ["campaign_code", "sha256", "spec_json", "stored_at"]
    if insert_ignoring_duplicates(session, versions, columns, source, ["campaign_code", "sha256"]):
        audit.record(
            session,
            at=at,
            actor=actor,
            action="campaign.spec",
            entity="campaign",
            entity_key=spec.id,
            after={"sha256": digest},
        )
    return digest


def stored_version(session: Session, campaign_code: str, sha256: str) -> CampaignSpec:
    """A spec kept by store_spec (NotFound when there is none: a launch must store it first)."""
    spec_json = session.scalar(
        select(SpecVersion.spec_json).where(SpecVersion.campaign_code == campaign_code, SpecVersion.sha256 == sha256)
    )
    if spec_json is None:
        raise NotFound(f"专项行动 {campaign_code} 没有摘要为 {sha256[:12]}… 的方案（先提交方案再启动）")
    return _spec_from_json(spec_json)


def launch(
    session: Session, spec: CampaignSpec, *, actor: Actor, at: dt.datetime, source_path: str | None = None
) -> LaunchReport:
    """Create or reconcile; the caller commits (or, for a dry run, lets the unit of work roll back)."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="campaign.launch",
        entity="campaign",
        entity_key=spec.id,
        label="启动或变更专项行动",
    )
    plan = build_plan(spec, campaign_calendar(spec))
    campaign = session.scalar(select(Campaign).where(Campaign.code == spec.id))
    created = campaign is None
    if campaign is None:
        campaign = Campaign(code=spec.id, launched_at=at, spec_sha256="", spec_json="")
        session.add(campaign)
    elif campaign.spec_sha256 == spec_digest(spec):
        return LaunchReport(spec.id, created=False, unchanged=True)
    campaign.title, campaign.issuer = spec.title, spec.issuer
    campaign.start_on, campaign.end_on = spec.start, spec.end
    campaign.spec_json, campaign.spec_sha256 = spec.model_dump_json(), spec_digest(spec)
    campaign.source_path, campaign.updated_at = source_path, at
    session.flush()

    added_depts, retired = _sync_departments(session, campaign.id, spec)
    phase_ids = _sync_phases(session, campaign.id, spec)
    template_ids = _sync_templates(session, campaign.id, plan, phase_ids)
    dept_ids = dict(
        session.execute(select(Department.code, Department.id).where(Department.campaign_id == campaign.id))
        .tuples()
        .all()
    )
    synced = _sync_assignments(session, campaign.id, plan, template_ids, dept_ids, phase_ids)
    report = LaunchReport(spec.id, created, tuple(added_depts), tuple(retired), *synced)
    audit.record(
        session,
        at=at,
        actor=actor,
        action="campaign.launch" if created else "campaign.apply",
        entity="campaign",
        entity_key=spec.id,
        after={"sha256": campaign.spec_sha256, "source": source_path, "summary": report.lines()},
    )
    return report


def _sync_departments(session: Session, campaign_id: int, spec: CampaignSpec) -> tuple[list[str], list[str]]:
    existing = {d.code: d for d in session.scalars(select(Department).where(Department.campaign_id == campaign_id))}
    added: list[str] = []
    for d in spec.departments:
        row = existing.get(d.code)
        if row is None:
            row = Department(campaign_id=campaign_id, code=d.code)
            session.add(row)
            added.append(d.name)
        row.name, row.kind, row.tags = d.name, d.kind.value, "、".join(d.tags)
        row.contact_name, row.contact_phone, row.contact_email = d.contact.name, d.contact.phone, d.contact.email
        row.is_office = d.code == spec.office
        row.active = True
    wanted = {d.code for d in spec.departments}
    retired = []
    for code, row in existing.items():
        if code not in wanted and row.active:
            row.active = False
            retired.append(row.name)
    session.flush()
    return added, retired


def _sync_phases(session: Session, campaign_id: int, spec: CampaignSpec) -> dict[str, int]:
    existing = {p.key: p for p in session.scalars(select(Phase).where(Phase.campaign_id == campaign_id))}
    for i, p in enumerate(spec.phases):
        row = existing.get(p.key)
        if row is None:
            row = Phase(campaign_id=campaign_id, key=p.key, state=PhaseState.pending.value)
            session.add(row)
            existing[p.key] = row
        row.kind, row.title, row.start_on, row.end_on, row.ordinal = p.kind.value, p.label, p.start, p.end, i
    session.flush()
    return {k: row.id for k, row in existing.items()}


def _sync_templates(
    session: Session, campaign_id: int, plan: CampaignPlan, phase_ids: dict[str, int]
) -> dict[str, int]:
    existing = {t.key: t for t in session.scalars(select(TaskTemplate).where(TaskTemplate.campaign_id == campaign_id))}
    for t in plan.templates:
        row = existing.get(t.key)
        if row is None:
            row = TaskTemplate(campaign_id=campaign_id, key=t.key)
            session.add(row)
            existing[t.key] = row
        row.phase_id = phase_ids[t.phase_key] if t.phase_key else None
        row.title, row.deliverable = t.title, t.deliverable.value
        row.review_required, row.recurring_day = t.review_required, t.recurring_day
        row.every = t.every.value if t.every else None
        row.required_count, row.ongoing, row.reported_in = t.count, t.ongoing, "、".join(t.reported_in)
    session.flush()
    return {k: row.id for k, row in existing.items()}


def _sync_assignments(
    session: Session,
    campaign_id: int,
    plan: CampaignPlan,
    template_ids: dict[str, int],
    dept_ids: dict[str, int],
    phase_ids: dict[str, int],
) -> tuple[int, int, int, tuple[tuple[str, str, str, str, str], ...]]:
    template_keys = {v: k for k, v in template_ids.items()}
    dept_codes = {v: k for k, v in dept_ids.items()}
    rows = session.execute(
        select(
            Assignment.id,
            Assignment.template_id,
            Assignment.department_id,
            Assignment.period,
            Assignment.due_on,
            Assignment.original_due_on,
            Assignment.status,
        ).where(
            Assignment.campaign_id == campaign_id,
            Assignment.status != AssignmentStatus.cancelled.value,
            Assignment.template_id.not_in(  # the tick's sample assignments are not the YAML's to change
                [tid for key, tid in template_ids.items() if key == SAMPLE_TEMPLATE_KEY]
            ),
        )
    ).all()
    stored = {(template_keys[r.template_id], dept_codes[r.department_id], r.period): r for r in rows}
    # An extended assignment is compared by its planned deadline (original_due_on), not the approved one.
    change: PlanChange = diff_plan({k: r.original_due_on or r.due_on for k, r in stored.items()}, plan)

    for start in range(0, len(change.added), ROWS_PER_STATEMENT):  # chunks: a national launch adds ~1M rows
        session.execute(
            insert(Assignment),
            [
                {
                    "campaign_id": campaign_id,
                    "template_id": template_ids[a.template_key],
                    "department_id": dept_ids[a.department_code],
                    "phase_id": phase_ids[a.phase_key],
                    "period": a.period,
                    "is_lead": a.is_lead,
                    "opens_on": a.opens_on,
                    "due_on": a.due_on,
                    "nominal_due_on": a.nominal_due_on,
                    "review_required": a.review_required,
                    "batch": a.batch,
                    "ongoing": a.ongoing,
                    "status": AssignmentStatus.scheduled.value,
                    "overdue_days": 0,
                    "escalation_level": 0,
                    "version": 1,
                }
                for a in change.added[start : start + ROWS_PER_STATEMENT]
            ],
        )
    untouched = [stored[k].id for k in change.removed if stored[k].status == AssignmentStatus.scheduled.value]
    started = [stored[k].id for k in change.removed if stored[k].status != AssignmentStatus.scheduled.value]
    # A bounded IN list per statement: a national spec change drops tens of thousands (PostgreSQL refused one
    # statement of 66,000 ids when 3,300 of 33,000 departments were dropped).
    removed = delete_by_ids(session, Assignment, untouched)
    cancelled = update_by_ids(session, Assignment, started, status=AssignmentStatus.cancelled.value)
    planned = {a.natural_key: a for a in plan.assignments}
    for key, _old, _new in change.moved:
        a = planned[key]
        # the plan moves an extended assignment's original deadline; the approved extension stays (issue 13)
        deadline = {"original_due_on" if stored[key].original_due_on is not None else "due_on": a.due_on}
        session.execute(
            update(Assignment)
            .where(Assignment.id == stored[key].id)
            .values(
                **deadline,
                nominal_due_on=a.nominal_due_on,
                opens_on=a.opens_on,
                phase_id=phase_ids[a.phase_key],
                is_lead=a.is_lead,
                ongoing=a.ongoing,
            )
        )
    moved = tuple((k[0], k[1], k[2], str(old), str(new)) for k, old, new in change.moved)
    session.flush()
    return len(change.added), removed, cancelled, moved
