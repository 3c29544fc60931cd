"""Permission checks and refusals, audited.

A refused call raises a `UserError` that carries a `store.audit.Refusal`; the unit of work rolls
the operation back and then appends the refusal to the audit chain in a transaction of its own
(store.uow), so the record survives the operation it refused and no service opens a session.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

from domain.access import Actor, Role, refusal
from domain.errors import UserError
from store.audit import Refusal


def _raise_with_record(error: UserError, *, actor: Actor, at: dt.datetime | None, action: str, entity: str,
                       entity_key: str) -> NoReturn:
    error.refusal = Refusal(actor, at, action, entity, entity_key, str(error))  # type: ignore[attr-defined]
    raise error


def refuse(*, actor: Actor, at: dt.datetime | None, action: str, entity: str, entity_key: str, label: str,
           reason: str = "") -> NoReturn:
    """Refuse `label` (what was attempted, in Chinese) to the actor; recorded by the unit of work."""
    _raise_with_record(refusal(actor, label, reason), actor=actor, at=at, action=action, entity=entity,
                       entity_key=entity_key)


def check(allowed: bool, *, actor: Actor, at: dt.datetime | None, action: str, entity: str, entity_key: str,
          label: str, reason: str = "") -> None:
    if not allowed:
        refuse(actor=actor, at=at, action=action, entity=entity, entity_key=entity_key, label=label, reason=reason)


def fail(error: UserError, *, actor: Actor, at: dt.datetime | None, action: str, entity: str,
         entity_key: str) -> NoReturn:
    """Refuse a state change (conflict, bad input) with the given error; recorded like a refusal."""
    _raise_with_record(error, actor=actor, at=at, action=action, entity=entity, entity_key=entity_key)


def department_scope(*, actor: Actor, at: dt.datetime | None, action: str, campaign_code: str,
                     department_code: str | None, what: str, reason: str) -> str | None:
    """The department a list call may show. A department actor gets its own only (asking for
    another is refused and audited); the office and leaders get what they asked for (None: all).
    what: the listed things, as in 查看部门 X 的{what}."""
    if actor.role != Role.department:
        return department_code
    if department_code is not None and department_code != actor.department_code:
        refuse(actor=actor, at=at, action=action, entity="department", entity_key=f"{campaign_code}/{department_code}",
               label=f"查看部门 {department_code} 的{what}", reason=reason)
    return actor.department_code
