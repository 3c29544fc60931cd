"""Delivery of the outbox: plan messages per person and channel, then send them at most once.

Two steps, each safe to re-run:

1. ``plan_deliveries`` turns the campaign's pending ``outbox`` rows into ``outbox_delivery``
   rows: one in-app inbox item per person per outbox row, and ONE daily digest per
   (channel, mailbox / webhook target, campaign, day). The digest's dedupe key is its natural
   key, inserted with ON CONFLICT DO NOTHING, and the outbox rows are marked ``planned`` in the
   same transaction, so a re-run plans nothing twice. The caller commits.

2. ``send_pending`` sends due email / webhook rows. For every row it
   (a) marks it ``sending`` (attempts + 1, claimed_at) and COMMITS, (b) sends, (c) marks it
   ``sent`` and commits. A crash between (b) and (c) leaves the row in ``sending``; the next run
   turns a stale ``sending`` row into ``uncertain`` and never sends it again on its own — the
   person may already have the message, and a second copy is worse than asking the office to
   confirm (``confirm_uncertain``). This function therefore owns its commits: the commit before
   the send IS the protocol. Failures become ``failed`` (retried after a backoff, up to
   ``delivery_max_attempts``) or ``gave_up`` (permanent errors), with attempts and last_error,
   and never stop the other rows or channels.

Delivery states: pending → sending → sent | failed → (sending …) | gave_up | uncertain.
The inbox channel is the delivery row itself (state ``sent`` when planned, ``read_at`` set by
``mark_read``). Services never read the clock: ``day`` and ``at`` come from the edge.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import signal
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import Field
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.access import Actor, can_administer
from domain.rules import standing
from domain.spec import CampaignSpec
from notify import (
    ChannelError,
    Message,
    NotifySettings,
    render_digest,
    render_escalation,
    render_overdue,
    render_reminder,
    send_email,
    send_webhook,
)
from store import audit
from services.campaigns import get_campaign, stored_spec
from domain.errors import Invalid
from services.guard import check, fail
from services.holidays import campaign_calendar
from store.models import (
    Assignment,
    Campaign,
    Department,
    Outbox,
    OutboxDelivery,
    TaskTemplate,
    User,
)

log = logging.getLogger(__name__)

# Test-only hook (see tests/integration/test_delivery.py): when set to "1", the process kills
# itself with SIGKILL right after a message was handed to the channel and before the delivery
# is recorded as sent. That is the one crash window that could produce a duplicate message, and
# SIGKILL (no finally blocks, no rollback handlers) is the honest way to prove it cannot.
CRASH_AFTER_SEND_ENV = "CAMPAIGN_TEST_CRASH_AFTER_SEND"

PENDING, SENDING, SENT, FAILED, GAVE_UP, UNCERTAIN = "pending", "sending", "sent", "failed", "gave_up", "uncertain"
PLANNED = "planned"  # outbox state once its deliveries exist
PUSH_CHANNELS = ("email", "webhook")

UNCERTAIN_TEXT = (
    "发送过程中进程中断（崩溃或被终止），无法确认对方是否已收到。为避免重复打扰，系统不会自动重发；"
    "请核实后在看板中确认“已送达”或“重新发送”。"
)

ESCALATION_NAMES = ("预警", "通报批评", "约谈")


class DeliverySettings(NotifySettings):
    """NotifySettings plus the delivery policy (same sources: env CAMPAIGN_*, settings file)."""

    delivery_max_attempts: int = Field(default=5, ge=1)
    # Wait before attempt n+1 after a retryable failure of attempt n (last value repeats).
    delivery_retry_delays_s: list[float] = Field(default_factory=lambda: [60.0, 300.0, 1800.0, 7200.0])
    # A row still 'sending' this long after its claim was interrupted by a crash.
    delivery_sending_stale_s: float = Field(default=120.0, ge=0)

    def retry_delay(self, attempts: int) -> dt.timedelta:
        delays = self.delivery_retry_delays_s or [0.0]
        return dt.timedelta(seconds=delays[min(attempts, len(delays)) - 1])


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlanReport:
    campaign: str
    day: dt.date
    skipped: str | None = None  # why nothing was planned (holiday / weekend)
    outbox_rows: int = 0
    inbox_items: int = 0
    push_messages: int = 0  # email + webhook deliveries created or extended


@dataclass(frozen=True)
class _Person:
    key: str  # username, or dept:<code> for a department's contact mailbox
    name: str
    email: str | None
    username: str | None  # has an in-app inbox


@dataclass
class _Item:
    natural_key: str
    outbox_id: int
    subject: str
    body: str


@dataclass
class _Context:
    campaign: Campaign
    spec: CampaignSpec
    departments: dict[int, Department]
    office: Department | None
    users: list[User]
    settings: NotifySettings
    day: dt.date

    def link(self, assignment_id: int) -> str:
        return f"{self.settings.dashboard_base_url.rstrip('/')}/?assignment={assignment_id}"


def _dept_people(ctx: _Context, dept: Department, *, with_users: bool = True) -> list[_Person]:
    people: list[_Person] = []
    if dept.contact_email:
        people.append(_Person(f"dept:{dept.code}", dept.contact_name or dept.name, dept.contact_email, None))
    if with_users:
        people += [
            _Person(u.username, u.display_name, u.email, u.username)
            for u in ctx.users
            if u.department_code == dept.code and u.role in ("department", "office")
        ]
    return people


def _audience_people(ctx: _Context, outbox: Outbox) -> list[_Person]:
    dept = ctx.departments[outbox.department_id]
    if outbox.audience == "department":
        return _dept_people(ctx, dept)
    if outbox.audience == "department_head":
        return _dept_people(ctx, dept, with_users=False)
    if outbox.audience == "office":
        people = _dept_people(ctx, ctx.office) if ctx.office is not None else []
        known = {p.key for p in people}
        people += [_Person(u.username, u.display_name, u.email, u.username)
                   for u in ctx.users if u.role == "office" and u.username not in known]
        return people
    if outbox.audience == "leaders":
        return [_Person(u.username, u.display_name, u.email, u.username) for u in ctx.users if u.role == "leader"]
    log.warning("未知的通知对象 %s（outbox %s），已跳过", outbox.audience, outbox.natural_key)
    return []


def _audience_label(ctx: _Context, audience: str, dept: Department) -> str:
    office_name = ctx.office.name if ctx.office is not None else "牵头办公室"
    return {
        "department": dept.name,
        "department_head": f"{dept.name}主要负责人",
        "office": f"{office_name}（牵头办公室）",
        "leaders": "分管领导",
    }.get(audience, audience)


def _level_name(spec: CampaignSpec, level: int) -> tuple[str, tuple[str, ...]]:
    """The rung's name as render_escalation knows it, and the audiences the rung notifies."""
    rung = next((r for r in spec.escalation if r.level == level), None)
    notify = tuple(a.value for a in rung.notify) if rung is not None else ()
    name = rung.name if rung is not None else ""
    if name not in ESCALATION_NAMES:  # a campaign may name its rungs differently
        name = ESCALATION_NAMES[min(max(level, 1), 3) - 1]
    return name, notify


def _render_item(ctx: _Context, outbox: Outbox, assignment: Assignment, template: TaskTemplate) -> tuple[str, str]:
    dept = ctx.departments[outbox.department_id]
    title = f"{template.title}（{assignment.period}）" if assignment.period else template.title
    cal = campaign_calendar(ctx.spec)
    # Standing as of the delivery day: a reminder deferred past a holiday tells the truth.
    s = standing(assignment.due_on, max(ctx.day, outbox.created_on), cal)
    link = ctx.link(assignment.id)
    common = dict(task_title=title, campaign_title=ctx.campaign.title, department_name=dept.name,
                  due_date=assignment.due_on, link=link)
    if outbox.kind == "escalation":
        name, notify = _level_name(ctx.spec, outbox.level)
        others = [_audience_label(ctx, a, dept) for a in notify if a != outbox.audience]
        return render_escalation(name, max(1, s.overdue_working_days), others, **common)  # type: ignore[arg-type]
    if s.overdue:
        return render_overdue(working_days_overdue=s.overdue_working_days, **common)
    return render_reminder(working_days_left=s.working_days_left, **common)


def _insert_ignore(session: Session, values: dict) -> bool:
    table = OutboxDelivery.__table__
    ins = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
    return bool(session.execute(ins.values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])).rowcount)


def _key(*parts: object) -> str:
    key = "|".join(str(p) for p in parts)
    if len(key) <= 190:
        return key
    return key[:150] + "|" + hashlib.sha256(key.encode()).hexdigest()[:32]


def is_send_day(spec: CampaignSpec, day: dt.date, settings: NotifySettings) -> bool:
    return settings.send_on_holidays or campaign_calendar(spec).is_workday(day)


def plan_deliveries(session: Session, campaign_code: str, day: dt.date, settings: NotifySettings) -> PlanReport:
    """Plan every pending outbox row owed on or before ``day``; the caller commits."""
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    if not is_send_day(spec, day, settings):
        reason = campaign_calendar(spec).holiday_name(day) or "周末"
        return PlanReport(campaign_code, day, skipped=f"{day} 为非工作日（{reason}），不发送通知")
    rows = session.execute(
        select(Outbox, Assignment, TaskTemplate)
        .join(Assignment, Assignment.id == Outbox.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Outbox.campaign_id == campaign.id, Outbox.state == PENDING, Outbox.created_on <= day)
        .order_by(Outbox.created_on, Outbox.level.desc(), Assignment.due_on, Outbox.id)
    ).all()
    if not rows:
        return PlanReport(campaign_code, day)
    departments = {d.id: d for d in session.scalars(select(Department).where(Department.campaign_id == campaign.id))}
    ctx = _Context(
        campaign=campaign, spec=spec, departments=departments,
        office=next((d for d in departments.values() if d.is_office), None),
        users=list(session.scalars(select(User).where(User.disabled.is_(False)).order_by(User.username))),
        settings=settings, day=day,
    )
    inbox = 0
    mailboxes: dict[str, tuple[_Person, list[_Item]]] = {}
    group: list[_Item] = []
    for outbox, assignment, template in rows:
        subject, body = _render_item(ctx, outbox, assignment, template)
        item = _Item(outbox.natural_key, outbox.id, subject, body)
        group.append(item)
        for person in _audience_people(ctx, outbox):
            if person.username:
                inbox += _insert_ignore(session, dict(
                    outbox_id=outbox.id, campaign_id=campaign.id,
                    dedupe_key=_key("inbox", person.username, outbox.natural_key),
                    channel="inbox", target=person.username, recipient=person.username,
                    subject=subject[:300], body=body, state=SENT, attempts=0, created_on=day,
                    outbox_keys=json.dumps([outbox.natural_key]),
                ))
            if person.email and settings.smtp_host:
                address = person.email.strip().lower()
                entry = mailboxes.setdefault(address, (person, []))
                if item not in entry[1]:
                    entry[1].append(item)
        outbox.state = PLANNED
    pushed = 0
    for address, (person, items) in mailboxes.items():
        pushed += _plan_digest(session, ctx, "email", address, person.key, person.name, items)
    for target in settings.webhooks:
        pushed += _plan_digest(session, ctx, "webhook", target.name, target.name, "各位同事", group)
    session.flush()
    return PlanReport(campaign_code, day, None, len(rows), inbox, pushed)


def _plan_digest(session: Session, ctx: _Context, channel: str, target: str, recipient: str, name: str,
                 items: list[_Item]) -> int:
    """One message per (channel, target, campaign, day); later items of the same day extend a
    still-pending digest, or go into a numbered follow-up once the first one is on its way."""
    campaign, day = ctx.campaign, ctx.day
    base = _key(channel, target, campaign.code, day)
    for n in range(1, 100):
        dedupe_key = base if n == 1 else f"{base}#{n}"
        existing = session.scalar(select(OutboxDelivery).where(OutboxDelivery.dedupe_key == dedupe_key))
        if existing is not None and existing.state != PENDING:
            continue
        if existing is not None:
            known = json.loads(existing.outbox_keys or "[]")
            items = [i for i in _items_for(session, ctx, known) if i.natural_key not in {x.natural_key for x in items}] + items
        subject, body = _compose(name, items, day)
        values = dict(subject=subject[:300], body=body, outbox_keys=json.dumps([i.natural_key for i in items]))
        if existing is not None:
            for k, v in values.items():
                setattr(existing, k, v)
            return 1
        return int(_insert_ignore(session, dict(
            outbox_id=items[0].outbox_id if len(items) == 1 else None, campaign_id=campaign.id,
            dedupe_key=dedupe_key, channel=channel, target=target[:200], recipient=recipient[:100],
            state=PENDING, attempts=0, created_on=day, **values,
        )))
    raise RuntimeError(f"too many follow-up digests for {base}")


def _items_for(session: Session, ctx: _Context, natural_keys: list[str]) -> list[_Item]:
    """Items of an existing pending digest, rendered again from their outbox rows."""
    if not natural_keys:
        return []
    rows = session.execute(
        select(Outbox, Assignment, TaskTemplate)
        .join(Assignment, Assignment.id == Outbox.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Outbox.natural_key.in_(natural_keys))
    ).all()
    by_key = {o.natural_key: _Item(o.natural_key, o.id, *_render_item(ctx, o, a, t)) for o, a, t in rows}
    return [by_key[k] for k in natural_keys if k in by_key]


def _compose(name: str, items: list[_Item], day: dt.date) -> tuple[str, str]:
    if len(items) == 1:
        return items[0].subject, items[0].body
    return render_digest(name, [(i.subject, i.body) for i in items], day)


# --------------------------------------------------------------------------- sending


@dataclass
class SendReport:
    channel: str
    sent: int = 0
    failed: int = 0  # will be retried
    gave_up: int = 0
    uncertain: int = 0  # found interrupted; not re-sent
    errors: list[str] = field(default_factory=list)

    @property
    def retry_wanted(self) -> bool:
        return self.failed > 0


Sender = Callable[[OutboxDelivery, NotifySettings, dt.datetime], None]


def _send(row: OutboxDelivery, settings: NotifySettings, at: dt.datetime) -> None:
    if row.channel == "email":
        message = Message(recipient_key=row.recipient, recipient_email=row.target, subject=row.subject,
                          body_markdown=row.body, dedupe_key=row.dedupe_key)
        send_email(settings, message, at=at)
    elif row.channel == "webhook":
        try:
            target = settings.webhook(row.target)
        except KeyError:
            raise ChannelError("webhook", row.target, "该 webhook 目标已不在配置中", retryable=False) from None
        message = Message(recipient_key=row.recipient, subject=row.subject, body_markdown=row.body,
                          link=settings.dashboard_base_url, dedupe_key=row.dedupe_key)
        send_webhook(target, message, at=at, timeout_s=settings.webhook_timeout_s)
    else:
        raise ChannelError(row.channel, row.target, f"未知的通知渠道 {row.channel}", retryable=False)


def _scope(campaign_id: int, channel: str):  # noqa: ANN202
    return (OutboxDelivery.campaign_id == campaign_id, OutboxDelivery.channel == channel)


def recover_interrupted(session: Session, campaign_code: str, channel: str, settings: DeliverySettings,
                        at: dt.datetime) -> int:
    """Stale 'sending' rows → 'uncertain' (never re-sent automatically). Commits."""
    campaign = get_campaign(session, campaign_code)
    stale_before = at - dt.timedelta(seconds=settings.delivery_sending_stale_s)
    n = session.execute(
        update(OutboxDelivery)
        .where(*_scope(campaign.id, channel), OutboxDelivery.state == SENDING,
               or_(OutboxDelivery.claimed_at.is_(None), OutboxDelivery.claimed_at <= stale_before))
        .values(state=UNCERTAIN, last_error=UNCERTAIN_TEXT, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if n:
        log.warning("%s 条%s通知在发送中被中断，已标记为“待确认”，不会自动重发", n, channel)
    return n


def send_pending(session: Session, campaign_code: str, channel: str, settings: DeliverySettings,
                 at: dt.datetime, *, sender: Sender = _send) -> SendReport:
    """Send the channel's due deliveries one by one; commits around every send (see module doc)."""
    if channel not in PUSH_CHANNELS:
        raise ValueError(f"channel must be one of {PUSH_CHANNELS}")
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    report = SendReport(channel, uncertain=recover_interrupted(session, campaign_code, channel, settings, at))
    campaign = get_campaign(session, campaign_code)
    due_ids = list(session.scalars(
        select(OutboxDelivery.id)
        .where(*_scope(campaign.id, channel), OutboxDelivery.state.in_((PENDING, FAILED)),
               or_(OutboxDelivery.next_attempt_at.is_(None), OutboxDelivery.next_attempt_at <= at))
        .order_by(OutboxDelivery.id)
    ))
    session.commit()
    for delivery_id in due_ids:
        _send_one(session, delivery_id, settings, at, sender, report)
    return report


def _send_one(session: Session, delivery_id: int, settings: DeliverySettings, at: dt.datetime,
              sender: Sender, report: SendReport) -> None:
    # (a) claim and commit: from here on, a crash leaves evidence that a send may have happened.
    claimed = session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.id == delivery_id, OutboxDelivery.state.in_((PENDING, FAILED)))
        .values(state=SENDING, attempts=OutboxDelivery.attempts + 1, claimed_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not claimed:  # another run took it
        return
    row = session.get(OutboxDelivery, delivery_id, populate_existing=True)
    assert row is not None
    try:
        sender(row, settings, at)  # (b)
    except ChannelError as exc:
        retry = exc.retryable and row.attempts < settings.delivery_max_attempts
        row.state = FAILED if retry else GAVE_UP
        row.next_attempt_at = at + settings.retry_delay(row.attempts) if retry else None
        row.last_error = exc.message
        session.commit()
        report.failed += retry
        report.gave_up += not retry
        report.errors.append(f"#{row.id} {row.channel}→{row.recipient}: {exc.message}")
        log.warning("通知 #%s（%s → %s）第 %s 次发送失败：%s", row.id, row.channel, row.recipient, row.attempts,
                    exc.message)
        return
    except Exception as exc:  # noqa: BLE001 - a bug in one message must not stop the others
        row.state, row.next_attempt_at = GAVE_UP, None
        row.last_error = f"发送时出现程序错误：{type(exc).__name__}"
        session.commit()
        report.gave_up += 1
        report.errors.append(f"#{row.id} {row.channel}→{row.recipient}: {row.last_error}")
        log.exception("通知 #%s 发送时出现程序错误", row.id)
        return
    if os.environ.get(CRASH_AFTER_SEND_ENV) == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    # (c) record.
    row.state, row.sent_at, row.last_error, row.next_attempt_at = SENT, at, None, None
    session.commit()
    report.sent += 1


# --------------------------------------------------------------------------- inbox and follow-up


@dataclass(frozen=True)
class InboxItem:
    id: int
    subject: str
    body: str
    created_on: dt.date
    read_at: dt.datetime | None
    campaign_code: str | None
    assignment_id: int | None


def inbox_for(session: Session, username: str, *, unread_only: bool = False, limit: int = 200) -> list[InboxItem]:
    query = (
        select(OutboxDelivery, Campaign.code, Outbox.assignment_id)
        .outerjoin(Campaign, Campaign.id == OutboxDelivery.campaign_id)
        .outerjoin(Outbox, Outbox.id == OutboxDelivery.outbox_id)
        .where(OutboxDelivery.channel == "inbox", OutboxDelivery.target == username)
        .order_by(OutboxDelivery.created_on.desc(), OutboxDelivery.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(OutboxDelivery.read_at.is_(None))
    return [InboxItem(d.id, d.subject, d.body, d.created_on, d.read_at, code, assignment_id)
            for d, code, assignment_id in session.execute(query)]


def unread_count(session: Session, username: str) -> int:
    """One COUNT query: the dashboard asks on every page."""
    return int(session.scalar(
        select(func.count(OutboxDelivery.id))
        .where(OutboxDelivery.channel == "inbox", OutboxDelivery.target == username, OutboxDelivery.read_at.is_(None))
    ) or 0)


def mark_read(session: Session, username: str, delivery_id: int, at: dt.datetime) -> bool:
    """Only the owner can mark an item read; returns False if it is not theirs or already read."""
    return bool(session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.id == delivery_id, OutboxDelivery.channel == "inbox",
               OutboxDelivery.target == username, OutboxDelivery.read_at.is_(None))
        .values(read_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount)


@dataclass(frozen=True)
class DeliveryProblem:
    id: int
    channel: str
    target: str
    recipient: str
    subject: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None


def problems(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
             ) -> list[DeliveryProblem]:
    """Deliveries that need attention (failed, gave_up, uncertain): the office's list, in the dashboard and CLI."""
    check(can_administer(actor), actor=actor, at=at, action="delivery.list", entity="campaign",
          entity_key=campaign_code, label="查看发送失败的通知", reason="通知发送情况由牵头办公室处理。")
    campaign = get_campaign(session, campaign_code)
    rows = session.scalars(
        select(OutboxDelivery)
        .where(OutboxDelivery.campaign_id == campaign.id, OutboxDelivery.state.in_((FAILED, GAVE_UP, UNCERTAIN)))
        .order_by(OutboxDelivery.id)
    )
    return [DeliveryProblem(r.id, r.channel, r.target, r.recipient, r.subject, r.state, r.attempts,
                            r.last_error, r.next_attempt_at) for r in rows]


def confirm_uncertain(session: Session, *, actor: Actor, at: dt.datetime, delivery_id: int, delivered: bool) -> None:
    """The office checked an interrupted / abandoned delivery: it arrived, or it should be sent again."""
    key = str(delivery_id)
    check(can_administer(actor), actor=actor, at=at, action="delivery.confirm", entity="delivery",
          entity_key=key, label="确认通知送达情况", reason="通知发送情况由牵头办公室处理。")
    row = session.get(OutboxDelivery, delivery_id)
    if row is None or row.state not in (UNCERTAIN, GAVE_UP):
        fail(Invalid(f"通知 #{delivery_id} 不处于待确认或已放弃状态"), actor=actor, at=at,
             action="delivery.confirm", entity="delivery", entity_key=key)
    before = {"state": row.state, "attempts": row.attempts}
    if delivered:
        row.state, row.sent_at = SENT, at
        row.last_error = (row.last_error or "") + "（已人工确认送达）"
    else:
        row.state, row.next_attempt_at, row.attempts = PENDING, None, 0
    audit.record(session, at=at, actor=actor, action="delivery.confirm", entity="delivery", entity_key=key,
                 before=before, after={"state": row.state, "attempts": row.attempts})


def counts(session: Session, campaign_code: str) -> dict[tuple[str, str], int]:
    """(channel, state) → number of deliveries."""
    campaign = get_campaign(session, campaign_code)
    out: dict[tuple[str, str], int] = defaultdict(int)
    for channel, state in session.execute(
        select(OutboxDelivery.channel, OutboxDelivery.state).where(OutboxDelivery.campaign_id == campaign.id)
    ):
        out[(channel, state)] += 1
    return dict(out)




def mark_all_read(session: Session, username: str, at: dt.datetime) -> int:
    """Mark every unread inbox item of this user read; returns how many."""
    return int(session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.channel == "inbox", OutboxDelivery.target == username, OutboxDelivery.read_at.is_(None))
        .values(read_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount or 0)
