"""The one family of errors whose message is for the person who caused them.

Everything that derives from `UserError` is shown as is (CLI: exit 2; dashboard: st.error) and is
the user's to fix: bad input, something not found, not allowed, a stale form, a calendar nobody
declared (domain.calendar.CalendarUnknown), an invalid campaign file. Any other exception is a bug:
the CLI and the dashboard show a one-line notice with an incident id and write the traceback to the log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class UserError(Exception):
    """Base: the message is shown to the user as is (plain Chinese)."""


class NotFound(UserError):
    pass


class Conflict(UserError):
    """Someone else changed the record first (e.g. two reviewers on one submission)."""


class Invalid(UserError):
    """Input that breaks a rule (bad upload, missing reason, wrong state)."""


class Forbidden(UserError):
    """The actor may not do this (see domain.access.refusal, which words it)."""

    def __init__(self, message: str, *, username: str = "", action: str = "") -> None:
        super().__init__(message)
        self.username, self.action = username, action


class RowsRejected(Invalid):
    """An imported file has bad rows: nothing was imported; `rows` names every bad row.

    The message lists them (文件：第 N 行: 列「…」: …); `rows` carries exchange.RowError items
    (row_number, column, message) for a screen to show as a table."""

    def __init__(self, message: str, rows: list[Any]) -> None:
        super().__init__(message)
        self.rows = rows


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a campaign YAML, at its position."""

    path: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        position = f":{self.line}:{self.column}" if self.line else ""  # no position for a file that cannot be read
        return f"{self.path}{position}: {where}{self.message}"


class SpecInvalid(Invalid):
    """A campaign YAML that does not validate; `problems` lists every finding with its position."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
