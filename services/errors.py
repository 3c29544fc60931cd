"""Errors a service raises for a user to read (Chinese, plain words); never a traceback."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: the message is shown to the user as is."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    """Someone else changed the record first (e.g. two reviewers on one submission)."""


class Invalid(ServiceError):
    """Input that breaks a rule (bad upload, missing reason, wrong state)."""


class RowsRejected(Invalid):
    """An imported file has bad rows: nothing was imported; `rows` names every bad row.

    The message lists them (文件：第 N 行: 列「…」: …); `rows` carries exchange.RowError items
    (row_number, column, message) for a screen to show as a table.
    """

    def __init__(self, message: str, rows: list) -> None:  # list[exchange.RowError]
        super().__init__(message)
        self.rows = rows
