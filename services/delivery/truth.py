"""Is a message still true? One rule for every kind, over the outbox row alone (assignment, kind,
event day, `chases`), so kinds added later need no code here.

- A message that chases work (the tick's reminders, overdue notices and escalations, and any event
  owed with `chases=True`, such as a 催办) is stale once its assignment no longer waits for the
  department: handed in (submitted, accepted) or cancelled. It is not delivered then (the outbox
  row turns `obsolete`; an e-mail / webhook digest planned before is checked again when it is sent,
  `planning.recheck`: its stale items are left out, and with none left it turns `obsolete` too),
  and an unread one already in an inbox is marked obsolete
  (`OutboxDelivery.obsolete_at`), shown greyed with the reason, and no longer counted as unread.
- Messages about one assignment (or one `thread_key`) form one thread; the thread shows the
  assignment's current state, so a fact message (退回, 审核通过, …) is read beside what is true now.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from domain.assignment import UNFINISHED
from domain.delivery import CHASING_KINDS, Channel
from store.models import Assignment, Outbox, OutboxDelivery
from store.sql import OF_CAMPAIGN


def chases() -> ColumnElement[bool]:
    """The outbox row asks for unfinished work (SQL)."""
    return or_(Outbox.chases.is_(True), Outbox.kind.in_(sorted(CHASING_KINDS)))


def stale() -> ColumnElement[bool]:
    """The outbox row chases work its assignment no longer owes (SQL; joins nothing itself)."""
    return and_(
        chases(),
        Outbox.assignment_id.is_not(None),
        exists().where(Assignment.id == Outbox.assignment_id, Assignment.status.not_in(UNFINISHED)),
    )


def is_stale(kind: str, chases_flag: bool, assignment_status: str | None) -> bool:
    """The same rule in Python, for a row already loaded."""
    chasing = chases_flag or kind in CHASING_KINDS
    return chasing and assignment_status is not None and assignment_status not in UNFINISHED


def thread_key(explicit: str | None, assignment_id: int | None, delivery_id: int) -> str:
    """What a message is about: its thread."""
    if explicit:
        return explicit
    return f"assignment:{assignment_id}" if assignment_id is not None else f"message:{delivery_id}"


# Built once: every tick runs it (bind parameters: of_campaign, retired_at).
_RETIRE_UNREAD = (
    update(OutboxDelivery)
    .where(
        OutboxDelivery.campaign_id == OF_CAMPAIGN,
        OutboxDelivery.channel == Channel.inbox,
        OutboxDelivery.read_at.is_(None),
        OutboxDelivery.obsolete_at.is_(None),
        OutboxDelivery.outbox_id.in_(select(Outbox.id).where(Outbox.campaign_id == OF_CAMPAIGN, stale())),
    )
    .values(obsolete_at=bindparam("retired_at", type_=OutboxDelivery.obsolete_at.type))
    .returning(OutboxDelivery.id)
    .execution_options(synchronize_session=False)
)


def retire_stale(session: Session, *, campaign_id: int, at: dt.datetime) -> int:
    """Mark obsolete every unread in-app message of the campaign that is no longer true; returns
    how many. The caller audits (it is a step of the tick) and commits."""
    return len(session.scalars(_RETIRE_UNREAD, {OF_CAMPAIGN.key: campaign_id, "retired_at": at}).all())
