"""The in-app inbox: a person reads and marks read their own messages, never anyone else's.

An inbox message is the delivery row itself (channel `inbox`, target = the username, state
`sent` when planned). Marking read is recorded in the audit chain as `message.read`. The caller
commits (store.uow).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.delivery import Channel
from services.guard import resolve
from store import audit
from store.models import Campaign, Outbox, OutboxDelivery


@dataclass(frozen=True)
class InboxItem:
    id: int
    subject: str
    body: str
    created_on: dt.date
    read_at: dt.datetime | None
    campaign_code: str | None
    assignment_id: int | None


def _own(actor: Actor):  # noqa: ANN202
    return (OutboxDelivery.channel == Channel.inbox, OutboxDelivery.target == actor.username)


def inbox_for(session: Session, *, actor: Actor, unread_only: bool = False, limit: int = 200) -> list[InboxItem]:
    """The actor's own messages, newest first."""
    actor = resolve(session, actor)
    query = (
        select(OutboxDelivery, Campaign.code, Outbox.assignment_id)
        .outerjoin(Campaign, Campaign.id == OutboxDelivery.campaign_id)
        .outerjoin(Outbox, Outbox.id == OutboxDelivery.outbox_id)
        .where(*_own(actor))
        .order_by(OutboxDelivery.created_on.desc(), OutboxDelivery.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(OutboxDelivery.read_at.is_(None))
    return [
        InboxItem(d.id, d.subject, d.body, d.created_on, d.read_at, code, assignment_id)
        for d, code, assignment_id in session.execute(query)
    ]


def unread_count(session: Session, *, actor: Actor) -> int:
    """One COUNT query: the dashboard asks on every page."""
    actor = resolve(session, actor)
    return int(
        session.scalar(select(func.count(OutboxDelivery.id)).where(*_own(actor), OutboxDelivery.read_at.is_(None))) or 0
    )


def mark_read(session: Session, *, actor: Actor, delivery_id: int, at: dt.datetime) -> bool:
    """Mark one of the actor's own unread messages read; False if it is not theirs or already read."""
    actor = resolve(session, actor, at=at)
    marked = session.scalar(
        update(OutboxDelivery)
        .where(OutboxDelivery.id == delivery_id, *_own(actor), OutboxDelivery.read_at.is_(None))
        .values(read_at=at)
        .returning(OutboxDelivery.id)
        .execution_options(synchronize_session=False)
    )
    if marked is not None:
        audit.record(
            session,
            at=at,
            actor=actor,
            action="message.read",
            entity="message",
            entity_key=str(delivery_id),
            after={"read_at": at.isoformat()},
        )
    return marked is not None


def mark_all_read(session: Session, *, actor: Actor, at: dt.datetime) -> int:
    """Mark every unread message of the actor read (one audit entry with a digest of the ids)."""
    actor = resolve(session, actor, at=at)
    ids = sorted(
        session.scalars(
            update(OutboxDelivery)
            .where(*_own(actor), OutboxDelivery.read_at.is_(None))
            .values(read_at=at)
            .returning(OutboxDelivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not ids:
        return 0
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="message.read",
        entity="inbox",
        entity_key=actor.username,
        after={"read_at": at.isoformat(), "messages": len(ids), "ids_sha256": digest},
    )
    return len(ids)
