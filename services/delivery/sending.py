"""The send protocol: every due e-mail / webhook delivery is sent at most once.

This module is the one place outside the edges that commits (see store.uow): a message leaves
the system between two transactions, so each step runs in a `UnitOfWork` of its own, opened on
the engine the caller gives:

1. claim: the message is checked against the records first (`planning.recheck`, the rule of
   `services.delivery.truth`): items chasing work handed in since it was planned are left out, and
   a message with nothing true left turns `obsolete` and is never sent (audited). Otherwise the row
   turns `sending` (attempts + 1, claimed_at) and that is COMMITTED before the message is handed
   over; from then on a crash leaves evidence that a send may have happened;
2. hand over: the channel's send function (`services.delivery.senders`, by default the real
   `notify` channels; a parameter) runs outside any transaction;
3. record: `sent`, or `failed` (retried after a backoff, up to `delivery_max_attempts`) or
   `gave_up` (a permanent error), with attempts and last_error, and the outcome is appended to
   the audit chain in the same transaction. One message's failure never stops the others.

A crash between 2 and 3 leaves the row `sending`; the next run turns a stale `sending` row into
`uncertain` and never sends it again on its own — the person may already have the message, and a
second copy is worse than asking the office to confirm (services.delivery.problems). States and
moves are `domain.delivery.DELIVERY`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from domain.access import SYSTEM
from domain.delivery import PUSH_CHANNELS, SENDABLE, DeliveryState
from notify import ChannelError
from services.campaigns import get_campaign
from services.delivery.planning import recheck
from services.delivery.senders import CHANNEL_SENDERS, Outgoing, Senders
from settings import Settings
from store import audit
from store.models import OutboxDelivery
from store.uow import UnitOfWork

log = logging.getLogger(__name__)

OBSOLETE_TEXT = "发送前核对：所催办的任务均已报送、通过或撤销，消息已失效，未发送。"
UNCERTAIN_TEXT = (
    "发送过程中进程中断（崩溃或被终止），无法确认对方是否已收到。为避免重复打扰，系统不会自动重发；"
    "请核实后在看板中确认“已送达”或“重新发送”。"
)


@dataclass
class SendReport:
    channel: str
    sent: int = 0
    failed: int = 0  # will be retried
    gave_up: int = 0
    uncertain: int = 0  # found interrupted; not re-sent
    obsolete: int = 0  # untrue by its turn (all it chased was handed in since): not sent
    errors: list[str] = field(default_factory=list)

    @property
    def retry_wanted(self) -> bool:
        return self.failed > 0


def retry_delay(settings: Settings, attempts: int) -> dt.timedelta:
    """The wait before attempt n+1 after a retryable failure of attempt n (the last value repeats)."""
    delays = settings.delivery_retry_delays_s or [0.0]
    return dt.timedelta(seconds=delays[min(attempts, len(delays)) - 1])


def recover_interrupted(engine: Engine, campaign_code: str, channel: str, settings: Settings, at: dt.datetime) -> int:
    """Stale `sending` rows → `uncertain` (never re-sent automatically); one committed unit of work."""
    stale_before = at - dt.timedelta(seconds=settings.delivery_sending_stale_s)
    with UnitOfWork(engine) as uow:
        campaign = get_campaign(uow.session, campaign_code)
        interrupted = sorted(
            uow.session.scalars(
                update(OutboxDelivery)
                .where(
                    OutboxDelivery.campaign_id == campaign.id,
                    OutboxDelivery.channel == channel,
                    OutboxDelivery.state == DeliveryState.sending,
                    or_(OutboxDelivery.claimed_at.is_(None), OutboxDelivery.claimed_at <= stale_before),
                )
                .values(state=DeliveryState.uncertain.value, last_error=UNCERTAIN_TEXT, next_attempt_at=None)
                .returning(OutboxDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )
        for delivery_id in interrupted:
            audit.record(
                uow.session,
                at=at,
                actor=SYSTEM,
                action="delivery.uncertain",
                entity="delivery",
                entity_key=str(delivery_id),
                before={"state": DeliveryState.sending.value},
                after={"state": DeliveryState.uncertain.value},
            )
        uow.commit()
    if interrupted:
        log.warning("%s 条%s通知在发送中被中断，已标记为“待确认”，不会自动重发", len(interrupted), channel)
    return len(interrupted)


def send_pending(
    engine: Engine,
    campaign_code: str,
    channel: str,
    settings: Settings,
    at: dt.datetime,
    *,
    senders: Senders = CHANNEL_SENDERS,
) -> SendReport:
    """Send the channel's due deliveries one by one, each claimed and recorded in its own unit of work."""
    if channel not in PUSH_CHANNELS:
        raise ValueError(f"channel must be one of {PUSH_CHANNELS}")
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    report = SendReport(channel, uncertain=recover_interrupted(engine, campaign_code, channel, settings, at))
    with UnitOfWork(engine) as uow:
        campaign = get_campaign(uow.session, campaign_code)
        due_ids = list(
            uow.session.scalars(
                select(OutboxDelivery.id)
                .where(
                    OutboxDelivery.campaign_id == campaign.id,
                    OutboxDelivery.channel == channel,
                    OutboxDelivery.state.in_(SENDABLE),
                    or_(OutboxDelivery.next_attempt_at.is_(None), OutboxDelivery.next_attempt_at <= at),
                )
                .order_by(OutboxDelivery.id)
            )
        )
    for delivery_id in due_ids:
        outgoing = _claim(engine, delivery_id, settings, at, report)
        if outgoing is not None:  # None: another run took it, or nothing in it is true any more
            _record(engine, outgoing, _hand_over(outgoing, senders, settings, at), settings, at, report)
    return report


def _claim(
    engine: Engine, delivery_id: int, settings: Settings, at: dt.datetime, report: SendReport
) -> Outgoing | None:
    """Check the message against the records, then claim it (one committed unit of work)."""
    with UnitOfWork(engine) as uow:
        row = uow.session.scalar(
            select(OutboxDelivery)
            .where(OutboxDelivery.id == delivery_id, OutboxDelivery.state.in_(SENDABLE))
            .execution_options(populate_existing=True)
        )
        if row is None:
            return None
        checked = recheck(uow.session, row, settings.dashboard_base_url)
        if checked.left == 0 and checked.dropped:
            if _retire(uow.session, row, checked.dropped, at):
                report.obsolete += 1
                uow.commit()
            return None
        if checked.dropped:
            audit.record(
                uow.session,
                at=at,
                actor=SYSTEM,
                action="delivery.recheck",
                entity="delivery",
                entity_key=str(row.id),
                after={"dropped": checked.dropped, "left": checked.left},
            )
        claimed = uow.session.scalar(
            update(OutboxDelivery)
            .where(OutboxDelivery.id == delivery_id, OutboxDelivery.state.in_(SENDABLE))
            .values(state=DeliveryState.sending.value, attempts=OutboxDelivery.attempts + 1, claimed_at=at)
            .returning(OutboxDelivery.id)
            .execution_options(synchronize_session=False)
        )
        if claimed is None:
            return None
        row = uow.session.get_one(OutboxDelivery, delivery_id, populate_existing=True)
        outgoing = Outgoing(row.id, row.channel, row.target, row.recipient, row.subject, row.body, row.dedupe_key)
        uow.commit()
    return outgoing


def _retire(session: Session, row: OutboxDelivery, dropped: list[str], at: dt.datetime) -> bool:
    """The message turns `obsolete` (never sent), unless another run took it meanwhile."""
    before = row.state
    done = session.scalar(
        update(OutboxDelivery)
        .where(OutboxDelivery.id == row.id, OutboxDelivery.state.in_(SENDABLE))
        .values(state=DeliveryState.obsolete.value, obsolete_at=at, next_attempt_at=None, last_error=OBSOLETE_TEXT)
        .returning(OutboxDelivery.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        return False
    audit.record(
        session,
        at=at,
        actor=SYSTEM,
        action="delivery.obsolete",
        entity="delivery",
        entity_key=str(row.id),
        before={"state": before},
        after={"state": DeliveryState.obsolete.value, "dropped": dropped, "channel": row.channel},
    )
    log.info("通知 #%s（%s → %s）所催办的任务均已办结，已失效，未发送", row.id, row.channel, row.recipient)
    return True


def _hand_over(out: Outgoing, senders: Senders, settings: Settings, at: dt.datetime) -> ChannelError | None:
    """Run the channel's sender; the error that stopped it, as a ChannelError (None: handed over)."""
    send = senders.get(out.channel)
    if send is None:
        return ChannelError(out.channel, out.target, f"未知的通知渠道 {out.channel}", retryable=False)
    try:
        send(out, settings, at)
    except ChannelError as exc:
        return exc
    except Exception as exc:
        log.exception("通知 #%s 发送时出现程序错误", out.id)
        return ChannelError(out.channel, out.target, f"发送时出现程序错误：{type(exc).__name__}", retryable=False)
    return None


def _record(
    engine: Engine, out: Outgoing, error: ChannelError | None, settings: Settings, at: dt.datetime, report: SendReport
) -> None:
    with UnitOfWork(engine) as uow:
        row = uow.session.get_one(OutboxDelivery, out.id)
        if row.state != DeliveryState.sending:  # declared uncertain by another run meanwhile: leave it
            log.warning("通知 #%s 在记录结果前已被标记为 %s，结果未记录", out.id, row.state)
            return
        if error is None:
            row.state, row.sent_at, row.last_error, row.next_attempt_at = DeliveryState.sent.value, at, None, None
            report.sent += 1
        else:
            retry = error.retryable and row.attempts < settings.delivery_max_attempts
            row.state = (DeliveryState.failed if retry else DeliveryState.gave_up).value
            row.next_attempt_at = at + retry_delay(settings, row.attempts) if retry else None
            row.last_error = error.message
            report.failed += retry
            report.gave_up += not retry
            report.errors.append(f"#{row.id} {row.channel}→{row.recipient}: {error.message}")
            log.warning(
                "通知 #%s（%s → %s）第 %s 次发送失败：%s",
                row.id,
                row.channel,
                row.recipient,
                row.attempts,
                error.message,
            )
        audit.record(
            uow.session,
            at=at,
            actor=SYSTEM,
            action=f"delivery.{row.state}",
            entity="delivery",
            entity_key=str(row.id),
            before={"state": DeliveryState.sending.value},
            after={
                "state": row.state,
                "attempts": row.attempts,
                "channel": row.channel,
                "recipient": row.recipient,
                "error": row.last_error,
            },
        )
        uow.commit()
