"""Imports of the four exchange tables — departments, users, supervised projects, leads — from .xlsx/.csv.

One way in: exchange.tabular reads the file (Chinese headers, spreadsheet row numbers, the sheet,
UTF-8 or GBK CSV) and validates every row; then each row goes to the service that owns it, in the
caller's transaction. All or nothing: every row is checked — by exchange and by the service rules —
before anything is written, and any bad row rejects the file with every bad row named
(services.errors.RowsRejected); a file that cannot be read at all is an Invalid with a plain message.

- departments: a campaign's departments live in its YAML spec. The import builds the updated spec
  (rows update departments by code and add new ones; departments not in the file stay; a blank
  optional cell keeps the department's current value) and applies it through
  services.campaigns.launch, exactly like applying a changed YAML — new departments get the tasks
  their kind and tags select. The report carries the updated YAML (`spec_yaml`): the campaign's own
  file with only its departments list rewritten, comments kept, when that file is still what runs;
  save it over the file, or the next `campaign launch` of the old file would retire the new
  departments again.
- users: services.users.add_user for new usernames (an empty 初始密码 gets a generated one, returned
  once in `passwords`), update_user for existing ones (their password is left alone).
- projects: the register, upserted here by project code (a department may import its own projects;
  services.projects.import_projects is this import under the register's name).
- leads: services.leads.intake_lead, then assign_lead to the 承办部门 with the row's time limit
  (default 15 working days). A code already in the campaign with the same content is left as it
  is; with different content the row is rejected (a lead being handled is changed in the app).

Only the office imports, except that a department may import its own projects.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, Role, can_administer
from domain.errors import Invalid, NotFound, RowsRejected, SpecInvalid
from domain.localtime import local_day
from domain.spec import CampaignSpec, Contact
from domain.spec import Department as SpecDepartment
from exchange.errors import ImportProblem, ImportRejected, RowError
from exchange.parsing import key_form
from exchange.rows import DepartmentRow, LeadRow, ProjectRow, UserRow
from exchange.tabular import import_numbered, template_xlsx
from services.campaigns import get_campaign, launch, spec_digest, stamp_register, stored_spec
from services.guard import check, fail, resolve
from services.leads import assign_lead, intake_lead
from services.spec_files import parse_spec, plain_message, spec_to_yaml
from services.users import add_user, check_user_fields, update_user
from store import audit
from store.models import Campaign, Department, Lead, Project, User

KINDS = ("departments", "users", "projects", "leads")
IMPORT_KIND_TITLES = {"departments": "部门", "users": "用户", "projects": "项目台账", "leads": "线索"}
DEFAULT_LEAD_WORKING_DAYS = 15
Numbered = list[tuple[int, Any]]

__all__ = [
    "IMPORT_KIND_TITLES",
    "KINDS",
    "ImportReport",
    "apply_register",
    "import_file",
    "template",
    "template_filename",
]


@dataclass(frozen=True)
class ImportReport:
    kind: str
    added: int
    updated: int
    unchanged: int = 0
    spec_yaml: str | None = None  # departments: the campaign YAML to save back (see the module doc)
    launch_lines: tuple[str, ...] = ()  # departments: what applying the new spec changed
    passwords: dict[str, str] = field(default_factory=dict, repr=False)  # users: generated, shown once
    # projects: (code, old department, new department) of each project the office moved to another department
    transfers: tuple[tuple[str, str, str], ...] = ()

    def lines(self) -> list[str]:
        text = f"{IMPORT_KIND_TITLES[self.kind]}导入完成：新增 {self.added} 个，更新 {self.updated} 个"
        if self.unchanged:
            text += f"，未变 {self.unchanged} 个"
        moved = [f"  移交监管部门：{code}（{old} → {new}）" for code, old, new in self.transfers]
        return [text, *moved, *self.launch_lines]


def _action(kind: str) -> tuple[str, str]:
    """(audit action, entity); the register keeps the names it had before this module."""
    return ("project.import", "project_register") if kind == "projects" else (f"{kind[:-1]}.import", "import")


def template(kind: str) -> bytes:
    """The blank .xlsx template of a kind: Chinese headers (required ones red), dropdowns, a 说明 sheet."""
    if kind not in KINDS:
        raise Invalid(
            f"导入类型 {kind!r} 无效，可选：{'、'.join(f'{k}（{v}）' for k, v in IMPORT_KIND_TITLES.items())}"
        )
    return template_xlsx(kind)


def template_filename(kind: str) -> str:
    return f"{IMPORT_KIND_TITLES.get(kind, kind)}导入模板.xlsx"


def import_file(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    kind: str,
    data: bytes | Path | str,
    filename: str,
    sheet: str | None = None,
) -> ImportReport:
    """Import one file of `kind` into a campaign; the caller commits (or rolls everything back)."""
    actor = resolve(session, actor, at=at)
    action, entity = _action(kind) if kind in KINDS else ("import", "import")
    key = f"{campaign_code}/{filename}"
    if kind not in KINDS:
        try:
            template(kind)
        except Invalid as exc:
            fail(exc, actor=actor, at=at, action=action, entity=entity, entity_key=key)
    allowed = can_administer(actor) or (
        kind == "projects" and actor.role == Role.department and actor.campaign_code == campaign_code
    )
    reason = (
        "只有牵头办公室和责任部门可以导入项目台账。"
        if kind == "projects"
        else f"{IMPORT_KIND_TITLES[kind]}由牵头办公室统一导入。"
    )
    check(
        allowed,
        actor=actor,
        at=at,
        action=action,
        entity=entity,
        entity_key=key,
        label=f"导入{IMPORT_KIND_TITLES[kind]}",
        reason=reason,
    )
    try:
        campaign = get_campaign(session, campaign_code)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action=action, entity=entity, entity_key=key)
    ctx = _Context(session, actor, at, campaign, filename, action, entity, key)
    rows, errors = ctx.read(kind, data, sheet)
    plan = _PLANS[kind](ctx, rows)  # the service's own rules, on every row that parsed
    ctx.reject(errors + plan.errors)  # every bad row of the file, named at once; nothing written
    report = plan.apply()
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_key=key,
        after={
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "codes": [_natural_key(r) for _, r in rows][:500],
            **({"transfers": [list(t) for t in report.transfers]} if report.transfers else {}),
        },
    )
    return report


@dataclass(frozen=True)
class _Plan:
    errors: list[RowError]
    apply: Callable[[], ImportReport]


def _natural_key(row: Any) -> str:
    return "/".join(str(getattr(row, name)) for name in type(row).natural_key)


@dataclass
class _Context:
    session: Session
    actor: Actor
    at: dt.datetime
    campaign: Campaign
    filename: str
    action: str
    entity: str
    key: str

    def departments(self) -> dict[str, Department]:
        """key_form(code) -> the campaign's active departments."""
        return {
            key_form(d.code): d
            for d in self.session.scalars(
                select(Department).where(Department.campaign_id == self.campaign.id, Department.active.is_(True))
            )
        }

    def read(self, kind: str, data: bytes | Path | str, sheet: str | None) -> tuple[Numbered, list[RowError]]:
        """(rows that validated, errors of the others); a file that cannot be read fails here."""
        context: dict[str, Any] = {"today": local_day(self.at)}
        if kind in ("users", "projects", "leads"):
            context["known_department_codes"] = [d.code for d in self.departments().values()]
        if kind == "leads":
            context["known_project_codes"] = list(
                self.session.scalars(select(Project.code).where(Project.campaign_id == self.campaign.id))
            )
        try:
            return import_numbered(data, kind, filename=self.filename, sheet=sheet, context=context), []
        except ImportRejected as exc:
            return exc.valid, exc.errors
        except ImportProblem as exc:
            fail(
                Invalid(str(exc)),
                actor=self.actor,
                at=self.at,
                action=self.action,
                entity=self.entity,
                entity_key=self.key,
            )

    def reject(self, errors: list[RowError]) -> None:
        """Name every bad row and import nothing (the refusal is audited)."""
        if errors:
            rejected = ImportRejected(self.filename, errors)
            fail(
                RowsRejected(str(rejected), rejected.errors),
                actor=self.actor,
                at=self.at,
                action=self.action,
                entity=self.entity,
                entity_key=self.key,
            )


# --- departments: a new spec, applied like a changed YAML -----------------------------------------------


def _spec_department(row: DepartmentRow, old: SpecDepartment | None) -> SpecDepartment:
    contact = old.contact if old else Contact()
    return SpecDepartment.model_validate(
        {
            "code": old.code if old else row.code,
            "name": row.name,
            "kind": row.type,
            "contact": {
                "name": row.contact_person or contact.name,
                "phone": row.phone or contact.phone,
                "email": row.email or contact.email,
            },
            "tags": list(row.tags) or list(old.tags if old else ()),
        }
    )


def _validation_text(exc: ValidationError) -> str:
    return "；".join(plain_message(e["msg"]) for e in exc.errors(include_url=False))


def _departments(ctx: _Context, rows: Numbered) -> _Plan:
    spec = stored_spec(ctx.campaign)
    existing = {key_form(d.code): d for d in spec.departments}
    merged = dict(existing)
    errors: list[RowError] = []
    added = updated = unchanged = 0
    for number, row in rows:
        old = existing.get(key_form(row.code))
        try:
            new = _spec_department(row, old)
        except ValidationError as exc:
            errors.append(RowError(row_number=number, column=None, message=_validation_text(exc)))
            continue
        merged[key_form(new.code)] = new
        added += old is None
        updated += old is not None and new != old
        unchanged += old is not None and new == old

    def apply() -> ImportReport:
        try:
            new_spec = CampaignSpec.model_validate(
                {**spec.model_dump(), "departments": [d.model_dump() for d in merged.values()]}
            )
        except ValidationError as exc:
            fail(
                Invalid("导入后专项行动配置不成立：" + _validation_text(exc)),
                actor=ctx.actor,
                at=ctx.at,
                action=ctx.action,
                entity=ctx.entity,
                entity_key=ctx.key,
            )
        result = launch(ctx.session, new_spec, actor=ctx.actor, at=ctx.at, source_path=ctx.campaign.source_path)
        base = None
        if ctx.campaign.source_path:
            try:
                text = Path(ctx.campaign.source_path).read_text(encoding="utf-8")
                if spec_digest(parse_spec(text, ctx.campaign.source_path)) == spec_digest(spec):
                    base = text  # the file still says what was running: edit it, keeping its comments
            except (OSError, UnicodeDecodeError, SpecInvalid):
                base = None
        return ImportReport(
            "departments",
            added,
            updated,
            unchanged,
            spec_to_yaml(new_spec, base),
            tuple(result.lines()) if not result.unchanged else (),
        )

    return _Plan(errors, apply)


# --- users ------------------------------------------------------------------------------------------------


def _users(ctx: _Context, rows: Numbered) -> _Plan:
    s = ctx.session
    depts = ctx.departments()
    existing = {u.username: u for u in s.scalars(select(User).where(User.username.in_([r.username for _, r in rows])))}
    errors: list[RowError] = []
    plans: list[tuple[UserRow, str | None]] = []

    def campaign_of(department_code: str | None) -> str | None:
        """A department account imported into a campaign belongs to that campaign."""
        return ctx.campaign.code if department_code else None

    for number, row in rows:
        code = depts[key_form(row.department_code)].code if row.department_code else None
        try:
            check_user_fields(
                s,
                username=row.username,
                display_name=row.full_name,
                role=row.role.value,
                department_code=code,
                campaign_code=campaign_of(code),
            )
        except Invalid as exc:
            errors.append(RowError(row_number=number, column=None, message=str(exc)))
            continue
        plans.append((row, code))

    def apply() -> ImportReport:
        added = updated = unchanged = 0
        passwords: dict[str, str] = {}
        for row, code in plans:
            user = existing.get(row.username)
            if user is None:
                password = row.initial_password.get_secret_value() if row.initial_password else None
                if password is None:
                    password = passwords[row.username] = secrets.token_urlsafe(9)
                add_user(
                    s,
                    actor=ctx.actor,
                    at=ctx.at,
                    username=row.username,
                    display_name=row.full_name,
                    role=row.role.value,
                    department_code=code,
                    email=row.email,
                    password=password,
                    campaign_code=campaign_of(code),
                )
                added += 1
            elif (user.display_name, user.role, user.department_code, user.campaign_code, user.email) == (
                row.full_name,
                row.role.value,
                code,
                campaign_of(code),
                row.email,
            ):
                unchanged += 1
            else:
                update_user(
                    s,
                    actor=ctx.actor,
                    at=ctx.at,
                    username=row.username,
                    display_name=row.full_name,
                    role=row.role.value,
                    department_code=code,
                    email=row.email,
                    campaign_code=campaign_of(code),
                )
                updated += 1
        return ImportReport("users", added, updated, unchanged, passwords=passwords)

    return _Plan(errors, apply)


# --- projects --------------------------------------------------------------------------------------------------


def apply_register(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign: Campaign,
    rows: Numbered,
    departments: dict[str, Department],
    entity_key: str,
) -> tuple[int, int, tuple[tuple[str, str, str], ...]]:
    """Upsert validated register rows (row number, ProjectRow) by project code; returns
    (added, updated, transfers).

    `departments` maps key_form(code) to the campaign's departments. A department may only touch
    its own projects: a row naming another department, or a code that is another department's
    project, refuses the whole file, naming the rows. The office may move a project to another
    department: each move is returned as (code, old department, new department) and audited as
    `project.transfer`.
    """
    existing = {p.code: p for p in session.scalars(select(Project).where(Project.campaign_id == campaign.id))}
    owner: dict[int, str] = dict(
        session.execute(select(Department.id, Department.code).where(Department.campaign_id == campaign.id))
        .tuples()
        .all()
    )
    if actor.role == Role.department:
        foreign = [n for n, r in rows if departments[key_form(r.regulator_code)].code != actor.department_code]
        taken = [
            f"第 {n} 行的项目 {r.code} 属于部门 {owner[existing[r.code].department_id]}"
            for n, r in rows
            if r.code in existing and owner[existing[r.code].department_id] != actor.department_code
        ]
        if foreign or taken:
            reasons = (["第 " + "、".join(str(n) for n in foreign) + " 行不属于本部门。"] if foreign else []) + (
                ["；".join(taken) + "，部门不能改动其他部门的项目。"] if taken else []
            )
            check(
                False,
                actor=actor,
                at=at,
                action="project.import",
                entity="project_register",
                entity_key=entity_key,
                label="导入其他部门的项目",
                reason="".join(reasons),
            )
    added = updated = 0
    transfers: list[tuple[str, str, str]] = []
    for _n, r in rows:
        row: ProjectRow = r
        dept = departments[key_form(row.regulator_code)]
        p = existing.get(row.code)
        if p is None:
            p = Project(campaign_id=campaign.id, code=row.code, sampled=False)
            session.add(p)
            existing[row.code] = p
            added += 1
        else:
            updated += 1
            if p.department_id != dept.id:
                transfers.append((row.code, owner[p.department_id], dept.code))
        p.name, p.department_id, p.tender_on = row.name, dept.id, row.tender_date
        p.amount_wan = row.estimated_price_wan
        p.winner = row.winning_bidder
        p.bidders = "、".join(row.bidders)
    session.flush()
    stamp_register(session, campaign.id)  # names and departments are what the 预警 screening reads
    for code, old, new in transfers:
        audit.record(
            session,
            at=at,
            actor=actor,
            action="project.transfer",
            entity="project",
            entity_key=f"{campaign.code}/{code}",
            before={"department": old},
            after={"department": new, "import": entity_key},
        )
    return added, updated, tuple(transfers)


def _projects(ctx: _Context, rows: Numbered) -> _Plan:
    def apply() -> ImportReport:
        added, updated, transfers = apply_register(
            ctx.session,
            actor=ctx.actor,
            at=ctx.at,
            campaign=ctx.campaign,
            rows=rows,
            departments=ctx.departments(),
            entity_key=ctx.key,
        )
        return ImportReport("projects", added, updated, transfers=transfers)

    return _Plan([], apply)


# --- leads -------------------------------------------------------------------------------------------------------


def _same_lead(lead: Lead, row: LeadRow) -> bool:
    return (lead.source, lead.received_on, lead.category, lead.summary) == (
        row.source.value,
        row.received_on,
        row.category.value,
        row.summary,
    )


def _leads(ctx: _Context, rows: Numbered) -> _Plan:
    s = ctx.session
    existing = {
        key_form(lead.code): lead
        for lead in s.scalars(
            select(Lead).where(Lead.campaign_id == ctx.campaign.id, Lead.code.in_([r.code for _, r in rows]))
        )
    }
    errors = [
        RowError(
            row_number=n,
            column="线索编号",
            message=f"线索编号「{r.code}」已存在且内容不同；已受理的线索请在系统中办理，不能用导入覆盖",
        )
        for n, r in rows
        if key_form(r.code) in existing and not _same_lead(existing[key_form(r.code)], r)
    ]

    def apply() -> ImportReport:
        depts = ctx.departments()
        projects = {
            key_form(c): c for c in s.scalars(select(Project.code).where(Project.campaign_id == ctx.campaign.id))
        }
        added = unchanged = 0
        for _n, row in rows:
            if key_form(row.code) in existing:
                unchanged += 1
                continue
            lead = intake_lead(
                s,
                actor=ctx.actor,
                at=ctx.at,
                campaign_code=ctx.campaign.code,
                source=row.source.value,
                received_on=row.received_on,
                category=row.category.value,
                summary=row.summary,
                project_code=projects[key_form(row.project_code)] if row.project_code else None,
                reporter_name=row.reporter_name,
                reporter_phone=row.reporter_phone,
                code=row.code,
            )
            assign_lead(
                s,
                actor=ctx.actor,
                at=ctx.at,
                lead_id=lead.id,
                expected_version=lead.version,
                department_code=depts[key_form(row.handling_department_code)].code,
                working_days=row.time_limit_working_days or DEFAULT_LEAD_WORKING_DAYS,
            )
            added += 1
        return ImportReport("leads", added, 0, unchanged)

    return _Plan(errors, apply)


_PLANS: dict[str, Callable[[_Context, Numbered], _Plan]] = {
    "departments": _departments,
    "users": _users,
    "projects": _projects,
    "leads": _leads,
}
