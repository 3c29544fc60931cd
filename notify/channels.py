"""Delivery channels: SMTP e-mail and chat webhooks (generic JSON, DingTalk, WeCom).

Pure I/O adapters: no database, no clock. Every failure is raised as
``ChannelError`` with ``retryable`` telling the outbox whether to try again
later (network trouble, 5xx, 429, SMTP 4xx, robot rate limits) or to give up
and surface the problem to an administrator (bad config, 4xx, rejected content).
Error messages never contain the SMTP password, the DingTalk secret or the
access token in a webhook URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import parse_qsl, quote_plus, unquote_plus, urlsplit

import httpx

from notify.messages import DEDUPE_HEADER, Message
from settings import Settings, WebhookTarget

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXCERPT_CHARS = 200
# WeCom rejects markdown content above 4096 bytes (errcode 40058).
WECOM_MARKDOWN_MAX_BYTES = 4096
_TRUNCATION_NOTE = "\n\n……（内容过长已截断，请登录系统查看全文）"
# errcodes meaning "busy / rate limited, try later" rather than "rejected":
# DingTalk 130101 = 发送速度太快而限流; WeCom 45009 = 接口调用超过限制; -1 = 系统繁忙.
_RETRYABLE_ERRCODES: dict[str, frozenset[int]] = {
    "dingtalk": frozenset({-1, 130101}),
    "wecom": frozenset({-1, 45009}),
}


class ChannelError(Exception):
    """A notification could not be delivered.

    channel:   "email" or "webhook:<format>"
    target:    SMTP "host:port" or the webhook target name (never a URL with token)
    retryable: True if the same message may succeed later without config changes
    message:   plain-language Chinese explanation for operators
    """

    def __init__(
        self,
        channel: str,
        target: str,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
    ) -> None:
        super().__init__(f"[{channel} → {target}] {message}")
        self.channel = channel
        self.target = target
        self.message = message
        self.retryable = retryable
        self.status_code = status_code

    def __repr__(self) -> str:
        return (
            f"ChannelError(channel={self.channel!r}, target={self.target!r}, "
            f"retryable={self.retryable}, status_code={self.status_code}, "
            f"message={self.message!r})"
        )


# --------------------------------------------------------------------------- e-mail


def message_id_for(dedupe_key: str, sender: str | None) -> str:
    """Deterministic Message-ID: the same outbox entry always gets the same id,
    so mail clients / archives can recognise a re-sent duplicate."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:40]
    domain = parseaddr(sender or "")[1].rpartition("@")[2] or "campaign.invalid"
    return f"<{digest}.campaign@{domain}>"


def build_email(settings: Settings, message: Message, *, at: datetime | None = None) -> EmailMessage:
    """Build the UTF-8 e-mail (plain text; the markdown stays readable as text)."""
    email = EmailMessage()
    email["From"] = settings.smtp_sender or ""
    email["To"] = message.recipient_email or ""
    email["Subject"] = message.subject
    email["Message-ID"] = message_id_for(message.dedupe_key, settings.smtp_sender)
    email[DEDUPE_HEADER] = message.dedupe_key
    if at is not None:
        email["Date"] = format_datetime(_require_aware(at))
    email.set_content(message.body_with_link(), charset="utf-8")
    return email


def send_email(settings: Settings, message: Message, *, at: datetime | None = None) -> None:
    """Send ``message`` to ``message.recipient_email`` via the configured SMTP server.

    Uses STARTTLS when ``smtp_starttls`` and logs in when ``smtp_username`` is
    set. ``at`` (optional, timezone-aware) becomes the Date header; without it
    the receiving MTA adds one.
    """
    target = f"{settings.smtp_host}:{settings.smtp_port}"
    _check_email_config(settings, message, target)
    email = build_email(settings, message, at=at)
    envelope_from = parseaddr(settings.smtp_sender or "")[1]
    try:
        with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
            _secure_and_login(smtp, settings)
            smtp.send_message(email, from_addr=envelope_from, to_addrs=[message.recipient_email or ""])
    except (smtplib.SMTPException, OSError) as exc:
        raise _email_error(exc, target) from exc


def _check_email_config(settings: Settings, message: Message, target: str) -> None:
    def fail(text: str) -> ChannelError:
        return ChannelError("email", target, text, retryable=False)

    if not settings.smtp_host:
        raise fail("未配置 SMTP 服务器（CAMPAIGN_SMTP_HOST）")
    if not settings.smtp_sender or "@" not in parseaddr(settings.smtp_sender)[1]:
        raise fail("未配置有效的发件人地址（CAMPAIGN_SMTP_SENDER）")
    if not message.recipient_email or "@" not in message.recipient_email:
        raise fail(f"收件人 {message.recipient_key} 没有有效的电子邮箱地址")
    if settings.smtp_username and not settings.smtp_starttls:
        # Never send the password in clear text over the network.
        raise fail("配置了 SMTP 用户名但未启用 STARTTLS，拒绝以明文发送口令")
    if settings.smtp_username and settings.smtp_password is None:
        raise fail("配置了 SMTP 用户名但未配置口令（CAMPAIGN_SMTP_PASSWORD）")
    # smtplib encodes AUTH credentials as ASCII; fail clearly instead of a UnicodeEncodeError.
    credentials = (settings.smtp_username or "") + (
        settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    )
    if not credentials.isascii():
        raise fail("SMTP 用户名或口令包含非 ASCII 字符（如中文），邮件登录不支持，请更换口令")


def _secure_and_login(smtp: smtplib.SMTP, settings: Settings) -> None:
    smtp.ehlo()
    if settings.smtp_starttls:
        smtp.starttls(context=_tls_context(settings))
        smtp.ehlo()  # capabilities (e.g. AUTH) change after TLS
    if settings.smtp_username:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        smtp.login(settings.smtp_username, password)


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.smtp_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return context


def _email_error(exc: BaseException, target: str) -> ChannelError:
    retryable, text, code = _classify_email_error(exc)
    return ChannelError("email", target, text, retryable=retryable, status_code=code)


def _classify_email_error(exc: BaseException) -> tuple[bool, str, int | None]:
    """(retryable, explanation, smtp code). Order matters: SSL errors are OSErrors."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False, f"邮件服务器证书校验失败：{exc.verify_message}", None
    if isinstance(exc, ssl.SSLError):
        return False, f"与邮件服务器建立 TLS 加密连接失败：{exc.reason}", None
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False, f"SMTP 登录失败，请检查用户名和口令（{_smtp_reply(exc)}）", exc.smtp_code
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False, f"邮件服务器不支持所需功能（STARTTLS 或 AUTH）：{exc}", None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = _first_refusal(exc)
        return _is_transient(code), f"收件人被邮件服务器拒绝（{code} {reply}）", code
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return _is_transient(code), f"邮件服务器拒绝发送（{_smtp_reply(exc)}）", code
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True, "与邮件服务器的连接意外断开", None
    if isinstance(exc, OSError):
        return True, f"无法连接邮件服务器或网络超时：{exc}", None
    return False, f"发送邮件失败：{exc}", None


def _is_transient(smtp_code: int) -> bool:
    # SMTP 4xx = temporary (greylisting, mailbox busy); 5xx = permanent.
    return 400 <= smtp_code < 500


def _smtp_reply(exc: smtplib.SMTPResponseException) -> str:
    raw = exc.smtp_error
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return f"{exc.smtp_code} {text}"


def _first_refusal(exc: smtplib.SMTPRecipientsRefused) -> tuple[int, str]:
    for code, raw in exc.recipients.values():
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return code, text
    return 550, "recipient refused"


# --------------------------------------------------------------------------- webhooks


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk "加签": base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")).

    Returned *not* URL-encoded; ``send_webhook`` applies ``quote_plus``.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_dingtalk_signature(
    secret: str,
    timestamp: int | str,
    sign: str,
    *,
    now: datetime | None = None,
    max_skew: timedelta = timedelta(hours=1),
) -> bool:
    """Receiver-side check of a DingTalk signature.

    ``sign`` may be URL-encoded (raw query) or already decoded. When ``now`` is
    given, the timestamp must also be within ``max_skew`` (DingTalk uses 1 h).
    """
    try:
        timestamp_ms = int(timestamp)
    except (TypeError, ValueError):
        return False
    # Base64 never contains '%', so its presence means the value is still encoded.
    decoded = unquote_plus(sign) if "%" in sign else sign
    expected = dingtalk_sign(secret, timestamp_ms)
    if not hmac.compare_digest(expected.encode("ascii"), decoded.encode("ascii", "replace")):
        return False
    if now is not None:
        skew_ms = abs(_epoch_ms(now) - timestamp_ms)
        return skew_ms <= max_skew / timedelta(milliseconds=1)
    return True


def build_webhook_payload(target: WebhookTarget, message: Message) -> dict[str, Any]:
    """Request body for the target's format."""
    if target.format == "dingtalk":
        text = f"### {message.subject}\n\n{message.body_with_link()}"
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text}}
    if target.format == "wecom":
        content = _truncate_utf8(f"### {message.subject}\n\n{message.body_with_link()}", WECOM_MARKDOWN_MAX_BYTES)
        return {"msgtype": "markdown", "markdown": {"content": content}}
    return {
        "dedupe_key": message.dedupe_key,
        "recipient": message.recipient_key,
        "subject": message.subject,
        "body_markdown": message.body_markdown,
        "link": message.link,
    }


def webhook_url(target: WebhookTarget, *, at: datetime) -> str:
    """Target URL, with DingTalk ``timestamp``/``sign`` appended when a secret is set.

    WeCom robots have no signature scheme, so a wecom secret is ignored.
    """
    if target.format != "dingtalk" or target.secret is None:
        return target.url
    timestamp_ms = _epoch_ms(at)
    sign = dingtalk_sign(target.secret.get_secret_value(), timestamp_ms)
    separator = "&" if urlsplit(target.url).query else "?"
    return f"{target.url}{separator}timestamp={timestamp_ms}&sign={quote_plus(sign)}"


def send_webhook(target: WebhookTarget, message: Message, *, at: datetime, timeout_s: float = 10.0) -> None:
    """POST ``message`` to the target; ``at`` (timezone-aware) is the signing time."""
    channel = f"webhook:{target.format}"
    url = webhook_url(target, at=at)
    body = json.dumps(build_webhook_payload(target, message), ensure_ascii=False)
    try:
        response = httpx.post(
            url,
            content=body.encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=timeout_s,
        )
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        # UnsupportedProtocol is a TransportError subclass but is a config error.
        raise ChannelError(
            channel, target.name, f"webhook 地址无效：{_scrub(str(exc), target)}", retryable=False
        ) from exc
    except httpx.TransportError as exc:
        text = f"网络错误或超时（{type(exc).__name__}：{_scrub(str(exc), target)}）"
        raise ChannelError(channel, target.name, text, retryable=True) from exc
    _check_http_status(channel, target, response)
    if target.format in _RETRYABLE_ERRCODES:
        _check_robot_errcode(channel, target, response)


def _check_http_status(channel: str, target: WebhookTarget, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status == 429 or status >= 500
    text = f"接收方返回 HTTP {status}：{_excerpt(response, target)}"
    raise ChannelError(channel, target.name, text, retryable=retryable, status_code=status)


def _check_robot_errcode(channel: str, target: WebhookTarget, response: httpx.Response) -> None:
    """DingTalk/WeCom answer HTTP 200 even on failure; the JSON errcode decides."""
    try:
        data = response.json()
        errcode = int(data.get("errcode", -999))
        errmsg = str(data.get("errmsg", ""))
    except (ValueError, AttributeError, TypeError):
        text = f"机器人返回了无法解析的应答：{_excerpt(response, target)}"
        raise ChannelError(channel, target.name, text, retryable=False, status_code=response.status_code) from None
    if errcode == 0:
        return
    retryable = errcode in _RETRYABLE_ERRCODES[target.format]
    text = f"机器人拒绝消息（errcode={errcode}，errmsg={_scrub(errmsg, target)[:_EXCERPT_CHARS]}）"
    raise ChannelError(channel, target.name, text, retryable=retryable, status_code=response.status_code)


def _excerpt(response: httpx.Response, target: WebhookTarget) -> str:
    text = re.sub(r"\s+", " ", response.text).strip()
    text = _scrub(text, target)
    if len(text) > _EXCERPT_CHARS:
        return text[:_EXCERPT_CHARS] + "…"
    return text or "（空响应）"


def _scrub(text: str, target: WebhookTarget) -> str:
    """Remove the secret and URL query values (access tokens) a receiver might echo."""
    sensitive = [value for _, value in parse_qsl(urlsplit(target.url).query) if len(value) >= 4]
    if target.secret is not None:
        sensitive.append(target.secret.get_secret_value())
    for value in sensitive:
        if value:
            text = text.replace(value, "***")
    return text


def _truncate_utf8(text: str, max_bytes: int) -> str:
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget = max_bytes - len(_TRUNCATION_NOTE.encode("utf-8"))
    # errors="ignore" drops a multi-byte character cut in half at the boundary.
    head = text.encode("utf-8")[:budget].decode("utf-8", "ignore")
    return head + _TRUNCATION_NOTE


# --------------------------------------------------------------------------- time


def _require_aware(at: datetime) -> datetime:
    # A naive datetime would silently be read as the server's local time.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at 必须是带时区的 datetime")
    return at


def _epoch_ms(at: datetime) -> int:
    return (_require_aware(at) - _EPOCH) // timedelta(milliseconds=1)
