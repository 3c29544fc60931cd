"""Integration tests of notify.* against real loopback receivers.

SMTP: aiosmtpd Controllers on 127.0.0.1 (plain, and STARTTLS + AUTH with a
self-signed certificate generated at test time). HTTP: a ThreadingHTTPServer
recording every request. Self-contained: all fixtures live in this file.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError

from domain.errors import Invalid
from notify import (
    DEDUPE_HEADER,
    ChannelError,
    Message,
    format_cn_date,
    message_id_for,
    render_digest,
    render_escalation,
    render_overdue,
    render_reminder,
    send_email,
    send_webhook,
    verify_dingtalk_signature,
)
from settings import Settings, WebhookTarget, load_settings
from tests.machine import free_port

pytestmark = pytest.mark.usefixtures("clean_campaign_env")  # settings only from what each test sets
SMTP_USER = "campaign"
SMTP_PASSWORD = "pw-do-not-leak-7f3a9c"
DING_SECRET = "SEC0123456789abcdef-ding-secret"
ACCESS_TOKEN = "tok-9f8e7d6c5b4a"
AT = dt.datetime(2020, 6, 22, 9, 30, 15, 123000, tzinfo=dt.timezone(dt.timedelta(hours=8)))
AT_MS = 1592789415123  # 2020-06-22T01:30:15.123Z, computed independently


def _message(**overrides: Any) -> Message:
    values: dict[str, Any] = {
        "recipient_key": "DEPT-ZJJ",
        "recipient_email": "zhangsan@example.gov.cn",
        "subject": "【提醒】招投标专项整治：自查报告（剩余3个工作日）",
        "body_markdown": "- **责任单位**：市住建局\n\n请按时提交自查报告。",
        "link": "http://localhost:8501/tasks/42",
        "dedupe_key": "reminder:task-42:2020-06-22",
    }
    values.update(overrides)
    return Message(**values)


# --------------------------------------------------------------------------- TLS material


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """Self-signed certificate for 127.0.0.1 (EC key: generated in milliseconds)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    files = TlsFiles(cert=directory / "cert.pem", key=directory / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# --------------------------------------------------------------------------- SMTP receivers


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    tls: bool
    authenticated: bool


@dataclass
class RecordingSmtpHandler:
    received: list[Received] = field(default_factory=list)
    data_reply: str = "250 Message accepted for delivery"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.content)
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=parsed,
                raw=raw,
                tls=session.ssl is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return self.data_reply


@dataclass
class SmtpServer:
    handler: RecordingSmtpHandler
    port: int

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_starttls": False,
            "smtp_sender": "专项整治办 <campaign@example.gov.cn>",
            "smtp_timeout_s": 5,
        }
        values.update(overrides)
        return Settings(**values)


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_plain() -> Iterator[SmtpServer]:
    handler = RecordingSmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(handler, controller.port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_tls(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """STARTTLS required, AUTH required and only offered after TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    handler = RecordingSmtpHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield SmtpServer(handler, controller.port)
    finally:
        controller.stop()


def _tls_settings(server: SmtpServer, tls_files: TlsFiles, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_starttls": True,
        "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
        "smtp_ca_file": tls_files.cert,
    }
    values.update(overrides)
    return server.settings(**values)


# --------------------------------------------------------------------------- e-mail tests


def test_email_plain_delivers_chinese_subject_body_and_dedupe_headers(
    smtp_plain: SmtpServer,
) -> None:
    message = _message()
    send_email(smtp_plain.settings(), message, at=AT)

    [got] = smtp_plain.handler.received
    assert got.mail_from == "campaign@example.gov.cn"
    assert got.rcpt_tos == ["zhangsan@example.gov.cn"]
    assert got.message["Subject"] == message.subject
    assert got.message["From"].addresses[0].display_name == "专项整治办"
    assert got.message[DEDUPE_HEADER] == "reminder:task-42:2020-06-22"
    assert got.message["Message-ID"] == message_id_for(message.dedupe_key, "campaign@example.gov.cn")
    assert got.message["Date"].datetime == AT.replace(microsecond=0)
    body = got.message.get_content()
    assert "市住建局" in body and "http://localhost:8501/tasks/42" in body
    assert got.message.get_content_charset() == "utf-8"
    # Headers on the wire are RFC 2047 encoded, not raw 8-bit.
    raw_headers = got.raw.split(b"\r\n\r\n", 1)[0]
    raw_headers.decode("ascii")
    assert b"=?utf-8?" in raw_headers.lower()
    assert not got.tls and not got.authenticated


def test_email_message_id_is_deterministic_per_dedupe_key(smtp_plain: SmtpServer) -> None:
    settings = smtp_plain.settings()
    send_email(settings, _message())
    send_email(settings, _message())
    send_email(settings, _message(dedupe_key="reminder:task-43:2020-06-22"))
    ids = [r.message["Message-ID"] for r in smtp_plain.handler.received]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].startswith("<") and ids[0].endswith("@example.gov.cn>")


def test_email_starttls_and_login(smtp_tls: SmtpServer, tls_files: TlsFiles) -> None:
    send_email(_tls_settings(smtp_tls, tls_files), _message())
    [got] = smtp_tls.handler.received
    assert got.tls and got.authenticated
    assert got.message["Subject"] == _message().subject


def test_email_wrong_password_is_permanent_and_not_leaked(smtp_tls: SmtpServer, tls_files: TlsFiles) -> None:
    wrong = "wrong-secret-1234"
    with pytest.raises(ChannelError) as info:
        send_email(_tls_settings(smtp_tls, tls_files, smtp_password=wrong), _message())
    err = info.value
    assert err.channel == "email" and err.retryable is False and err.status_code == 535
    assert wrong not in str(err) and wrong not in repr(err)
    assert smtp_tls.handler.received == []


def test_email_untrusted_certificate_is_permanent(smtp_tls: SmtpServer, tls_files: TlsFiles) -> None:
    with pytest.raises(ChannelError) as info:
        send_email(_tls_settings(smtp_tls, tls_files, smtp_ca_file=None), _message())
    assert info.value.retryable is False
    assert "证书" in info.value.message


def test_email_non_ascii_password_fails_cleanly(smtp_tls: SmtpServer, tls_files: TlsFiles) -> None:
    chinese = "中文口令123"
    with pytest.raises(ChannelError) as info:
        send_email(_tls_settings(smtp_tls, tls_files, smtp_password=chinese), _message())
    assert info.value.retryable is False and chinese not in str(info.value)


def test_email_server_requiring_starttls_rejects_plain_client(smtp_tls: SmtpServer) -> None:
    with pytest.raises(ChannelError) as info:
        send_email(smtp_tls.settings(), _message())
    assert info.value.retryable is False
    assert info.value.status_code == 530


def test_email_refuses_password_without_tls() -> None:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_starttls=False,
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        smtp_sender="campaign@example.gov.cn",
    )
    with pytest.raises(ChannelError) as info:
        send_email(settings, _message())
    assert info.value.retryable is False and "明文" in info.value.message


@pytest.mark.parametrize(
    ("reply", "retryable", "code"),
    [("451 4.3.0 Try again later", True, 451), ("554 5.7.1 Rejected", False, 554)],
)
def test_email_data_rejection_classified_by_smtp_code(
    smtp_plain: SmtpServer, reply: str, retryable: bool, code: int
) -> None:
    smtp_plain.handler.data_reply = reply
    with pytest.raises(ChannelError) as info:
        send_email(smtp_plain.settings(), _message())
    assert info.value.retryable is retryable and info.value.status_code == code


def test_email_connection_refused_is_retryable() -> None:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_starttls=False,
        smtp_sender="campaign@example.gov.cn",
        smtp_timeout_s=2,
    )
    with pytest.raises(ChannelError) as info:
        send_email(settings, _message())
    assert info.value.retryable is True and info.value.channel == "email"


def test_email_without_recipient_address_is_permanent(smtp_plain: SmtpServer) -> None:
    with pytest.raises(ChannelError) as info:
        send_email(smtp_plain.settings(), _message(recipient_email=None))
    assert info.value.retryable is False and "DEPT-ZJJ" in info.value.message


# --------------------------------------------------------------------------- HTTP receiver


@dataclass
class HttpRequestRecord:
    raw_path: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.raw_path).query)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _RecordingServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.requests.append(HttpRequestRecord(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status, reply = self.server.reply
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.requests: list[HttpRequestRecord] = []
        self.reply: tuple[int, bytes] = (200, b'{"errcode":0,"errmsg":"ok"}')

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def respond(self, status: int, payload: Any) -> None:
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.reply = (status, body)


@pytest.fixture
def http_receiver() -> Iterator[_RecordingServer]:
    server = _RecordingServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _dingtalk(server: _RecordingServer, secret: str | None = DING_SECRET) -> WebhookTarget:
    return WebhookTarget(
        name="纪检组钉钉群",
        url=f"{server.base_url}/robot/send?access_token={ACCESS_TOKEN}",
        format="dingtalk",
        secret=secret,
    )


def _wecom(server: _RecordingServer) -> WebhookTarget:
    return WebhookTarget(
        name="办公室企业微信群",
        url=f"{server.base_url}/cgi-bin/webhook/send?key={ACCESS_TOKEN}",
        format="wecom",
        secret="ignored-wecom-secret",
    )


# --------------------------------------------------------------------------- webhook tests


def test_json_webhook_body(http_receiver: _RecordingServer) -> None:
    target = WebhookTarget(name="通用", url=f"{http_receiver.base_url}/hook", format="json")
    http_receiver.respond(204, b"")
    message = _message()
    send_webhook(target, message, at=AT)

    [req] = http_receiver.requests
    assert req.raw_path == "/hook"
    assert req.headers["content-type"].startswith("application/json")
    assert req.json() == {
        "dedupe_key": "reminder:task-42:2020-06-22",
        "recipient": "DEPT-ZJJ",
        "subject": message.subject,
        "body_markdown": message.body_markdown,
        "link": "http://localhost:8501/tasks/42",
    }


def test_dingtalk_markdown_shape_and_valid_signature(http_receiver: _RecordingServer) -> None:
    message = _message()
    send_webhook(_dingtalk(http_receiver), message, at=AT)

    [req] = http_receiver.requests
    body = req.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == message.subject
    assert message.subject in body["markdown"]["text"]
    assert "市住建局" in body["markdown"]["text"]

    query = req.query
    assert query["access_token"] == [ACCESS_TOKEN]
    assert query["timestamp"] == [str(AT_MS)]
    sign = query["sign"][0]
    # Independent recomputation of DingTalk's documented algorithm.
    string_to_sign = f"{AT_MS}\n{DING_SECRET}".encode()
    expected = base64.b64encode(hmac.new(DING_SECRET.encode(), string_to_sign, hashlib.sha256).digest()).decode()
    assert sign == expected
    assert f"sign={quote_plus(expected)}" in req.raw_path  # URL-encoded on the wire
    # The helper accepts both the decoded value and the raw encoded one.
    assert verify_dingtalk_signature(DING_SECRET, query["timestamp"][0], sign)
    raw_sign = req.raw_path.split("sign=", 1)[1]
    assert verify_dingtalk_signature(DING_SECRET, AT_MS, raw_sign)
    assert not verify_dingtalk_signature("other-secret", AT_MS, sign)
    assert not verify_dingtalk_signature(DING_SECRET, AT_MS + 1, sign)
    assert verify_dingtalk_signature(DING_SECRET, AT_MS, sign, now=AT + dt.timedelta(minutes=59))
    assert not verify_dingtalk_signature(DING_SECRET, AT_MS, sign, now=AT + dt.timedelta(hours=2))
    assert DING_SECRET not in req.raw_path and DING_SECRET.encode() not in req.body


def test_dingtalk_without_secret_is_unsigned(http_receiver: _RecordingServer) -> None:
    send_webhook(_dingtalk(http_receiver, secret=None), _message(), at=AT)
    [req] = http_receiver.requests
    assert set(req.query) == {"access_token"}


def test_dingtalk_errcode_is_permanent_failure_without_leaking(
    http_receiver: _RecordingServer,
) -> None:
    http_receiver.respond(200, {"errcode": 310000, "errmsg": f"sign not match, token {ACCESS_TOKEN}"})
    with pytest.raises(ChannelError) as info:
        send_webhook(_dingtalk(http_receiver), _message(), at=AT)
    err = info.value
    assert err.retryable is False and err.channel == "webhook:dingtalk"
    assert err.target == "纪检组钉钉群" and "310000" in err.message
    assert DING_SECRET not in str(err) and ACCESS_TOKEN not in str(err)


def test_dingtalk_rate_limit_errcode_is_retryable(http_receiver: _RecordingServer) -> None:
    http_receiver.respond(200, {"errcode": 130101, "errmsg": "send too fast"})
    with pytest.raises(ChannelError) as info:
        send_webhook(_dingtalk(http_receiver), _message(), at=AT)
    assert info.value.retryable is True


def test_wecom_markdown_shape_and_secret_ignored(http_receiver: _RecordingServer) -> None:
    message = _message()
    send_webhook(_wecom(http_receiver), message, at=AT)
    [req] = http_receiver.requests
    body = req.json()
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    assert message.subject in body["markdown"]["content"]
    assert set(req.query) == {"key"}  # no timestamp/sign: WeCom has no signing


def test_wecom_long_content_is_truncated_to_limit(http_receiver: _RecordingServer) -> None:
    send_webhook(_wecom(http_receiver), _message(body_markdown="整治" * 3000), at=AT)
    content = http_receiver.requests[0].json()["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert content.endswith("请登录系统查看全文）")


def test_wecom_errcode_is_permanent_failure(http_receiver: _RecordingServer) -> None:
    http_receiver.respond(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    with pytest.raises(ChannelError) as info:
        send_webhook(_wecom(http_receiver), _message(), at=AT)
    assert info.value.retryable is False and info.value.channel == "webhook:wecom"


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (400, False)])
def test_http_status_classification(http_receiver: _RecordingServer, status: int, retryable: bool) -> None:
    http_receiver.respond(status, "服务器内部错误 " * 100 + DING_SECRET)
    with pytest.raises(ChannelError) as info:
        send_webhook(_dingtalk(http_receiver), _message(), at=AT)
    err = info.value
    assert err.retryable is retryable and err.status_code == status
    assert f"HTTP {status}" in err.message and "服务器内部错误" in err.message
    assert len(err.message) < 400  # a short excerpt, not the whole body
    assert DING_SECRET not in str(err)


def test_webhook_connection_refused_is_retryable() -> None:
    target = WebhookTarget(name="down", url=f"http://127.0.0.1:{free_port()}/hook")
    with pytest.raises(ChannelError) as info:
        send_webhook(target, _message(), at=AT, timeout_s=2)
    assert info.value.retryable is True and info.value.target == "down"


def test_webhook_requires_timezone_aware_time(http_receiver: _RecordingServer) -> None:
    with pytest.raises(ValueError):
        send_webhook(_dingtalk(http_receiver), _message(), at=dt.datetime(2020, 6, 22, 9, 0))  # noqa: DTZ001 - naive on purpose


# --------------------------------------------------------------------------- settings


def test_settings_from_env_and_secrets_never_shown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CAMPAIGN_SMTP_HOST", "mail.example.gov.cn")
    monkeypatch.setenv("CAMPAIGN_SMTP_STARTTLS", "true")
    monkeypatch.setenv("CAMPAIGN_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv(
        "CAMPAIGN_WEBHOOKS",
        json.dumps(
            [
                {
                    "name": "钉钉",
                    "url": f"https://oapi.dingtalk.com/robot/send?access_token={ACCESS_TOKEN}",
                    "format": "dingtalk",
                    "secret": DING_SECRET,
                },
                {"name": "通用", "url": "https://hooks.example.gov.cn/x"},
            ],
            ensure_ascii=False,
        ),
    )
    settings = load_settings()
    assert settings.smtp_host == "mail.example.gov.cn" and settings.smtp_starttls is True
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == SMTP_PASSWORD
    ding = settings.webhook("钉钉")
    assert ding.format == "dingtalk" and ding.secret is not None
    assert ding.secret.get_secret_value() == DING_SECRET
    assert settings.webhook("通用").format == "json" and settings.webhook("通用").secret is None
    assert settings.dashboard_base_url == "http://localhost:8501"
    assert settings.send_on_holidays is False
    assert ding.redacted_url == "https://oapi.dingtalk.com/robot/send?***"

    with caplog.at_level(logging.INFO):
        logging.getLogger("notify.test").info("settings: %s / %r / %s", settings, settings, ding)
    shown = [repr(settings), str(settings), repr(ding), str(ding), caplog.text, settings.model_dump_json()]
    for text in shown:
        assert SMTP_PASSWORD not in text
        assert DING_SECRET not in text
    for text in shown[:5]:
        assert ACCESS_TOKEN not in text  # URL with token is kept out of repr


def test_settings_from_toml_file_with_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "settings.toml"
    toml.write_text(
        """
smtp_host = "file.example.gov.cn"
smtp_port = 2525
smtp_sender = "专项整治办 <campaign@example.gov.cn>"
send_on_holidays = true
unrelated_key_for_other_modules = 1

[[webhooks]]
name = "企业微信"
format = "wecom"
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("CAMPAIGN_SETTINGS_FILE", str(toml))
    monkeypatch.setenv("CAMPAIGN_SMTP_PORT", "465")
    settings = load_settings()
    assert settings.smtp_host == "file.example.gov.cn"
    assert settings.smtp_port == 465  # env wins over file
    assert settings.send_on_holidays is True
    assert settings.webhook("企业微信").format == "wecom"


def test_settings_file_missing_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAMPAIGN_SETTINGS_FILE", str(tmp_path / "nope.toml"))
    with pytest.raises(Invalid, match=r"nope\.toml"):
        load_settings()


def test_settings_reject_duplicate_webhook_names_and_bad_urls() -> None:
    with pytest.raises(ValidationError):
        Settings(webhooks=[{"name": "a", "url": "https://x/1"}, {"name": "a", "url": "https://x/2"}])
    with pytest.raises(Invalid, match="webhook 名称重复"):  # at the edge: a message, not a traceback
        load_settings(webhooks=[{"name": "a", "url": "https://x/1"}, {"name": "a", "url": "https://x/2"}])
    with pytest.raises(ValidationError):
        WebhookTarget(name="a", url="ftp://x/1")


def test_message_rejects_header_injection() -> None:
    with pytest.raises(ValidationError):
        _message(subject="正常标题\r\nBcc: attacker@example.com")


# --------------------------------------------------------------------------- render


def test_format_cn_date() -> None:
    assert format_cn_date(dt.date(2020, 6, 22)) == "2020年6月22日（星期一）"
    assert format_cn_date(dt.date(2020, 6, 28)) == "2020年6月28日（星期日）"
    assert format_cn_date(dt.date(2020, 6, 28), weekday=False) == "2020年6月28日"


def test_render_reminder() -> None:
    subject, body = render_reminder(
        "自查报告",
        "2020年招投标专项整治",
        "市住建局",
        dt.date(2020, 6, 22),
        3,
        "http://localhost:8501/tasks/42",
    )
    assert subject == "【提醒】2020年招投标专项整治：自查报告（剩余3个工作日）"
    assert "2020年6月22日（星期一）" in body and "市住建局" in body
    assert "剩余 **3** 个工作日" in body
    assert "[进入工作台查看](http://localhost:8501/tasks/42)" in body

    subject, body = render_reminder("自查报告", "专项", "市住建局", dt.date(2020, 6, 22), 0, None)
    assert "今日截止" in subject and "今天是截止日" in body and "](" not in body
    with pytest.raises(ValueError):
        render_reminder("自查报告", "专项", "市住建局", dt.date(2020, 6, 22), -1, None)


def test_render_overdue() -> None:
    subject, body = render_overdue("整改台账", "专项", "市交通局", dt.date(2020, 6, 19), 2)
    assert subject == "【逾期】专项：整改台账（已逾期2个工作日）"
    assert "2020年6月19日（星期五）" in body and "已逾期 **2** 个工作日" in body
    with pytest.raises(ValueError):
        render_overdue("整改台账", "专项", "市交通局", dt.date(2020, 6, 19), 0)


@pytest.mark.parametrize("level", ["预警", "通报批评", "约谈"])
def test_render_escalation_levels(level: str) -> None:
    subject, body = render_escalation(
        level,
        5,
        ["分管副局长", "纪检监察组"],
        task_title="整改台账",
        campaign_title="专项",
        department_name="市交通局",
        due_date=dt.date(2020, 6, 19),
        link="http://localhost:8501/tasks/7",
    )
    assert subject.startswith(f"【{level}】") and "逾期5个工作日" in subject
    assert f"**{level}**" in body
    assert "**抄送**：分管副局长、纪检监察组" in body


def test_render_escalation_uses_the_campaigns_own_rung_name() -> None:
    # A campaign may name a rung otherwise (e.g. 问责): the notice says what the spec says.
    subject, body = render_escalation(
        "问责",
        12,
        [],
        task_title="t",
        campaign_title="c",
        department_name="d",
        due_date=dt.date(2020, 6, 19),
    )
    assert subject.startswith("【问责】") and "**问责**" in body and "约谈" not in body
    with pytest.raises(ValueError):
        render_escalation(
            " ", 1, [], task_title="t", campaign_title="c", department_name="d", due_date=dt.date(2020, 6, 19)
        )


def test_render_digest_combines_items() -> None:
    first = render_reminder("自查报告", "专项", "市住建局", dt.date(2020, 6, 22), 1)
    second = render_overdue("整改台账", "专项", "市交通局", dt.date(2020, 6, 19), 1)
    subject, body = render_digest("张三", [first, second], dt.date(2020, 6, 22))
    assert subject == "【每日汇总】2020年6月22日（星期一）待办提醒2条"
    assert body.startswith("张三，您好：")
    assert f"#### 1. {first[0]}" in body and f"#### 2. {second[0]}" in body
    assert body.index("市住建局") < body.index("市交通局")
    with pytest.raises(ValueError):
        render_digest("张三", [], dt.date(2020, 6, 22))
