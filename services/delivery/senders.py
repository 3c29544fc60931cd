"""The channel senders the send protocol hands a claimed delivery to: one function per push
channel, by default the real `notify` channels. `send_pending` takes them as a parameter, so a
caller (a test proving the crash window, say) can wrap or replace one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from domain.delivery import Channel
from notify import ChannelError, Message, send_email, send_webhook
from settings import Settings


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, as handed to a channel (plain data: the channel never sees the session)."""

    id: int
    channel: str
    target: str  # e-mail address, or the webhook target's name
    recipient: str
    subject: str
    body: str
    dedupe_key: str


Send = Callable[[Outgoing, Settings, dt.datetime], None]
"""Hands one message to the outside world; raises notify.ChannelError when it could not."""
Senders = Mapping[str, Send]


def send_by_email(out: Outgoing, settings: Settings, at: dt.datetime) -> None:
    send_email(
        settings,
        Message(
            recipient_key=out.recipient,
            recipient_email=out.target,
            subject=out.subject,
            body_markdown=out.body,
            dedupe_key=out.dedupe_key,
        ),
        at=at,
    )


def send_by_webhook(out: Outgoing, settings: Settings, at: dt.datetime) -> None:
    try:
        target = settings.webhook(out.target)
    except KeyError:
        raise ChannelError("webhook", out.target, "该 webhook 目标已不在配置中", retryable=False) from None
    message = Message(
        recipient_key=out.recipient,
        subject=out.subject,
        body_markdown=out.body,
        link=settings.dashboard_base_url,
        dedupe_key=out.dedupe_key,
    )
    send_webhook(target, message, at=at, timeout_s=settings.webhook_timeout_s)


CHANNEL_SENDERS: Senders = MappingProxyType(
    {Channel.email.value: send_by_email, Channel.webhook.value: send_by_webhook}
)
