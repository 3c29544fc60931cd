"""Deliveries that need the office: failed (will be retried), given up and interrupted
(uncertain) messages, and the office's decision on each. The caller commits (store.uow)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, can_administer
from domain.delivery import DELIVERY, SETTLED_BY_OFFICE, DeliveryState
from domain.errors import Invalid
from services.campaigns import get_campaign
from services.guard import check, fail, resolve
from store import audit
from store.models import OutboxDelivery

NEEDS_ATTENTION = (DeliveryState.failed.value, *SETTLED_BY_OFFICE)
_OFFICE_ONLY = "通知发送情况由牵头办公室处理。"


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

    @property
    def state_label(self) -> str:
        return DELIVERY.label(self.state)


def problems(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
) -> list[DeliveryProblem]:
    """Deliveries that need attention: the office's list, in the dashboard and the CLI."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="delivery.list",
        entity="campaign",
        entity_key=campaign_code,
        label="查看发送失败的通知",
        reason=_OFFICE_ONLY,
    )
    campaign = get_campaign(session, campaign_code)
    rows = session.scalars(
        select(OutboxDelivery)
        .where(OutboxDelivery.campaign_id == campaign.id, OutboxDelivery.state.in_(NEEDS_ATTENTION))
        .order_by(OutboxDelivery.id)
    )
    return [
        DeliveryProblem(
            r.id, r.channel, r.target, r.recipient, r.subject, r.state, r.attempts, r.last_error, r.next_attempt_at
        )
        for r in rows
    ]


def confirm_uncertain(session: Session, *, actor: Actor, at: dt.datetime, delivery_id: int, delivered: bool) -> None:
    """The office checked an interrupted / abandoned delivery: it arrived, or it is to be sent again."""
    actor = resolve(session, actor, at=at)
    key = str(delivery_id)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="delivery.confirm",
        entity="delivery",
        entity_key=key,
        label="确认通知送达情况",
        reason=_OFFICE_ONLY,
    )
    row = session.get(OutboxDelivery, delivery_id)
    target = DeliveryState.sent if delivered else DeliveryState.pending
    if row is None or not DELIVERY.allows(row.state, target):
        fail(
            Invalid(f"通知 #{delivery_id} 不处于待确认或已放弃状态"),
            actor=actor,
            at=at,
            action="delivery.confirm",
            entity="delivery",
            entity_key=key,
        )
    before = {"state": row.state, "attempts": row.attempts}
    if delivered:
        row.state, row.sent_at = target.value, at
        row.last_error = (row.last_error or "") + "（已人工确认送达）"
    else:
        row.state, row.next_attempt_at, row.attempts = target.value, None, 0
    audit.record(
        session,
        at=at,
        actor=actor,
        action="delivery.confirm",
        entity="delivery",
        entity_key=key,
        before=before,
        after={"state": row.state, "attempts": row.attempts},
    )


def counts(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None
) -> dict[tuple[str, str], int]:
    """(channel, state) → number of deliveries."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="delivery.list",
        entity="campaign",
        entity_key=campaign_code,
        label="查看通知发送情况",
        reason=_OFFICE_ONLY,
    )
    campaign = get_campaign(session, campaign_code)
    out: dict[tuple[str, str], int] = defaultdict(int)
    for channel, state in session.execute(
        select(OutboxDelivery.channel, OutboxDelivery.state).where(OutboxDelivery.campaign_id == campaign.id)
    ):
        out[(channel, state)] += 1
    return dict(out)
