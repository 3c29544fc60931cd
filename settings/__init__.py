"""The one settings object, built at the edge (CLI, dashboard, flow entry) and passed in.

Sources, highest priority first:
1. keyword arguments (`Settings(database_url=...)`: the CLI's --database-url, tests);
2. environment variables `CAMPAIGN_<FIELD>` (case-insensitive), e.g. `CAMPAIGN_DATABASE_URL`,
   `CAMPAIGN_SMTP_HOST`, `CAMPAIGN_AS_OF`;
3. the TOML file named by `CAMPAIGN_SETTINGS_FILE` (top-level keys are the field names; a named
   file that is missing is an error, not a silent fallback);
4. the defaults below.

Nothing else in the project reads `os.environ` for its own settings, and nothing writes it: a
child process (the dashboard) gets its settings through `Settings.child_environment()`.
Webhooks are a JSON list in `CAMPAIGN_WEBHOOKS` or `[[webhooks]]` tables in the file. Secrets are
`SecretStr`; webhook URLs (they carry tokens) are kept out of repr().
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from domain.errors import Invalid
from domain.localtime import LOCAL_TZ

ENV_PREFIX = "CAMPAIGN_"
SETTINGS_FILE_ENV = "CAMPAIGN_SETTINGS_FILE"
DEFAULT_DATA_DIR = Path("data")

WebhookFormat = Literal["json", "dingtalk", "wecom"]


class WebhookTarget(BaseModel):
    """One chat robot / HTTP endpoint that receives notifications.

    `secret` is only used by DingTalk robots with 加签 enabled; WeCom robots have no signing (the
    `key` in the URL is the credential), so a secret for a `wecom` target is ignored."""

    model_config = {"frozen": True}

    name: str = Field(min_length=1)
    url: str = Field(repr=False)  # the query string holds access_token / key
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # --- store and files ---
    database_url: str = ""  # empty: SQLite at <data_dir>/campaign.db
    data_dir: Path = DEFAULT_DATA_DIR
    reports_dir: Path | None = None  # default <data_dir>/reports
    attachment_dir: Path | None = None  # default <data_dir>/attachments
    log_dir: Path | None = None  # default <data_dir>/logs (incident tracebacks)
    # The audit chain's HMAC key and its head anchor, both outside the database (store.audit):
    # default audit.key and <db stem>.audit-anchor.log beside a SQLite database, or in data_dir.
    audit_key_file: Path | None = None
    audit_anchor_file: Path | None = None

    # --- the one clock override (demo, simulation, tests): "today" is this day in Beijing ---
    as_of: dt.date | None = None

    # --- dashboard ---
    dashboard_address: str = "127.0.0.1"
    dashboard_port: int = Field(default=8501, ge=1, le=65535)
    dashboard_base_url: str = "http://localhost:8501"

    # --- the CLI's acting user (--as overrides `user`); never handed to a child process ---
    user: str | None = Field(default=None, exclude=True)
    password: SecretStr | None = Field(default=None, exclude=True)
    new_password: SecretStr | None = Field(default=None, exclude=True)  # `user add` / `user passwd`

    # --- notifications: e-mail (smtp_host None: channel not configured) ---
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    smtp_ca_file: Path | None = None  # extra CA bundle (PEM) for intranet mail servers

    # --- notifications: chat robots and webhooks ---
    webhooks: list[WebhookTarget] = Field(default_factory=list)
    webhook_timeout_s: float = Field(default=10.0, gt=0)

    # --- delivery policy ---
    send_on_holidays: bool = False  # whether the scheduler sends on 法定节假日 / weekends
    delivery_max_attempts: int = Field(default=5, ge=1)
    # wait before attempt n+1 after a retryable failure of attempt n (the last value repeats)
    delivery_retry_delays_s: list[float] = Field(default_factory=lambda: [60.0, 300.0, 1800.0, 7200.0])
    # a row still 'sending' this long after its claim was interrupted by a crash
    delivery_sending_stale_s: float = Field(default=120.0, ge=0)

    # --- report rendering ---
    # Report charts are drawn by an installed Chromium (never downloaded): None finds chromium / chrome on PATH.
    chromium_path: Path | None = None
    cjk_font: str | None = None  # family name of an installed CJK font, tried first in report charts

    @field_validator("webhooks")
    @classmethod
    def _unique_names(cls, targets: list[WebhookTarget]) -> list[WebhookTarget]:
        names = [t.name for t in targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"webhook 名称重复: {', '.join(duplicates)}")
        return targets

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
        toml_path = _settings_file()
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    # --- derived values ---

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'campaign.db').as_posix()}"

    @property
    def reports_path(self) -> Path:
        return self.reports_dir or self.data_dir / "reports"

    @property
    def attachments_path(self) -> Path:
        return self.attachment_dir or self.data_dir / "attachments"

    @property
    def logs_path(self) -> Path:
        return self.log_dir or self.data_dir / "logs"

    def webhook(self, name: str) -> WebhookTarget:
        """Look a target up by name (KeyError if unknown)."""
        for target in self.webhooks:
            if target.name == name:
                return target
        raise KeyError(name)

    # --- the clock: edges only (flows and everything below take `as_of` / `at`) ---

    def today(self) -> dt.date:
        return self.as_of or dt.datetime.now(LOCAL_TZ).date()

    def now(self) -> dt.datetime:
        """Aware UTC. With `as_of`, that day at the current Beijing time of day."""
        real = dt.datetime.now(LOCAL_TZ)
        if self.as_of is not None:
            real = dt.datetime.combine(self.as_of, real.timetz().replace(tzinfo=None), LOCAL_TZ)
        return real.astimezone(dt.UTC)

    def child_environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for a child process of ours (the dashboard) that must see these
        settings: the variables it reads, set from this object (secrets included: same machine)."""
        env = dict(os.environ if base is None else base)
        for name, value in self.model_dump(mode="json", exclude_none=True).items():
            if name == "webhooks":
                env[f"{ENV_PREFIX}WEBHOOKS"] = json.dumps(
                    [
                        {
                            **t.model_dump(mode="json"),
                            "secret": t.secret.get_secret_value() if t.secret else None,
                            "url": t.url,
                        }
                        for t in self.webhooks
                    ],
                    ensure_ascii=False,
                )
                continue
            if isinstance(value, list):
                env[f"{ENV_PREFIX}{name.upper()}"] = json.dumps(value)
                continue
            env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
        for secret in ("smtp_password",):
            value = getattr(self, secret)
            if value is not None:
                env[f"{ENV_PREFIX}{secret.upper()}"] = value.get_secret_value()
        return env


def _settings_file() -> Path | None:
    raw = os.environ.get(SETTINGS_FILE_ENV, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise Invalid(f"{SETTINGS_FILE_ENV} 指向的配置文件不存在: {path}")
    return path


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and the settings file, with explicit overrides (None ignored).
    A bad value is an Invalid naming the field, never a pydantic traceback."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "；".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise Invalid(f"配置有误：{problems}") from None
