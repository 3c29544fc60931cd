"""Configuration of the notification channels (SMTP e-mail and chat webhooks).

Sources, highest priority first:

1. keyword arguments passed to ``NotifySettings(...)`` (tests, CLI overrides);
2. environment variables with the prefix ``CAMPAIGN_`` (case-insensitive),
   e.g. ``CAMPAIGN_SMTP_HOST``, ``CAMPAIGN_SMTP_PASSWORD``;
3. an optional **TOML** file whose path is given in ``CAMPAIGN_SETTINGS_FILE``.
   Keys are the field names without prefix at the top level of the file; unknown
   keys are ignored so the same file can be shared with other parts of the
   product. If the variable is set but the file does not exist, loading fails
   loudly instead of silently falling back to defaults.
4. defaults below.

Webhooks are a JSON list in ``CAMPAIGN_WEBHOOKS``::

    CAMPAIGN_WEBHOOKS='[{"name": "纪检组钉钉群", "format": "dingtalk",
      "url": "https://oapi.dingtalk.com/robot/send?access_token=...",
      "secret": "SEC..."}]'

or an array of tables in the TOML file::

    smtp_host = "mail.example.gov.cn"
    smtp_port = 587
    smtp_username = "campaign"
    smtp_password = "..."
    smtp_sender = "专项整治办 <campaign@example.gov.cn>"

    [[webhooks]]
    name = "办公室企业微信群"
    format = "wecom"
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."

Secrets (``smtp_password``, webhook ``secret``) are ``SecretStr`` and print as
``**********``. Webhook URLs usually carry an access token in the query string,
so ``WebhookTarget.url`` is excluded from ``repr()``; use ``redacted_url`` in logs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SETTINGS_FILE_ENV = "CAMPAIGN_SETTINGS_FILE"

WebhookFormat = Literal["json", "dingtalk", "wecom"]


class WebhookTarget(BaseModel):
    """One chat robot / HTTP endpoint that receives notifications.

    ``secret`` is only used by DingTalk robots with "加签" enabled. WeCom group
    robots have no signing mechanism (the ``key`` in the URL is the credential),
    so a secret configured for a ``wecom`` target is ignored.
    """

    model_config = {"frozen": True}

    name: str = Field(min_length=1)
    # repr=False: the query string holds access_token / key, which is a credential.
    url: str = Field(repr=False)
    format: WebhookFormat = "json"
    secret: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("webhook url 必须是 http(s):// 开头的完整地址")
        return value

    @property
    def redacted_url(self) -> str:
        """URL without query string, safe for logs and error messages."""
        parts = urlsplit(self.url)
        suffix = "?***" if parts.query else ""
        return f"{parts.scheme}://{parts.netloc}{parts.path}{suffix}"


class NotifySettings(BaseSettings):
    """Settings of the delivery channels. See module docstring for sources."""

    model_config = SettingsConfigDict(env_prefix="CAMPAIGN_", extra="ignore")

    # None means "e-mail channel not configured"; send_email then fails permanently.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    # Extra CA bundle (PEM) for intranet mail servers with a private CA.
    smtp_ca_file: Path | None = None

    webhooks: list[WebhookTarget] = Field(default_factory=list)
    webhook_timeout_s: float = Field(default=10.0, gt=0)

    dashboard_base_url: str = "http://localhost:8501"
    # Read by the scheduler, not by the channels: whether to send on 法定节假日/周末.
    send_on_holidays: bool = False

    @field_validator("webhooks")
    @classmethod
    def _unique_names(cls, targets: list[WebhookTarget]) -> list[WebhookTarget]:
        names = [t.name for t in targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"webhook 名称重复: {', '.join(duplicates)}")
        return targets

    def webhook(self, name: str) -> WebhookTarget:
        """Look a target up by name (KeyError if unknown)."""
        for target in self.webhooks:
            if target.name == name:
                return target
        raise KeyError(name)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = _settings_file_from_env()
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


def _settings_file_from_env() -> Path | None:
    raw = os.environ.get(SETTINGS_FILE_ENV, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    # An explicitly named file that is missing is a deployment error: fail loudly.
    if not path.is_file():
        raise FileNotFoundError(f"{SETTINGS_FILE_ENV} 指向的配置文件不存在: {path}")
    return path
