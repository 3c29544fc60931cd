"""督办单: issued by the tick when an assignment reaches an escalation level (one per item and level,
numbered per campaign), listed for the office, leaders and the department, answered (反馈) by the
department by its 反馈期限, read and marked 已阅 by the office (审核: it leaves the office's 待办), and
printed as a .docx.

The tick step holds the campaign's "duban" counter before it looks for escalations without a
notice: a concurrent tick queues behind it and then finds them issued, so the natural key
(assignment, level) is never taken twice and no number is skipped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session, aliased

from domain.access import Actor, can_act_for_department, can_administer, can_read_department
from domain.assignment import UNFINISHED
from domain.delivery import OutboxKind
from domain.duban import (
    DUBAN,
    DUBAN_COLOUR,
    LATE_ANSWER,
    MESSAGE_KEY,
    NUMBER_END,
    DubanState,
    level_style,
    number_head,
    respond_due,
)
from domain.errors import Invalid, NotFound
from domain.instruction import INSTRUCTION_TEXT_MAX
from domain.limits import unsafe_character
from domain.localtime import local_day
from domain.spec import CampaignSpec
from exchange.notices import DubanNotice, duban_docx
from services.campaigns import get_campaign, lock_counter, stored_spec, take_numbers
from services.delivery.events import assignment_title, owe_set
from services.guard import check, department_scope, fail, resolve
from services.holidays import campaign_calendar
from store import audit
from store.models import Assignment, Campaign, Department, Duban, Escalation, TaskTemplate, User
from store.sql import insert_ignoring_duplicates, table_of

COUNTER = "duban"


@dataclass(frozen=True)
class DubanDTO:
    id: int
    number: str
    level: int
    level_name: str
    colour: str
    colour_label: str
    campaign_code: str
    assignment_id: int
    matter: str
    department_code: str
    department_name: str
    original_due_on: dt.date
    due_on: dt.date
    overdue_days: int
    requirement: str
    issued_on: dt.date
    respond_due_on: dt.date
    state: str
    answer: str | None
    answered_by: str | None
    answered_at: dt.datetime | None
    answered_by_name: str | None = None  # the account's display name, for people to read
    reviewed_by: str | None = None  # the office's 已阅 of the answer (who, when)
    reviewed_at: dt.datetime | None = None
    reviewed_by_name: str | None = None

    @property
    def state_label(self) -> str:
        if self.state == DubanState.answered and self.reviewed_at is not None:
            return "已反馈（已阅）"
        return DUBAN.label(self.state)

    def overdue_answer(self, as_of: dt.date) -> bool:
        """Past its 反馈期限 on `as_of` and still waiting for the answer."""
        return self.state == DubanState.issued and as_of > self.respond_due_on


# --- the tick step -----------------------------------------------------------------------------------------


def issue_dubans(session: Session, *, campaign_code: str, as_of: dt.date, actor: Actor, at: dt.datetime) -> int:
    """One 督办单 per escalation reached by work still owed that has none yet, and its message; returns
    how many were issued. Set-based at any size: the notices are numbered in one INSERT … SELECT from
    a block of the counter reserved at once, in the order escalations were reached (day, level,
    assignment), and their messages are owed in another; one audit entry covers the set."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="duban.issue",
        entity="campaign",
        entity_key=campaign_code,
        label="签发督办单",
    )
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    lock_counter(session, campaign.id, COUNTER)
    owed = (
        select(Escalation.level)
        .join(Assignment, Assignment.id == Escalation.assignment_id)
        .outerjoin(Duban, and_(Duban.assignment_id == Escalation.assignment_id, Duban.level == Escalation.level))
        .where(Escalation.campaign_id == campaign.id, Duban.id.is_(None), Assignment.status.in_(UNFINISHED))
    )
    # the owed notices per rung, in one read of the set (their count reserves the numbers; the rungs style them)
    per_level = dict(session.execute(owed.add_columns(func.count()).group_by(Escalation.level)).tuples().all())
    count = sum(per_level.values())
    if count:
        first = take_numbers(session, campaign.id, COUNTER, count)
        _insert_notices(session, campaign.id, spec, owed, sorted(per_level), first, as_of)
        _owe_messages(session, campaign.id, as_of, Duban.seq >= first, suffix="")
        # Core reads of one column each: at national scale the set is every assignment (~1M ids for the digest).
        notices = table_of(Duban)
        just_issued = and_(notices.c.campaign_id == campaign.id, notices.c.seq >= first)
        numbers = list(session.scalars(select(notices.c.number).where(just_issued).order_by(notices.c.seq).limit(50)))
        assignments = list(session.scalars(select(notices.c.assignment_id).where(just_issued)))
        audit.record(
            session,
            at=at,
            actor=actor,
            action="duban.issue",
            entity="campaign",
            entity_key=campaign_code,
            after={
                "as_of": as_of.isoformat(),
                "count": len(assignments),
                "numbers": numbers,
                "assignments_sha256": audit.ids_digest(assignments),
            },
        )
    late = and_(Duban.state == DubanState.issued.value, Duban.respond_due_on < as_of)
    reminded = _owe_messages(session, campaign.id, as_of, late, suffix=LATE_ANSWER)
    if reminded:
        audit.record(
            session,
            at=at,
            actor=actor,
            action="duban.remind_late",
            entity="campaign",
            entity_key=campaign_code,
            after={"as_of": as_of.isoformat(), "count": reminded},
        )
    return count


def _insert_notices(
    session: Session,
    campaign_id: int,
    spec: CampaignSpec,
    owed: Select[tuple[int]],
    levels: list[int],
    first: int,
    as_of: dt.date,
) -> None:
    """The owed escalations' notices (of the rungs `levels`), numbered first, first + 1, … in the order they
    were reached."""
    styles = {level: level_style(spec.duban, level) for level in levels}
    seq = literal(first - 1) + func.row_number().over(
        order_by=(Escalation.reached_on, Escalation.level, Escalation.assignment_id)
    )
    head = case({lv: number_head(st.prefix, as_of.year) for lv, st in styles.items()}, value=Escalation.level)
    colour = case({lv: st.colour.value for lv, st in styles.items()}, value=Escalation.level)
    source = owed.with_only_columns(
        literal(campaign_id),
        Escalation.assignment_id,
        Assignment.department_id,
        Escalation.level,
        seq,
        head + cast(seq, String) + literal(NUMBER_END),
        colour,
        literal(as_of),
        func.coalesce(Assignment.original_due_on, Assignment.due_on),
        Assignment.due_on,
        case(
            (Escalation.overdue_days > Assignment.overdue_days, Escalation.overdue_days),
            else_=Assignment.overdue_days,
        ),
        literal(spec.duban.requirement),
        literal(respond_due(as_of, spec.duban, campaign_calendar(spec))),
        literal(DubanState.issued.value),
    )
    columns = [
        "campaign_id",
        "assignment_id",
        "department_id",
        "level",
        "seq",
        "number",
        "colour",
        "issued_on",
        "nominal_due_on",
        "due_on",
        "overdue_days",
        "requirement",
        "respond_due_on",
        "state",
    ]
    insert_ignoring_duplicates(session, table_of(Duban), columns, source, ["assignment_id", "level"])


def _owe_messages(
    session: Session, campaign_id: int, as_of: dt.date, which: ColumnElement[bool], *, suffix: str
) -> int:
    """One message (kind duban) to the department of each notice `which` selects, once per natural key
    (evt:duban:<assignment>:<level><suffix>); the delivery writes its text from the notice."""
    key = literal(MESSAGE_KEY) + cast(Duban.assignment_id, String) + literal(":") + cast(Duban.level, String)
    return owe_set(
        session,
        natural_key=key + literal(suffix) if suffix else key,
        kind=OutboxKind.duban.value,
        campaign_id=Duban.campaign_id,
        assignment_id=Duban.assignment_id,
        department_id=Duban.department_id,
        level=Duban.level,
        event_on=as_of,
        chases=False,
        where=and_(Duban.campaign_id == campaign_id, which),
    )


# --- reading -----------------------------------------------------------------------------------------------


def _query():  # noqa: ANN202
    reviewer = aliased(User)
    return (
        select(
            Duban,
            Campaign.code,
            Department.code,
            Department.name,
            TaskTemplate.title,
            Assignment.period,
            User.display_name,
            reviewer.display_name,
        )
        .outerjoin(User, User.username == Duban.answered_by)
        .outerjoin(reviewer, reviewer.username == Duban.reviewed_by)
        .join(Campaign, Campaign.id == Duban.campaign_id)
        .join(Department, Department.id == Duban.department_id)
        .join(Assignment, Assignment.id == Duban.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
    )


def _dto(row, names: dict[int, str]) -> DubanDTO:  # noqa: ANN001
    d, ccode, dcode, dname, title, period, answerer, reviewer = row
    return DubanDTO(
        d.id,
        d.number,
        d.level,
        names.get(d.level, "督办"),
        d.colour,
        DUBAN_COLOUR.label(d.colour),
        ccode,
        d.assignment_id,
        assignment_title(title, period),
        dcode,
        dname,
        d.nominal_due_on,
        d.due_on,
        d.overdue_days,
        d.requirement,
        d.issued_on,
        d.respond_due_on,
        d.state,
        d.answer,
        d.answered_by,
        d.answered_at,
        answerer,
        d.reviewed_by,
        d.reviewed_at,
        reviewer,
    )


def _ladder_names(campaign: Campaign) -> dict[int, str]:
    return {rung.level: rung.name for rung in stored_spec(campaign).escalation}


def list_dubans(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    department_code: str | None = None,
    at: dt.datetime | None = None,
) -> list[DubanDTO]:
    """The campaign's 督办单, newest first: a department account sees its own only."""
    actor = resolve(session, actor, at=at)
    department_code = department_scope(
        actor=actor,
        at=at,
        action="duban.list",
        campaign_code=campaign_code,
        department_code=department_code,
        what="督办单",
        reason="责任部门只能查看本部门的督办单。",
    )
    campaign = get_campaign(session, campaign_code)
    q = _query().where(Duban.campaign_id == campaign.id)
    if department_code is not None:
        q = q.where(Department.code == department_code)
    names = _ladder_names(campaign)
    return [_dto(r, names) for r in session.execute(q.order_by(Duban.seq.desc()))]


def _load(session: Session, actor: Actor, duban_id: int, action: str, at: dt.datetime | None) -> tuple[Duban, DubanDTO]:
    row = session.execute(_query().where(Duban.id == duban_id)).first()
    if row is None:
        fail(
            NotFound(f"没有编号为 {duban_id} 的督办单"),
            actor=actor,
            at=at,
            action=action,
            entity="duban",
            entity_key=str(duban_id),
        )
    campaign = session.get(Campaign, row[0].campaign_id)
    assert campaign is not None
    return row[0], _dto(row, _ladder_names(campaign))


def get_duban(session: Session, *, actor: Actor, duban_id: int, at: dt.datetime | None = None) -> DubanDTO:
    actor = resolve(session, actor, at=at)
    _d, dto = _load(session, actor, duban_id, "duban.read", at)
    check(
        can_read_department(actor, dto.department_code, dto.campaign_code),
        actor=actor,
        at=at,
        action="duban.read",
        entity="duban",
        entity_key=str(duban_id),
        label=f"查看部门 {dto.department_code} 的督办单",
        reason="责任部门只能查看本部门的督办单。",
    )
    return dto


def duban_document(
    session: Session, *, actor: Actor, duban_id: int, at: dt.datetime | None = None
) -> tuple[str, bytes]:
    """The 督办单 as a .docx (file name, bytes), for whoever may read it; it shows the answer once given."""
    dto = get_duban(session, actor=actor, duban_id=duban_id, at=at)
    campaign = get_campaign(session, dto.campaign_code)
    notice = DubanNotice(
        number=dto.number,
        colour=dto.colour,
        colour_label=dto.colour_label,
        level_name=dto.level_name,
        campaign_title=campaign.title,
        issuer=campaign.issuer,
        matter=dto.matter,
        department_name=dto.department_name,
        original_due_on=dto.original_due_on,
        due_on=dto.due_on,
        overdue_days=dto.overdue_days,
        requirement=dto.requirement,
        respond_due_on=dto.respond_due_on,
        issued_on=dto.issued_on,
        answer=dto.answer,
    )
    return f"督办单-{dto.number}.docx", duban_docx(notice)


# --- the department's answer -------------------------------------------------------------------------------


def clean_text(text: str, what: str) -> str:
    """A person's free text (an answer, a 批示, a reply): not empty, not too long, no control characters."""
    text = (text or "").strip()
    if not text:
        raise Invalid(f"请填写{what}")
    if len(text) > INSTRUCTION_TEXT_MAX:
        raise Invalid(f"{what}最多 {INSTRUCTION_TEXT_MAX} 个字（现有 {len(text)} 个）")
    problem = unsafe_character(text, multiline=True)
    if problem:
        raise Invalid(f"{what}：{problem}")
    return text


def respond(session: Session, *, actor: Actor, at: dt.datetime, duban_id: int, text: str) -> DubanDTO:
    """The department's 反馈 on a 督办单 (once; a late answer is recorded and still counts as late)."""
    actor = resolve(session, actor, at=at)
    key = str(duban_id)
    d, dto = _load(session, actor, duban_id, "duban.respond", at)
    check(
        can_act_for_department(actor, dto.department_code, dto.campaign_code),
        actor=actor,
        at=at,
        action="duban.respond",
        entity="duban",
        entity_key=key,
        label=f"反馈部门 {dto.department_code} 的督办单",
        reason="只有督办单的责任单位可以反馈。",
    )
    try:
        if not DUBAN.allows(d.state, DubanState.answered):
            raise Invalid(f"督办单 {d.number} 已于 {local_day(d.answered_at or at)} 反馈，不能重复反馈")
        answer = clean_text(text, "反馈内容")
    except Invalid as exc:
        fail(exc, actor=actor, at=at, action="duban.respond", entity="duban", entity_key=key)
    d.state, d.answer, d.answered_by, d.answered_at = DubanState.answered.value, answer, actor.username, at
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="duban.respond",
        entity="duban",
        entity_key=key,
        before={"state": DubanState.issued.value},
        after={"state": d.state, "number": d.number, "late": local_day(at) > d.respond_due_on, "chars": len(answer)},
    )
    return _load(session, actor, duban_id, "duban.respond", at)[1]  # as stored, with the answerer's name


# --- the office's 审阅 of the answer -----------------------------------------------------------------------


def review(session: Session, *, actor: Actor, at: dt.datetime, duban_id: int) -> DubanDTO:
    """The office marks a department's 反馈 as read (已阅, who and when); it leaves the office's 待办.
    Only an answered notice can be reviewed, and only once."""
    actor = resolve(session, actor, at=at)
    key = str(duban_id)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="duban.review",
        entity="duban",
        entity_key=key,
        label="审阅督办单反馈",
        reason="督办单反馈由牵头办公室审阅。",
    )
    d, _seen = _load(session, actor, duban_id, "duban.review", at)
    try:
        if d.state != DubanState.answered:
            raise Invalid(f"督办单 {d.number} 尚未反馈，不能标记已阅")
        if d.reviewed_at is not None:
            raise Invalid(f"督办单 {d.number} 的反馈已于 {local_day(d.reviewed_at)} 审阅，不能重复审阅")
    except Invalid as exc:
        fail(exc, actor=actor, at=at, action="duban.review", entity="duban", entity_key=key)
    d.reviewed_by, d.reviewed_at = actor.username, at
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="duban.review",
        entity="duban",
        entity_key=key,
        before={"reviewed_by": None},
        after={"reviewed_by": actor.username, "number": d.number},
    )
    return _load(session, actor, duban_id, "duban.review", at)[1]  # as stored, with the reviewer's name


def review_many(session: Session, *, actor: Actor, at: dt.datetime, duban_ids: Sequence[int]) -> list[DubanDTO]:
    """批量已阅: review each answer in turn; all or none (one transaction)."""
    return [review(session, actor=actor, at=at, duban_id=i) for i in dict.fromkeys(duban_ids)]
