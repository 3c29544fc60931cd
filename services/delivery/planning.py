"""Planning: the campaign's pending outbox rows become deliveries — an ordinary service.

One in-app inbox item per person per outbox row (delivered at once: state `sent`; the tick does
this every day, see `services.delivery.in_app`, so here only rows the tick has not put in the
inboxes), and ONE daily digest per (channel, mailbox / webhook target, campaign, day) left
`pending` for `services.delivery.sending`. A row no longer true by the planning day (it chases
work handed in since, `services.delivery.truth`) turns `obsolete` and is sent to nobody; a digest
is checked again when its turn to be sent comes (`recheck`): the items untrue by then are left
out, and a digest with nothing true left is not sent. A message is dated, and its figures
computed, as of the day of its event (`Outbox.created_on`).

Every delivery has a natural dedupe key inserted with ON CONFLICT DO NOTHING, and the outbox rows
turn `planned` in the same transaction, so a re-run plans nothing twice. The caller commits
(store.uow). Services never read the clock: `day` and `at` come from the edge.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import namedtuple
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property, partial
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm import Session

from domain.access import SYSTEM
from domain.calendar import WorkingCalendar
from domain.delivery import CHASING_KINDS, Channel, DeliveryState, OutboxKind, OutboxState
from domain.duban import LATE_ANSWER, late_answer_message, notice_message
from domain.rules import DeadlineStanding, standing
from domain.spec import CampaignSpec
from notify import format_cn_date, render_digest, render_escalation, render_event, render_overdue, render_reminder
from services.campaigns import get_campaign, stored_spec
from services.delivery.audience import Audiences, Person, has_inbox_readers
from services.delivery.events import assignment_title
from services.delivery.truth import stale, thread_key
from services.holidays import campaign_calendar
from settings import Settings
from store import audit
from store.models import Assignment, Campaign, Department, Duban, Outbox, OutboxDelivery, TaskTemplate, User
from store.sql import (
    OF_CAMPAIGN,
    ON_DAY,
    campaign_day,
    insert_ignoring,
    insert_rows_ignoring_duplicates,
    table_of,
    update_by_ids,
)


@dataclass(frozen=True)
class PlanReport:
    campaign: str
    day: dt.date
    skipped: str | None = None  # why nothing was planned (holiday / weekend)
    outbox_rows: int = 0
    inbox_items: int = 0
    push_messages: int = 0  # email + webhook deliveries created or extended


WEBHOOK_GREETING = "各位同事"  # whom a group's webhook digest addresses


@dataclass(frozen=True)
class Recheck:
    """A push delivery checked against the records just before it is sent."""

    dropped: list[str]  # natural keys of the outbox rows no longer true, left out of the message
    left: int  # items still true (0: nothing to send)


@dataclass
class _Item:
    natural_key: str
    outbox_id: int
    subject: str
    body: str


@dataclass
class _Plan:
    """What one planning run needs to render and address its messages."""

    session: Session
    campaign: Campaign
    spec: CampaignSpec
    audiences: Audiences
    base_url: str | None  # the dashboard's address for links (None: in-app only, no link)
    day: dt.date
    # In-app messages gathered by put_in_inboxes and written at once by write_inboxes.
    inbox_rows: list[dict[str, Any]] = field(default_factory=list)
    put_in: list[int] = field(default_factory=list)  # outbox ids now in the inboxes
    _standings: dict[tuple[dt.date, dt.date], DeadlineStanding] = field(default_factory=dict)

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return campaign_calendar(self.spec)

    def standing(self, due_on: dt.date, on: dt.date) -> DeadlineStanding:
        """A deadline's standing on a day, worked out once per (due date, day) of the run."""
        key = (due_on, on)
        if key not in self._standings:
            self._standings[key] = standing(due_on, on, self.calendar)
        return self._standings[key]

    def write_inboxes(self) -> int:
        """Write the gathered in-app messages (a re-run skips those already there) and mark their
        outbox rows as in the inboxes; returns the messages written."""
        table = table_of(OutboxDelivery)
        written = insert_rows_ignoring_duplicates(self.session, table, self.inbox_rows, ["dedupe_key"])
        update_by_ids(self.session, Outbox, self.put_in, in_app_on=self.day)
        self.inbox_rows, self.put_in = [], []
        return written

    def render(
        self, outbox: Outbox, assignment: Assignment | None, template: TaskTemplate | None, notice: Duban | None = None
    ) -> _Item:
        """The text of an owed row: an event's own text, or written now for the rows the tick owes as sets
        (reminders, overdue notices, escalations, 签收提醒, 督办单 and their late-answer notices)."""
        if outbox.subject is not None or assignment is None or template is None:  # an event's own text
            return _Item(outbox.natural_key, outbox.id, outbox.subject or "", outbox.body or "")
        if outbox.kind in (OutboxKind.duban, OutboxKind.acknowledge):
            return self._event_item(outbox, assignment, template, notice)
        dept = self.audiences.departments[outbox.department_id]
        title = assignment_title(template.title, assignment.period)
        # Standing as of the day of the event: the message is dated that day and says what was true then.
        s = self.standing(assignment.due_on, outbox.created_on)
        link = f"{self.base_url.rstrip('/')}/?assignment={assignment.id}" if self.base_url else None
        common: dict[str, Any] = {
            "task_title": title,
            "campaign_title": self.campaign.title,
            "department_name": dept.name,
            "due_date": assignment.due_on,
            "link": link,
        }
        if outbox.kind == OutboxKind.escalation:
            rung = next((r for r in self.spec.escalation if r.level == outbox.level), None)
            notify = [a.value for a in rung.notify] if rung is not None else []
            others = [self.audiences.label(a, dept) for a in notify if a != outbox.audience]
            name = rung.name if rung is not None else "督办"
            subject, body = render_escalation(name, max(1, s.overdue_working_days), others, **common)
        elif s.overdue:
            subject, body = render_overdue(working_days_overdue=s.overdue_working_days, **common)
        else:
            subject, body = render_reminder(working_days_left=s.working_days_left, **common)
        return _Item(outbox.natural_key, outbox.id, subject, body)

    def _event_item(
        self, outbox: Outbox, assignment: Assignment, template: TaskTemplate, notice: Duban | None
    ) -> _Item:
        """A 签收提醒 or a 督办单's message about one assignment, dated the day it was owed."""
        due_on = assignment.due_on
        if outbox.kind == OutboxKind.acknowledge:
            within = self.spec.acknowledge_within_working_days
            facts: list[tuple[str, str]] = []
            tag, action = "签收提醒", f"该任务开始后 {within} 个工作日仍未签收，请登录系统签收并抓紧办理。"
        elif notice is not None and outbox.natural_key.endswith(LATE_ANSWER):
            tag, facts, action = late_answer_message(number=notice.number, respond_due_on=notice.respond_due_on)
            due_on = notice.due_on
        elif notice is not None:
            rung = next((r for r in self.spec.escalation if r.level == notice.level), None)
            tag, facts, action = notice_message(
                colour=notice.colour,
                number=notice.number,
                level_name=rung.name if rung is not None else "督办",
                overdue_days=notice.overdue_days,
                respond_due_on=notice.respond_due_on,
            )
            due_on = notice.due_on
        else:  # its notice is gone (cannot happen while the assignment stands: they are deleted together)
            tag, facts, action = "督办单", [], "请在系统中反馈办理情况。"
        task = assignment_title(template.title, assignment.period)
        subject, body = render_event(
            tag,
            campaign_title=self.campaign.title,
            department_name=self.audiences.departments[outbox.department_id].name,
            subject_line=task,
            facts=[("任务", task), ("截止日期", format_cn_date(due_on, weekday=False)), *facts],
            action=action,
            event_on=outbox.created_on,
        )
        return _Item(outbox.natural_key, outbox.id, subject, body)

    def insert_ignore(self, **values: Any) -> bool:
        stmt = insert_ignoring(self.session, OutboxDelivery, ["dedupe_key"]).values(**values)
        return self.session.scalar(stmt.returning(OutboxDelivery.id)) is not None


def load_plan(session: Session, campaign: Campaign, day: dt.date, base_url: str | None) -> _Plan:
    audiences = Audiences(
        departments={d.id: d for d in session.scalars(select(Department).where(Department.campaign_id == campaign.id))},
        users=list(session.scalars(select(User).where(User.disabled.is_(False)).order_by(User.username))),
    )
    return _Plan(session, campaign, stored_spec(campaign), audiences, base_url, day)


# An owed row and what its text is written from, read as plain columns and cut into light records (named tuples
# with the models' attribute names; None where an outer join found no row): rendering only reads, and ORM objects
# for every owed row cost ~40 µs a row, most of a busy day's in-app delivery.
_RECORDS = (
    ("OutboxRecord", list(table_of(Outbox).c)),
    ("AssignmentRecord", [Assignment.id, Assignment.due_on, Assignment.period]),
    ("TemplateRecord", [TaskTemplate.id, TaskTemplate.title]),
    (
        "NoticeRecord",
        [Duban.id, Duban.number, Duban.level, Duban.colour, Duban.due_on, Duban.overdue_days, Duban.respond_due_on],
    ),
)
_COLUMNS = [column for _, columns in _RECORDS for column in columns]


def _spans() -> list[tuple[Any, int, int]]:
    """(record type, first column, past its last column) of each record in a row of `_COLUMNS`."""
    spans, first = [], 0
    for name, columns in _RECORDS:
        spans.append((namedtuple(name, [c.key for c in columns]), first, first + len(columns)))
        first += len(columns)
    return spans


_SPANS = _spans()


def _records(row: Any) -> tuple[Any, ...]:
    """(outbox, assignment, template, notice) of one row of `_with_what_it_is_about` (the first column of each
    record is its id: NULL when the outer join found nothing)."""
    return tuple(None if row[first] is None else record._make(row[first:past]) for record, first, past in _SPANS)


def _with_what_it_is_about() -> Select[Any]:
    """Outbox rows with what their text is written from: the assignment and its task, and for a
    督办单's message the notice (None for an event about no assignment, or not about a notice).
    Plain columns: `_records` cuts each row into the four records."""
    return (
        select(*_COLUMNS)
        .outerjoin(Assignment, Assignment.id == Outbox.assignment_id)
        .outerjoin(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .outerjoin(
            Duban,
            and_(
                Outbox.kind == OutboxKind.duban.value,
                Duban.assignment_id == Outbox.assignment_id,
                Duban.level == Outbox.level,
            ),
        )
    )


_OWED = and_(Outbox.campaign_id == OF_CAMPAIGN, Outbox.state == OutboxState.pending, Outbox.created_on <= ON_DAY)
_RETIRE_UNTRUE = (
    update(Outbox)
    .where(_OWED, stale())
    .values(state=OutboxState.obsolete.value)
    .execution_options(synchronize_session=False)
)


@cache
def _owed_query(in_app_only: bool, readers_only: bool) -> Select[Any]:
    """Built once per variant: every tick reads the owed rows (bind parameters: store.sql.campaign_day)."""
    query = (
        _with_what_it_is_about()
        .where(_OWED)
        .order_by(Outbox.created_on, Outbox.level.desc(), Assignment.due_on, Outbox.id)
    )
    if in_app_only:
        query = query.where(Outbox.in_app_on.is_(None))
    if readers_only:
        query = query.where(has_inbox_readers(OF_CAMPAIGN))
    return query


OWED_PAGE = 5000  # owed rows loaded at once: a national campaign's busy day owes millions


def owed_pages(
    session: Session, campaign: Campaign, day: dt.date, *, in_app_only: bool = False, readers_only: bool = False
) -> Iterator[list[Any]]:
    """Pending outbox rows owed on or before `day` with their assignment and task (None for an event about no
    assignment), a page at a time so memory stays bounded at any size; rows no longer true turn `obsolete` first
    and are left out. Highest rung first within a day, so a person told of several rungs at once reads the
    highest. The caller may write between pages: the read is one statement (PostgreSQL: a cursor on the
    transaction's snapshot; SQLite: the ORDER BY's sorter holds the rows), so what it writes does not change the
    pages still to come."""
    params = campaign_day(campaign.id, day)
    session.execute(_RETIRE_UNTRUE, params)
    result = session.execute(_owed_query(in_app_only, readers_only), params, execution_options={"yield_per": OWED_PAGE})
    for page in result.partitions():
        yield [_records(row) for row in page]


# What a person has already been told: hashes of (person, thread, event, event day), not the tuples — a national
# campaign's busy day tells ~1M of them, and the set lives for the whole run. (A collision of two 64-bit hashes
# in one run would drop one message; the chance is ~1e-7 at a million.)
Told = set[int]


def _told_key(person: str, thread: str, kind: str, natural_key: str, event_on: dt.date) -> int:
    """The member of `Told` for one message: what already_told reads back and put_in_inboxes checks."""
    return hash((person, thread, _event(kind, natural_key), event_on))


class OwedRun(NamedTuple):
    """Owed rows to write, a page at a time, with what writing them needs."""

    plan: _Plan
    told: Told  # what people were already told about the days owed
    pages: Iterator[list[Any]]


def start_owed_run(
    session: Session,
    campaign: Campaign,
    day: dt.date,
    base_url: str | None,
    *,
    in_app_only: bool = False,
    readers_only: bool = False,
) -> OwedRun | None:
    """The owed rows (`owed_pages`) with the plan and what was already told, or None when nothing is owed.
    The first page starts with the earliest day owed: only messages about those days can clash."""
    pages = owed_pages(session, campaign, day, in_app_only=in_app_only, readers_only=readers_only)
    first = next(pages, None)
    if first is None:
        return None
    plan = load_plan(session, campaign, day, base_url)
    return OwedRun(plan, already_told(session, campaign.id, first[0][0].created_on), chain([first], pages))


def _event(outbox_kind: str, natural_key: str) -> str:
    """What makes two messages the same news: for the tick's chasing kinds, the kind (two rungs
    reached on one day, or two audiences one person belongs to, are told once, highest rung first);
    any other message is its own news (a rejection and an approval on one day are two, and so are
    two 督办单)."""
    return outbox_kind if outbox_kind in CHASING_KINDS else natural_key


def already_told(session: Session, campaign_id: int, since: dt.date) -> Told:
    """(person, thread, event, event day) of the in-app messages the campaign's people already have
    about events on or after `since` (the earliest day being delivered: only those days can clash)."""
    rows = session.execute(
        select(
            OutboxDelivery.target,
            Outbox.thread_key,
            Outbox.assignment_id,
            Outbox.id,
            Outbox.kind,
            Outbox.natural_key,
            Outbox.created_on,
        )
        .join(Outbox, Outbox.id == OutboxDelivery.outbox_id)
        .where(
            OutboxDelivery.campaign_id == campaign_id,
            OutboxDelivery.channel == Channel.inbox,
            Outbox.created_on >= since,
        )
    )
    return {
        _told_key(who, thread_key(key, aid, oid), kind, natural, day) for who, key, aid, oid, kind, natural, day in rows
    }


def put_in_inboxes(plan: _Plan, outbox: Outbox, text: Callable[[], _Item], told: Told) -> None:
    """One in-app message per person the row speaks to, unless that person already has one about
    the same thread, kind and day (two rungs, or two audiences they belong to): `told` remembers.
    Gathered in the plan; `plan.write_inboxes()` writes them. The text is written only when someone
    is to read it."""
    thread = thread_key(outbox.thread_key, outbox.assignment_id, outbox.id)  # as in already_told
    item: _Item | None = None
    for person in plan.audiences.people(outbox):
        if not person.username:
            continue
        event = _told_key(person.username, thread, outbox.kind, outbox.natural_key, outbox.created_on)
        if event in told:
            continue
        told.add(event)
        item = item or text()
        plan.inbox_rows.append(
            {
                "outbox_id": outbox.id,
                "campaign_id": plan.campaign.id,
                "dedupe_key": _key(Channel.inbox, person.username, outbox.natural_key),
                "channel": Channel.inbox.value,
                "target": person.username,
                "recipient": person.username,
                "subject": item.subject[:300],
                "body": item.body,
                "state": DeliveryState.sent.value,
                "attempts": 0,
                "created_on": plan.day,
                "outbox_keys": json.dumps([outbox.natural_key]),
            }
        )
    if outbox.in_app_on is None:
        plan.put_in.append(outbox.id)


def is_send_day(spec: CampaignSpec, day: dt.date, settings: Settings) -> bool:
    return settings.send_on_holidays or campaign_calendar(spec).is_workday(day)


def plan_deliveries(
    session: Session, campaign_code: str, day: dt.date, settings: Settings, *, at: dt.datetime
) -> PlanReport:
    """Plan every pending outbox row owed on or before `day`; the caller commits."""
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    if not is_send_day(spec, day, settings):
        reason = campaign_calendar(spec).holiday_name(day) or "周末"
        return PlanReport(campaign_code, day, skipped=f"{day} 为非工作日（{reason}），不发送通知")
    # A page at a time, each written as it goes (a national campaign's busy day owes millions of rows); only
    # what a digest will carry is kept to the end: nothing when no mailbox or webhook is configured.
    run = start_owed_run(session, campaign, day, settings.dashboard_base_url)
    if run is None:
        return PlanReport(campaign_code, day)
    plan, told, pages = run
    audiences = plan.audiences
    mailboxes: dict[str, tuple[Person, dict[str, _Item]]] = {}  # address -> (person, items by natural key)
    group: list[_Item] = []  # for the webhooks
    rows = inbox = 0
    planned = hashlib.sha256()  # of the planned rows' ids, comma-separated
    for page in pages:
        for outbox, assignment, template, notice in page:
            item = cache(partial(plan.render, outbox, assignment, template, notice))  # written once, if needed
            if settings.webhooks:
                group.append(item())
            if outbox.in_app_on is None:  # the tick has not put it in the inboxes yet
                put_in_inboxes(plan, outbox, item, told)
            for person in audiences.people(outbox):
                if person.email and settings.smtp_host:
                    entry = mailboxes.setdefault(person.email.strip().lower(), (person, {}))
                    entry[1].setdefault(outbox.natural_key, item())
        inbox += plan.write_inboxes()
        ids = [o.id for o, *_ in page]
        update_by_ids(session, Outbox, ids, state=OutboxState.planned.value)
        planned.update(("," if rows else "").encode() + ",".join(map(str, ids)).encode())
        rows += len(page)
    pushed = 0
    for address, (person, items) in mailboxes.items():
        pushed += _plan_digest(plan, Channel.email, address, person.key, person.name, list(items.values()))
    for target in settings.webhooks:
        pushed += _plan_digest(plan, Channel.webhook, target.name, target.name, WEBHOOK_GREETING, group)
    session.flush()
    report = PlanReport(campaign_code, day, None, rows, inbox, pushed)
    audit.record(
        session,
        at=at,
        actor=SYSTEM,
        action="delivery.plan",
        entity="campaign",
        entity_key=campaign_code,
        after={
            "day": day.isoformat(),
            "outbox_rows": rows,
            "inbox_items": inbox,
            "push_messages": pushed,
            "outbox_ids_sha256": planned.hexdigest(),
        },
    )
    return report


def _plan_digest(plan: _Plan, channel: Channel, target: str, recipient: str, name: str, items: list[_Item]) -> int:
    """One message per (channel, target, campaign, day); later items of the same day extend a
    still-pending digest, or go into a numbered follow-up once the first one is on its way."""
    session, campaign, day = plan.session, plan.campaign, plan.day
    base = _key(channel, target, campaign.code, day)
    for n in range(1, 100):
        dedupe_key = base if n == 1 else f"{base}#{n}"
        existing = session.scalar(select(OutboxDelivery).where(OutboxDelivery.dedupe_key == dedupe_key))
        if existing is not None and existing.state != DeliveryState.pending:
            continue
        if existing is not None:
            new_keys = {x.natural_key for x in items}
            earlier = _items_for(plan, json.loads(existing.outbox_keys or "[]"))
            items = [i for i in earlier if i.natural_key not in new_keys] + items
        subject, body = _compose(name, items, day)
        values = {"subject": subject[:300], "body": body, "outbox_keys": json.dumps([i.natural_key for i in items])}
        if existing is not None:
            for k, v in values.items():
                setattr(existing, k, v)
            return 1
        return int(
            plan.insert_ignore(
                outbox_id=items[0].outbox_id if len(items) == 1 else None,
                campaign_id=campaign.id,
                dedupe_key=dedupe_key,
                channel=channel.value,
                target=target[:200],
                recipient=recipient[:100],
                state=DeliveryState.pending.value,
                attempts=0,
                created_on=day,
                **values,
            )
        )
    raise RuntimeError(f"too many follow-up digests for {base}")


def recheck(session: Session, delivery: OutboxDelivery, base_url: str | None) -> Recheck:
    """Is a planned e-mail / webhook message still true? Its items that chase work handed in (or
    cancelled) since it was planned (`truth.stale`) are dropped: the message is composed again from
    the rest, as planning composes it (same day, same greeting), and the row holds what will be
    sent. With nothing true left the row is untouched and `left` is 0: the caller does not send it.
    The caller commits."""
    keys: list[str] = json.loads(delivery.outbox_keys or "[]")
    if not keys and delivery.outbox_id is not None:  # a row planned before digests listed their keys
        key = session.scalar(select(Outbox.natural_key).where(Outbox.id == delivery.outbox_id))
        keys = [key] if key is not None else []
    untrue = set(session.scalars(select(Outbox.natural_key).where(Outbox.natural_key.in_(keys), stale())))
    if not untrue:
        return Recheck([], len(keys))
    dropped = [k for k in keys if k in untrue]
    kept = [k for k in keys if k not in untrue]
    if not kept:
        return Recheck(dropped, 0)
    campaign_id = delivery.campaign_id or session.scalar(
        select(Outbox.campaign_id).where(Outbox.natural_key == kept[0])  # a row planned before 0003
    )
    campaign = session.get_one(Campaign, campaign_id)
    plan = load_plan(session, campaign, delivery.created_on, base_url)
    items = _items_for(plan, kept)
    if not items:  # the rows it covered are gone
        return Recheck(dropped, 0)
    name = WEBHOOK_GREETING if delivery.channel == Channel.webhook else plan.audiences.name_of(delivery.recipient)
    subject, body = _compose(name, items, delivery.created_on)
    delivery.subject, delivery.body = subject[:300], body
    delivery.outbox_keys = json.dumps([i.natural_key for i in items])
    delivery.outbox_id = items[0].outbox_id if len(items) == 1 else None
    return Recheck(dropped, len(items))


def _items_for(plan: _Plan, natural_keys: list[str]) -> list[_Item]:
    """Items of an existing pending digest, rendered again from their outbox rows."""
    if not natural_keys:
        return []
    rows = plan.session.execute(_with_what_it_is_about().where(Outbox.natural_key.in_(natural_keys))).all()
    by_key = {o.natural_key: plan.render(o, a, t, n) for o, a, t, n in map(_records, rows)}
    return [by_key[k] for k in natural_keys if k in by_key]


def _compose(name: str, items: list[_Item], day: dt.date) -> tuple[str, str]:
    if len(items) == 1:
        return items[0].subject, items[0].body
    return render_digest(name, [(i.subject, i.body) for i in items], day)


def _key(*parts: object) -> str:
    key = "|".join(str(p) for p in parts)
    if len(key) <= 190:
        return key
    return key[:150] + "|" + hashlib.sha256(key.encode()).hexdigest()[:32]
