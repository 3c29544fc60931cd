"""The in-app inbox: a person reads and marks read their own messages, never anyone else's.

An inbox message is the delivery row itself (channel `inbox`, target = the username, state
`sent` when planned). It is dated the day of its event, checked against the records whenever it is
shown (a reminder for work handed in since is obsolete, not unread), and grouped with the other
messages about the same assignment into one thread (services.delivery.truth). Marking read is
recorded in the audit chain as `message.read`. The caller commits (store.uow).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, not_, or_, select, update
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.assignment import ASSIGNMENT, UNFINISHED
from domain.delivery import Channel
from services.delivery.truth import is_stale, stale, thread_key
from services.guard import resolve
from store import audit
from store.models import Assignment, Campaign, Outbox, OutboxDelivery


@dataclass(frozen=True)
class InboxItem:
    id: int
    subject: str
    body: str
    created_on: dt.date  # the day of the event the message is about (not the day it was delivered)
    read_at: dt.datetime | None
    campaign_code: str | None
    assignment_id: int | None
    kind: str = ""
    thread: str = ""  # what it is about (services.delivery.truth.thread_key)
    obsolete: bool = False  # no longer true: the work it chased was handed in
    assignment_status: str | None = None  # the assignment's state now

    @property
    def unread(self) -> bool:
        """Waiting to be read: not read, and still true."""
        return self.read_at is None and not self.obsolete

    @property
    def actionable(self) -> bool:
        """The assignment still waits for the department's work (去办理 makes sense)."""
        return self.assignment_status in UNFINISHED

    @property
    def state_text(self) -> str:
        return ASSIGNMENT.label(self.assignment_status) if self.assignment_status else ""

    @property
    def obsolete_note(self) -> str:
        return f"该任务现为「{self.state_text}」，这条提醒已失效。" if self.obsolete else ""


@dataclass(frozen=True)
class InboxThread:
    """The messages about one assignment (or one lead, one problem), newest first."""

    key: str
    items: list[InboxItem]

    @property
    def latest(self) -> InboxItem:
        return self.items[0]

    @property
    def unread(self) -> int:
        return sum(i.unread for i in self.items)


def _own(actor: Actor):  # noqa: ANN202
    return (OutboxDelivery.channel == Channel.inbox, OutboxDelivery.target == actor.username)


def inbox_for(session: Session, *, actor: Actor, unread_only: bool = False, limit: int = 200) -> list[InboxItem]:
    """The actor's own messages, newest event first, each checked against the records now: a message
    chasing work handed in since is obsolete (services.delivery.truth), whatever the tick has marked."""
    actor = resolve(session, actor)
    query = (
        select(
            OutboxDelivery,
            Campaign.code,
            Outbox.assignment_id,
            Outbox.kind,
            Outbox.chases,
            Outbox.thread_key,
            Outbox.created_on,
            Assignment.status,
        )
        .outerjoin(Campaign, Campaign.id == OutboxDelivery.campaign_id)
        .outerjoin(Outbox, Outbox.id == OutboxDelivery.outbox_id)
        .outerjoin(Assignment, Assignment.id == Outbox.assignment_id)
        .where(*_own(actor))
        .order_by(func.coalesce(Outbox.created_on, OutboxDelivery.created_on).desc(), OutboxDelivery.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(OutboxDelivery.read_at.is_(None), OutboxDelivery.obsolete_at.is_(None))
    items = [
        InboxItem(
            d.id,
            d.subject,
            d.body,
            event_on or d.created_on,
            d.read_at,
            code,
            assignment_id,
            kind or "",
            thread_key(thread, assignment_id, d.id),
            d.obsolete_at is not None or is_stale(kind or "", bool(chases), status),
            status,
        )
        for d, code, assignment_id, kind, chases, thread, event_on, status in session.execute(query)
    ]
    return [i for i in items if i.unread] if unread_only else items


def threads_for(session: Session, *, actor: Actor, unread_only: bool = False, limit: int = 200) -> list[InboxThread]:
    """The actor's messages as threads (one per assignment / lead / problem), the thread with the
    newest message first; `unread_only`: threads with something unread."""
    items = inbox_for(session, actor=actor, limit=limit)
    grouped: dict[str, list[InboxItem]] = {}
    for item in items:
        grouped.setdefault(item.thread, []).append(item)
    threads = [InboxThread(key, rows) for key, rows in grouped.items()]
    return [t for t in threads if t.unread] if unread_only else threads


def unread_count(session: Session, *, actor: Actor) -> int:
    """One COUNT query (the dashboard asks on every page): unread messages still true."""
    actor = resolve(session, actor)
    return int(
        session.scalar(
            select(func.count(OutboxDelivery.id))
            .outerjoin(Outbox, Outbox.id == OutboxDelivery.outbox_id)
            .where(
                *_own(actor),
                OutboxDelivery.read_at.is_(None),
                OutboxDelivery.obsolete_at.is_(None),
                or_(Outbox.id.is_(None), not_(stale())),
            )
        )
        or 0
    )


def mark_thread_read(session: Session, *, actor: Actor, thread: str, at: dt.datetime) -> int:
    """Mark every unread message of one of the actor's threads read; returns how many."""
    ids = [i.id for i in inbox_for(session, actor=actor, limit=1000) if i.thread == thread and i.read_at is None]
    return sum(mark_read(session, actor=actor, delivery_id=i, at=at) for i in ids)


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
