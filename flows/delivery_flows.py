"""Deliver a campaign's owed notifications: plan (inbox + daily digests), then push per channel.

Channels run as separate tasks side by side, so a failing mail server never holds up the
webhooks (or the other way round); each keeps its failures visible in outbox_delivery.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from prefect import flow

from domain.delivery import PUSH_CHANNELS
from services.delivery import PlanReport, SendReport
from settings import load_settings
from tasks import delivery_tasks as t


@dataclass(frozen=True)
class DeliverySummary:
    campaign: str
    day: dt.date
    plan: PlanReport
    sent: dict[str, SendReport] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # channel -> message (task ended failed)


@flow(name="deliver-notifications", flow_run_name="deliver-{campaign}-{day}")
def deliver(campaign: str, day: dt.date, db_url: str | None = None) -> DeliverySummary:
    # The flow entry is an edge: it builds the settings (they hold secrets, so never a parameter).
    settings = load_settings(database_url=db_url)
    plan = t.plan_deliveries(campaign, day, settings)
    if plan.skipped:
        return DeliverySummary(campaign, day, plan)
    sender = t.send_channel.with_options(**t.send_options(settings))
    futures = {channel: sender.submit(campaign, channel, settings) for channel in PUSH_CHANNELS}
    sent: dict[str, SendReport] = {}
    failures: dict[str, str] = {}
    for channel, future in futures.items():
        state = future.wait() or future.state
        result = future.result(raise_on_failure=False)
        if state.is_completed() and isinstance(result, SendReport):
            sent[channel] = result
        elif isinstance(result, t.RetryableDeliveryFailure):
            sent[channel] = result.report
            failures[channel] = str(result)
        else:
            failures[channel] = f"{type(result).__name__}: {result}"
    return DeliverySummary(campaign, day, plan, sent, failures)
