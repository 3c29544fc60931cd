"""Planning: the campaign's pending outbox rows become deliveries — an ordinary service.

One in-app inbox item per person per outbox row (delivered at once: state `sent`), and ONE daily
digest per (channel, mailbox / webhook target, campaign, day) left `pending` for
`services.delivery.sending`. Every delivery has a natural dedupe key inserted with ON CONFLICT DO
NOTHING, and the outbox rows turn `planned` in the same transaction, so a re-run plans nothing
twice. The caller commits (store.uow). Services never read the clock: `day` and `at` come from
the edge.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.access import SYSTEM
from domain.delivery import Channel, DeliveryState, OutboxKind, OutboxState
from domain.rules import standing
from domain.spec import CampaignSpec
from notify import render_digest, render_escalation, render_overdue, render_reminder
from services.campaigns import get_campaign, stored_spec
from services.delivery.audience import Audiences, Person
from services.holidays import campaign_calendar
from settings import Settings
from store import audit
from store.models import Assignment, Campaign, Department, Outbox, OutboxDelivery, TaskTemplate, User


@dataclass(frozen=True)
class PlanReport:
    campaign: str
    day: dt.date
    skipped: str | None = None  # why nothing was planned (holiday / weekend)
    outbox_rows: int = 0
    inbox_items: int = 0
    push_messages: int = 0  # email + webhook deliveries created or extended


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
    settings: Settings
    day: dt.date

    def render(self, outbox: Outbox, assignment: Assignment, template: TaskTemplate) -> _Item:
        dept = self.audiences.departments[outbox.department_id]
        title = f"{template.title}（{assignment.period}）" if assignment.period else template.title
        # Standing as of the delivery day: a reminder deferred past a holiday tells the truth.
        s = standing(assignment.due_on, max(self.day, outbox.created_on), campaign_calendar(self.spec))
        link = f"{self.settings.dashboard_base_url.rstrip('/')}/?assignment={assignment.id}"
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

    def insert_ignore(self, **values: Any) -> bool:
        dialect = self.session.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxDelivery)
        stmt = ins.values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        return self.session.scalar(stmt.returning(OutboxDelivery.id)) is not None


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
    rows = session.execute(
        select(Outbox, Assignment, TaskTemplate)
        .join(Assignment, Assignment.id == Outbox.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Outbox.campaign_id == campaign.id, Outbox.state == OutboxState.pending, Outbox.created_on <= day)
        .order_by(Outbox.created_on, Outbox.level.desc(), Assignment.due_on, Outbox.id)
    ).all()
    if not rows:
        return PlanReport(campaign_code, day)
    audiences = Audiences(
        departments={d.id: d for d in session.scalars(select(Department).where(Department.campaign_id == campaign.id))},
        users=list(session.scalars(select(User).where(User.disabled.is_(False)).order_by(User.username))),
    )
    plan = _Plan(session, campaign, spec, audiences, settings, day)
    inbox = 0
    mailboxes: dict[str, tuple[Person, list[_Item]]] = {}
    group: list[_Item] = []
    for outbox, assignment, template in rows:
        item = plan.render(outbox, assignment, template)
        group.append(item)
        for person in audiences.people(outbox):
            if person.username:
                inbox += plan.insert_ignore(
                    outbox_id=outbox.id,
                    campaign_id=campaign.id,
                    dedupe_key=_key(Channel.inbox, person.username, outbox.natural_key),
                    channel=Channel.inbox.value,
                    target=person.username,
                    recipient=person.username,
                    subject=item.subject[:300],
                    body=item.body,
                    state=DeliveryState.sent.value,
                    attempts=0,
                    created_on=day,
                    outbox_keys=json.dumps([outbox.natural_key]),
                )
            if person.email and settings.smtp_host:
                entry = mailboxes.setdefault(person.email.strip().lower(), (person, []))
                if item not in entry[1]:
                    entry[1].append(item)
        outbox.state = OutboxState.planned.value
    pushed = 0
    for address, (person, items) in mailboxes.items():
        pushed += _plan_digest(plan, Channel.email, address, person.key, person.name, items)
    for target in settings.webhooks:
        pushed += _plan_digest(plan, Channel.webhook, target.name, target.name, "各位同事", group)
    session.flush()
    report = PlanReport(campaign_code, day, None, len(rows), inbox, pushed)
    outbox_ids = ",".join(str(o.id) for o, _, _ in rows)
    audit.record(
        session,
        at=at,
        actor=SYSTEM,
        action="delivery.plan",
        entity="campaign",
        entity_key=campaign_code,
        after={
            "day": day.isoformat(),
            "outbox_rows": len(rows),
            "inbox_items": inbox,
            "push_messages": pushed,
            "outbox_ids_sha256": hashlib.sha256(outbox_ids.encode()).hexdigest(),
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


def _items_for(plan: _Plan, natural_keys: list[str]) -> list[_Item]:
    """Items of an existing pending digest, rendered again from their outbox rows."""
    if not natural_keys:
        return []
    rows = plan.session.execute(
        select(Outbox, Assignment, TaskTemplate)
        .join(Assignment, Assignment.id == Outbox.assignment_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Outbox.natural_key.in_(natural_keys))
    ).all()
    by_key = {o.natural_key: plan.render(o, a, t) for o, a, t in rows}
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
