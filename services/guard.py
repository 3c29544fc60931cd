"""Who is acting, permission checks and refusals, audited.

Every service entry starts with `resolve`: the actor it was handed is only a claim (a username);
the role, department and campaign come from the user record, read at call time.

A refused call raises a `UserError` that carries a `store.audit.Refusal`; the unit of work rolls
the operation back and then appends the refusal to the audit chain in a transaction of its own
(store.uow), so the record survives the operation it refused and no service opens a session.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from domain.access import SYSTEM, Actor, Role, refusal
from domain.errors import UserError
from store.audit import Refusal
from store.models import User


def _raise_with_record(
    error: UserError,
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    entity: str,
    entity_key: str,
    keep: tuple[object, ...] = (),
) -> NoReturn:
    error.refusal = Refusal(actor, at, action, entity, entity_key, str(error), keep)  # type: ignore[attr-defined]
    raise error


def refuse(
    *, actor: Actor, at: dt.datetime | None, action: str, entity: str, entity_key: str, label: str, reason: str = ""
) -> NoReturn:
    """Refuse `label` (what was attempted, in Chinese) to the actor; recorded by the unit of work."""
    _raise_with_record(
        refusal(actor, label, reason), actor=actor, at=at, action=action, entity=entity, entity_key=entity_key
    )


def check(
    allowed: bool,
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    entity: str,
    entity_key: str,
    label: str,
    reason: str = "",
) -> None:
    if not allowed:
        refuse(actor=actor, at=at, action=action, entity=entity, entity_key=entity_key, label=label, reason=reason)


def fail(
    error: UserError,
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    entity: str,
    entity_key: str,
    keep: tuple[object, ...] = (),
) -> NoReturn:
    """Refuse a state change (conflict, bad input) with the given error; recorded like a refusal,
    together with the `keep` rows (ORM objects that must outlive the rollback)."""
    _raise_with_record(error, actor=actor, at=at, action=action, entity=entity, entity_key=entity_key, keep=keep)


def campaign_scope(*, actor: Actor, at: dt.datetime | None, action: str, campaign_code: str, what: str) -> None:
    """A department account works only in its own campaign: asking about another is refused and
    audited, whatever department code the two campaigns share. The office and leaders pass."""
    if actor.role == Role.department and actor.campaign_code != campaign_code:
        refuse(
            actor=actor,
            at=at,
            action=action,
            entity="campaign",
            entity_key=campaign_code,
            label=f"查看专项行动 {campaign_code} 的{what}",
            reason="部门账号只能查看所属专项行动中本部门的工作。",
        )


def department_scope(
    *,
    actor: Actor,
    at: dt.datetime | None,
    action: str,
    campaign_code: str,
    department_code: str | None,
    what: str,
    reason: str,
) -> str | None:
    """The department a list call may show. A department actor gets its own only (asking for
    another is refused and audited); the office and leaders get what they asked for (None: all).
    what: the listed things, as in 查看部门 X 的{what}."""
    if actor.role != Role.department:
        return department_code
    campaign_scope(actor=actor, at=at, action=action, campaign_code=campaign_code, what=what)
    if department_code is not None and department_code != actor.department_code:
        refuse(
            actor=actor,
            at=at,
            action=action,
            entity="department",
            entity_key=f"{campaign_code}/{department_code}",
            label=f"查看部门 {department_code} 的{what}",
            reason=reason,
        )
    return actor.department_code


def actor_of(user: User) -> Actor:
    """The actor a user record stands for (role, department and campaign as recorded)."""
    return Actor(user.username, Role(user.role), user.department_code, user.display_name, user.campaign_code)


# Built once: every service call resolves its actor, every tick step and simulated action included.
_USER_NAMED = select(User).where(User.username == bindparam("username"))
# SYSTEM's one lookup: any row named "system" in any case, the exact name first.
_NAMED_SYSTEM = (
    select(User)
    .where(func.lower(User.username) == SYSTEM.username)
    .order_by((User.username == SYSTEM.username).desc())
    .limit(1)
)


def resolve(session: Session, claimed: Actor, *, at: dt.datetime | None = None) -> Actor:
    """The actor to act as, rebuilt from the user record by username at call time.

    A missing or disabled account, or a department account without a department and campaign, is
    refused and audited (action `actor.resolve`). Nothing but the username is taken from `claimed`:
    an object claiming the office with a department user's name acts as that department user.
    The scheduler: `domain.access.SYSTEM` (username "system", role system) stays SYSTEM as long as no
    user row is named "system" (services.users reserves the name, so one can only come from outside
    the services); any other actor named "system" is refused like an unknown account.
    """
    if claimed == SYSTEM:
        taken = session.scalar(_NAMED_SYSTEM)
        if taken is None:
            return SYSTEM
        user = taken if taken.username == SYSTEM.username else None
    else:
        user = session.scalar(_USER_NAMED, {"username": claimed.username})
    why = ""
    if user is None:
        why = "该账号不存在。"
    elif user.disabled:
        why = "该账号已停用。"
    elif user.role == Role.department and not (user.department_code and user.campaign_code):
        why = "该部门账号尚未指定所属专项行动和部门，请联系牵头办公室。"
    elif claimed == SYSTEM or user.role not in {r.value for r in Role} or user.role == Role.system:
        why = "系统身份不能由用户账号冒用。"
    if user is None or why:
        refuse(
            actor=claimed,
            at=at,
            action="actor.resolve",
            entity="user",
            entity_key=claimed.username[:120],
            label="以该身份操作",
            reason=why,
        )
    return actor_of(user)
