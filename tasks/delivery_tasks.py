"""Thin Prefect tasks for notification delivery.

Planning touches only the database: no retries. Sending is I/O with the outside world, so it
retries with growing delays (`delivery_retry_delays_s`). A retry re-runs `send_pending`, which only
picks rows whose own `next_attempt_at` has come and never re-sends a row that was interrupted
mid-send, so a task retry can never duplicate a message.

The flow hands these tasks the `Settings` it built at its entry. Settings hold secrets, so they
are never a flow parameter (Prefect records those), and these tasks have no cache policy (a cache
key would hash them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NONE
from sqlalchemy import select

from services import delivery
from services.delivery import PlanReport, SendReport
from settings import Settings
from store.db import shared_engine
from store.models import Campaign
from store.uow import UnitOfWork


class RetryableDeliveryFailure(Exception):
    """Some messages failed with a temporary error; the task is retried after a delay."""

    def __init__(self, report: SendReport):
        self.report = report
        super().__init__(f"{report.channel}: {report.failed} 条通知暂时发送失败，稍后重试")


@task(task_run_name="plan-deliveries-{campaign}-{day}", cache_policy=NONE)
def plan_deliveries(campaign: str, day: dt.date, settings: Settings) -> PlanReport:
    with UnitOfWork(settings.db_url) as uow:
        report = delivery.plan_deliveries(uow.session, campaign, day, settings, at=settings.now())
        uow.commit()
    get_run_logger().info(
        "计划通知 %s %s：站内信 %s 条，推送 %s 条%s",
        campaign,
        day,
        report.inbox_items,
        report.push_messages,
        f"（{report.skipped}）" if report.skipped else "",
    )
    return report


@task(task_run_name="send-{channel}-{campaign}", cache_policy=NONE)
def send_channel(campaign: str, channel: str, settings: Settings) -> SendReport:
    # The edge of the world: signatures (DingTalk accepts ±1 h) and sent_at need the real time,
    # not the demo clock of `settings.now()`.
    at = dt.datetime.now(dt.UTC)
    report = delivery.send_pending(shared_engine(settings.db_url), campaign, channel, settings, at)
    logger = get_run_logger()
    logger.info(
        "%s：已发送 %s，待重试 %s，放弃 %s，待确认 %s",
        channel,
        report.sent,
        report.failed,
        report.gave_up,
        report.uncertain,
    )
    for line in report.errors:
        logger.warning(line)  # ChannelError texts never contain passwords, secrets or tokens
    if report.retry_wanted:
        raise RetryableDeliveryFailure(report)
    return report


def send_options(settings: Settings) -> dict[str, Any]:
    """Task retries matching the service's backoff schedule (exponential by default)."""
    delays = list(settings.delivery_retry_delays_s or [0.0])[: max(0, settings.delivery_max_attempts - 1)]
    return {"retries": len(delays), "retry_delay_seconds": delays or 0}


@task(task_run_name="live-campaigns-{as_of}")
def live_campaigns(as_of: dt.date, db_url: str) -> list[str]:
    """Codes of the campaigns whose dates cover `as_of`."""
    with UnitOfWork(db_url) as uow:
        return list(
            uow.session.scalars(
                select(Campaign.code)
                .where(Campaign.start_on <= as_of, Campaign.end_on >= as_of)
                .order_by(Campaign.code)
            )
        )
