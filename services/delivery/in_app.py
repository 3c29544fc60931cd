"""The tick's delivery step: in-app messages reach the inboxes on the day of their event.

In the embedded default nobody has to run `campaign deliver` for the inbox to fill: each tick puts
the campaign's owed messages (the tick's reminders, overdue notices and escalations, and every
event owed through `services.delivery.events`) in the inboxes of the people they speak to, and
marks unread messages that are no longer true obsolete (`services.delivery.truth`). E-mail and
webhook digests keep their own schedule (the deliver flow, `services.delivery.planning`): the
outbox rows stay `pending` for it, with `in_app_on` saying the inboxes have them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session

from domain.access import SYSTEM
from services.campaigns import get_campaign
from services.delivery.planning import put_in_inboxes, start_owed_run
from services.delivery.truth import retire_stale
from store import audit


@dataclass(frozen=True)
class InAppReport:
    messages: int = 0  # inbox items created
    rows: int = 0  # outbox rows put in the inboxes
    retired: int = 0  # unread messages marked obsolete


def deliver_in_app(
    session: Session, *, campaign_code: str, day: dt.date, at: dt.datetime, catch_up: bool = False
) -> InAppReport:
    """Put every owed, still-true message of the campaign in its readers' inboxes; the caller commits.
    Idempotent: each inbox item has its natural dedupe key, and a person gets one message per
    thread, kind and day. The tick looks only at rows not yet put in (`in_app_on`); `catch_up`
    looks at every row still owed, for people whose accounts were made after (the demo's). Rows
    nobody reads in-app (a department without accounts) are not touched: when an account is made
    for it, the next tick puts what is still owed to the department in its inbox."""
    campaign = get_campaign(session, campaign_code)
    rows = messages = 0
    # A page at a time, written as it goes (a national campaign's busy day owes millions of rows).
    run = start_owed_run(session, campaign, day, None, in_app_only=not catch_up, readers_only=True)
    if run is not None:
        plan, told, pages = run
        for page in pages:
            for outbox, assignment, template, notice in page:
                put_in_inboxes(plan, outbox, partial(plan.render, outbox, assignment, template, notice), told)
            messages += plan.write_inboxes()
            rows += len(page)
    retired = retire_stale(session, campaign_id=campaign.id, at=at)
    session.flush()
    report = InAppReport(messages, rows, retired)
    if rows or retired:
        audit.record(
            session,
            at=at,
            actor=SYSTEM,
            action="delivery.in_app",
            entity="campaign",
            entity_key=campaign_code,
            after={"day": day.isoformat(), "outbox_rows": rows, "inbox_items": messages, "retired": retired},
        )
    return report
