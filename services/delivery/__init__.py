"""Delivery of the outbox: what the tick decided to tell reaches people, at most once each.

- `planning`: pending outbox rows → deliveries (in-app inbox items, one daily digest per mailbox or
  webhook target); an ordinary service, the caller commits.
- `sending`: the claim → hand over → record protocol for e-mail and webhooks, which commits per
  message in units of work of its own (the one exception to store.uow's rule); recovery of
  interrupted sends; retries with backoff.
- `senders`: the channel send functions the protocol hands a message to (a parameter of it).
- `inbox`: a person's own in-app messages, read and marked read (audited as `message.read`).
- `problems`: failed, given-up and interrupted deliveries for the office, and its decision.
- `audience`: who an outbox row speaks to.
"""

from services.delivery.inbox import InboxItem, inbox_for, mark_all_read, mark_read, unread_count
from services.delivery.planning import PlanReport, is_send_day, plan_deliveries
from services.delivery.problems import DeliveryProblem, confirm_uncertain, counts, problems
from services.delivery.senders import CHANNEL_SENDERS, Outgoing, Send, Senders
from services.delivery.sending import SendReport, recover_interrupted, send_pending

__all__ = [
    "CHANNEL_SENDERS",
    "DeliveryProblem",
    "InboxItem",
    "Outgoing",
    "PlanReport",
    "Send",
    "SendReport",
    "Senders",
    "confirm_uncertain",
    "counts",
    "inbox_for",
    "is_send_day",
    "mark_all_read",
    "mark_read",
    "plan_deliveries",
    "problems",
    "recover_interrupted",
    "send_pending",
    "unread_count",
]
