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
