"""Delivery channels for reminders and escalations (e-mail, DingTalk, WeCom, JSON).

Pure I/O adapters without database access; services.delivery decides what to send and when,
these modules only render and deliver. Their configuration is `settings.Settings`.
"""

from notify.channels import (
    ChannelError,
    build_email,
    build_webhook_payload,
    dingtalk_sign,
    message_id_for,
    send_email,
    send_webhook,
    verify_dingtalk_signature,
    webhook_url,
)
from notify.messages import DEDUPE_HEADER, Message
from notify.render import (
    format_cn_date,
    render_digest,
    render_escalation,
    render_event,
    render_overdue,
    render_reminder,
)

__all__ = [
    "DEDUPE_HEADER",
    "ChannelError",
    "Message",
    "build_email",
    "build_webhook_payload",
    "dingtalk_sign",
    "format_cn_date",
    "message_id_for",
    "render_digest",
    "render_escalation",
    "render_event",
    "render_overdue",
    "render_reminder",
    "send_email",
    "send_webhook",
    "verify_dingtalk_signature",
    "webhook_url",
]
