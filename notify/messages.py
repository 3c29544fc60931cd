"""The channel-independent message handed to ``notify.channels``."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

DEDUPE_HEADER = "X-Campaign-Dedupe-Key"


class Message(BaseModel):
    """One notification for one recipient.

    ``dedupe_key`` is the natural key of the outbox entry. Channels pass it on
    (e-mail header ``X-Campaign-Dedupe-Key`` and a deterministic Message-ID,
    JSON webhook field ``dedupe_key``) so a receiver can drop a duplicate that
    a retry after a lost acknowledgement may produce.
    """

    model_config = {"frozen": True}

    recipient_key: str = Field(min_length=1)
    recipient_email: str | None = None
    subject: str = Field(min_length=1)
    body_markdown: str
    link: str | None = None
    dedupe_key: str = Field(min_length=1)

    # Line breaks in header-bound fields would allow e-mail header injection.
    @field_validator("subject", "dedupe_key", "recipient_key", "recipient_email")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("不允许包含换行符")
        return value

    def body_with_link(self) -> str:
        """Body text; the link is appended unless the body already contains it."""
        if self.link and self.link not in self.body_markdown:
            return f"{self.body_markdown.rstrip()}\n\n[进入系统查看]({self.link})"
        return self.body_markdown
