"""Delivery of the outbox: what the tick decided to tell reaches people, at most once each.

- `planning`: pending outbox rows → deliveries (in-app inbox items, one daily digest per mailbox or
  webhook target); an ordinary service, the caller commits.
- `sending`: the claim → hand over → record protocol for e-mail and webhooks, which commits per
  message in units of work of its own (the one exception to store.uow's rule); recovery of
  interrupted sends; retries with backoff.
- `senders`: the channel send functions the protocol hands a message to (a parameter of it).
- `inbox`: a person's own in-app messages, as threads, checked against the records when shown,
  read and marked read (audited as `message.read`).
- `events`: `owe_event_message`, the one way a service owes a message for an event (退回, 审核通过,
  线索交办, 销号, and kinds added later); `truth`: the one rule for stale messages and threads;
  `in_app`: the tick's step that puts owed messages in the inboxes on their day.
- `problems`: failed, given-up and interrupted deliveries for the office, and its decision.
- `audience`: who an outbox row speaks to.
"""

from services.delivery.events import assignment_event, department_event, owe_event_message
from services.delivery.in_app import InAppReport, deliver_in_app
from services.delivery.inbox import (
    InboxItem,
    InboxThread,
    inbox_for,
    mark_all_read,
    mark_read,
    mark_thread_read,
    threads_for,
    unread_count,
)
from services.delivery.planning import PlanReport, is_send_day, plan_deliveries
from services.delivery.problems import DeliveryProblem, confirm_uncertain, counts, problems
from services.delivery.senders import CHANNEL_SENDERS, Outgoing, Send, Senders
from services.delivery.sending import SendReport, recover_interrupted, send_pending

__all__ = [
    "CHANNEL_SENDERS",
    "DeliveryProblem",
    "InAppReport",
    "InboxItem",
    "InboxThread",
    "Outgoing",
    "PlanReport",
    "Send",
    "SendReport",
    "Senders",
    "assignment_event",
    "confirm_uncertain",
    "counts",
    "deliver_in_app",
    "department_event",
    "inbox_for",
    "is_send_day",
    "mark_all_read",
    "mark_read",
    "mark_thread_read",
    "owe_event_message",
    "plan_deliveries",
    "problems",
    "recover_interrupted",
    "send_pending",
    "threads_for",
    "unread_count",
]
