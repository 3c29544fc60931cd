"""Delivery channels for reminders and escalations (e-mail, DingTalk, WeCom, JSON).

Pure I/O adapters without database access; the outbox / scheduler decides what
to send and when, these modules only render and deliver.
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
    EscalationLevel,
    format_cn_date,
    render_digest,
    render_escalation,
    render_overdue,
    render_reminder,
)
from notify.settings import NotifySettings, WebhookTarget

__all__ = [
    "DEDUPE_HEADER",
    "ChannelError",
    "EscalationLevel",
    "Message",
    "NotifySettings",
    "WebhookTarget",
    "build_email",
    "build_webhook_payload",
    "dingtalk_sign",
    "format_cn_date",
    "message_id_for",
    "render_digest",
    "render_escalation",
    "render_overdue",
    "render_reminder",
    "send_email",
    "send_webhook",
    "verify_dingtalk_signature",
    "webhook_url",
]
