"""Users and roles in the store: office (administers, reviews), department (its own only), leader (reads).

Passwords are hashed with argon2 (argon2-cffi). Every change and every refusal is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.access import (
    LOGIN_WINDOW_MINUTES,
    PERSON_ROLES,
    ROLE,
    SYSTEM,
    USERNAME_HINT,
    USERNAME_PATTERN,
    Actor,
    Role,
    can_administer,
    login_lockout,
)
from domain.errors import Invalid, NotFound, UserError
from domain.limits import USERNAME_MAX
from services.guard import actor_of, check, fail, resolve
from store import audit
from store.models import Campaign, Department, LoginAttempt, User

MIN_PASSWORD = 8
_USERNAME = re.compile(USERNAME_PATTERN)
_hasher = PasswordHasher()
# The stored hash of an account nobody logs in with (the simulation's model accounts): no password
# verifies against it (argon2 refuses it as an invalid hash, which login treats as a wrong password),
# and it costs no hashing — at 2,000 departments, hashing random passwords took five minutes.
NO_PASSWORD = "!"


class AuthFailed(UserError):
    WRONG = "用户名或密码错误"
    DISABLED = "账号已停用，请联系牵头办公室"


@dataclass(frozen=True)
class UserDTO:
    username: str
    display_name: str
    role: str
    department_code: str | None
    email: str | None
    disabled: bool
    campaign_code: str | None = None  # a department account's campaign; None: every campaign


def _dto(u: User) -> UserDTO:
    return UserDTO(u.username, u.display_name, u.role, u.department_code, u.email, bool(u.disabled), u.campaign_code)


def _snapshot(u: User) -> dict[str, object]:
    return {
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "department_code": u.department_code,
        "campaign_code": u.campaign_code,
        "email": u.email,
        "disabled": bool(u.disabled),
    }


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(f"密码至少需要 {MIN_PASSWORD} 个字符")


def _role(value: Role | str) -> Role:
    role = ROLE.parse(str(value))
    if role == Role.system:
        raise Invalid("不能创建系统账号")
    if role is None:
        choices = "、".join(f"{r.value}（{ROLE.label(r)}）" for r in PERSON_ROLES)
        raise Invalid(f"角色 {value!r} 无效，可选：{choices}")
    return role


def _get(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"没有用户名为 {username!r} 的账号")
    return user


to_actor = actor_of  # the actor a user record stands for (services.guard.actor_of)


def _campaign_of(session: Session, department_code: str, campaign_code: str | None) -> str:
    """The campaign a department account belongs to: the one named, which must have the department,
    or — none named — the one campaign that has a department with this code."""
    q = (
        select(Campaign.code)
        .join(Department, Department.campaign_id == Campaign.id)
        .where(Department.code == department_code)
    )
    if campaign_code:
        if session.scalar(select(Campaign.id).where(Campaign.code == campaign_code)) is None:
            raise Invalid(f"专项行动 {campaign_code!r} 不存在")
        if session.scalar(q.where(Campaign.code == campaign_code).limit(1)) is None:
            raise Invalid(f"专项行动 {campaign_code} 中没有部门代码 {department_code!r}")
        return campaign_code
    found = list(session.scalars(q.order_by(Campaign.code)))
    if not found:
        raise Invalid(f"部门代码 {department_code!r} 不存在（请先启动包含该部门的专项行动）")
    if len(found) > 1:
        raise Invalid(f"部门代码 {department_code!r} 在多个专项行动中（{'、'.join(found)}），请指定所属专项行动")
    return found[0]


def check_user_fields(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role | str,
    department_code: str | None,
    campaign_code: str | None = None,
) -> tuple[str, str, Role, str | None, str | None]:
    """The account rules (raising Invalid), shared by add_user, update_user and the users import;
    returns the cleaned (username, display name, role, department code, campaign code).

    A department account belongs to one department of one campaign (campaign_code may be left out
    when exactly one campaign has the department); office and leader accounts to no campaign."""
    r = _role(role)
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise Invalid(USERNAME_HINT)
    if username.lower() == SYSTEM.username:
        raise Invalid(f"用户名 {SYSTEM.username!r} 保留给系统（定时推进），请换一个")
    display_name = (display_name or "").strip()
    if not display_name:
        raise Invalid("姓名（显示名）不能为空")
    department_code = (department_code or "").strip() or None
    if r == Role.department and not department_code:
        raise Invalid("责任部门账号必须指定所属部门代码")
    if r != Role.department and department_code:
        raise Invalid(f"{ROLE.label(r)}账号不属于某个部门，请不要指定部门代码")
    campaign_code = (campaign_code or "").strip() or None
    if r != Role.department and campaign_code:
        raise Invalid(f"{ROLE.label(r)}账号可查看所有专项行动，请不要指定专项行动")
    if department_code:
        campaign_code = _campaign_of(session, department_code, campaign_code)
    return username, display_name, r, department_code, campaign_code


def add_user(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    username: str,
    display_name: str,
    role: Role | str,
    department_code: str | None,
    email: str | None,
    password: str | None,
    campaign_code: str | None = None,
) -> UserDTO:
    """Add an account (office only). `password=None`: an account nobody can log in with until the office
    sets a password (services.simulation's model accounts act through the services, never log in)."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="user.add",
        entity="user",
        entity_key=str(username),
        label="添加用户",
        reason="只有牵头办公室可以管理用户。",
    )
    try:
        username, display_name, r, department_code, campaign_code = check_user_fields(
            session,
            username=username,
            display_name=display_name,
            role=role,
            department_code=department_code,
            campaign_code=campaign_code,
        )
        if password is not None:
            _check_password(password)
        # zj1 and ZJ1 would be two accounts people cannot tell apart.
        if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
            raise Invalid(f"用户名 {username!r} 已存在（用户名不区分大小写），请换一个")
    except Invalid as exc:
        fail(exc, actor=actor, at=at, action="user.add", entity="user", entity_key=str(username))
    user = User(
        username=username,
        display_name=display_name,
        role=r.value,
        department_code=department_code,
        campaign_code=campaign_code,
        email=(email or "").strip() or None,
        password_hash=NO_PASSWORD if password is None else hash_password(password),
        disabled=False,
        created_at=at,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, at=at, actor=actor, action="user.add", entity="user", entity_key=username, after=_snapshot(user)
    )
    return _dto(user)


def authenticate(
    session: Session, username: str, password: str, *, at: dt.datetime, address: str | None = None
) -> Actor:
    """Log a user in. Every attempt is recorded (username as typed, client address) and audited;
    once an account or an address has too many recent failures (domain.access.login_lockout),
    attempts are refused without looking at the password, so guessing gains nothing."""
    # What reaches the database is cut to the column and free of control characters (PostgreSQL
    # refuses NUL); a name that needed cleaning cannot be an account's name.
    typed = "".join(c for c in (username or "?") if c.isprintable())[:USERNAME_MAX] or "?"
    clean = typed == username
    where = (address or "")[:64] or None
    who = Actor(typed, Role.leader, None, "")  # only a name for the audit record

    def refused(message: str) -> NoReturn:
        attempt = LoginAttempt(username=typed, address=where, at=at, ok=False)
        fail(
            AuthFailed(message), actor=who, at=at, action="user.login", entity="user", entity_key=typed, keep=(attempt,)
        )

    since = at - dt.timedelta(minutes=LOGIN_WINDOW_MINUTES)
    recent = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ok.is_(False), LoginAttempt.at >= since)
    by_user = session.scalar(recent.where(LoginAttempt.username == typed)) or 0
    by_address = (session.scalar(recent.where(LoginAttempt.address == where)) or 0) if where else 0
    lockout = login_lockout(by_user, by_address)
    if lockout is not None:
        refused(lockout)
    user = session.scalar(select(User).where(User.username == username)) if clean else None
    if user is None:
        refused(AuthFailed.WRONG)
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        refused(AuthFailed.WRONG)
    if user.disabled:
        refused(AuthFailed.DISABLED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    actor = to_actor(user)
    session.add(LoginAttempt(username=typed, address=where, at=at, ok=True))
    audit.record(
        session,
        at=at,
        actor=actor,
        action="user.login",
        entity="user",
        entity_key=username,
        after={"address": where} if where else None,
    )
    return actor


def actor_for(session: Session, username: str) -> Actor:
    """The actor of a user already authenticated elsewhere (a web session); disabled users refused."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AuthFailed(AuthFailed.WRONG)
    if user.disabled:
        raise AuthFailed(AuthFailed.DISABLED)
    return to_actor(user)


def list_users(session: Session, *, actor: Actor, at: dt.datetime | None = None) -> list[UserDTO]:
    actor = resolve(session, actor, at=at)
    check(
        actor.role in (Role.office, Role.leader, Role.system),
        actor=actor,
        at=at,
        action="user.list",
        entity="user",
        entity_key="*",
        label="查看用户列表",
        reason="只有牵头办公室和领导可以查看用户。",
    )
    return [_dto(u) for u in session.scalars(select(User).order_by(User.role, User.department_code, User.username))]


def disable_user(session: Session, *, actor: Actor, at: dt.datetime, username: str) -> UserDTO:
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="user.disable",
        entity="user",
        entity_key=username,
        label="停用用户",
        reason="只有牵头办公室可以管理用户。",
    )
    try:
        user = _get(session, username)
        if user.username == actor.username:
            raise Invalid("不能停用自己的账号")
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="user.disable", entity="user", entity_key=username)
    before = _snapshot(user)
    if not user.disabled:
        user.disabled = True
        session.flush()
        audit.record(
            session,
            at=at,
            actor=actor,
            action="user.disable",
            entity="user",
            entity_key=username,
            before=before,
            after=_snapshot(user),
        )
    return _dto(user)


def set_password(session: Session, *, actor: Actor, at: dt.datetime, username: str, password: str) -> None:
    """The office resets anyone's password; every user may change their own."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor) or actor.username == username,
        actor=actor,
        at=at,
        action="user.set_password",
        entity="user",
        entity_key=username,
        label="修改他人密码",
        reason="只能修改自己的密码，或由牵头办公室重置。",
    )
    try:
        user = _get(session, username)
        _check_password(password)
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="user.set_password", entity="user", entity_key=username)
    user.password_hash = hash_password(password)
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="user.set_password",
        entity="user",
        entity_key=username,
        after={"password": "（已更改）"},
    )


def enable_user(session: Session, *, actor: Actor, at: dt.datetime, username: str) -> UserDTO:
    """Re-enable a disabled account (the office only); enabling an active account changes nothing."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="user.enable",
        entity="user",
        entity_key=username,
        label="启用用户",
        reason="只有牵头办公室可以管理用户。",
    )
    try:
        user = _get(session, username)
    except NotFound as exc:
        fail(exc, actor=actor, at=at, action="user.enable", entity="user", entity_key=username)
    before = _snapshot(user)
    if user.disabled:
        user.disabled = False
        session.flush()
        audit.record(
            session,
            at=at,
            actor=actor,
            action="user.enable",
            entity="user",
            entity_key=username,
            before=before,
            after=_snapshot(user),
        )
    return _dto(user)


def update_user(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    username: str,
    display_name: str,
    role: Role | str,
    department_code: str | None,
    email: str | None,
    campaign_code: str | None = None,
) -> UserDTO:
    """Change an account's name, role, department (and campaign) and email (the office only); the
    password and the disabled flag are left alone. Nothing changed: nothing written."""
    actor = resolve(session, actor, at=at)
    check(
        can_administer(actor),
        actor=actor,
        at=at,
        action="user.update",
        entity="user",
        entity_key=str(username),
        label="修改用户",
        reason="只有牵头办公室可以管理用户。",
    )
    try:
        user = _get(session, username)
        _name, display_name, r, department_code, campaign_code = check_user_fields(
            session,
            username=username,
            display_name=display_name,
            role=role,
            department_code=department_code,
            campaign_code=campaign_code,
        )
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="user.update", entity="user", entity_key=str(username))
    before = _snapshot(user)
    user.display_name, user.role, user.department_code = display_name, r.value, department_code
    user.campaign_code = campaign_code
    user.email = (email or "").strip() or None
    if _snapshot(user) != before:
        session.flush()
        audit.record(
            session,
            at=at,
            actor=actor,
            action="user.update",
            entity="user",
            entity_key=username,
            before=before,
            after=_snapshot(user),
        )
    return _dto(user)


def display_names(
    session: Session, *, actor: Actor, usernames: Iterable[str], at: dt.datetime | None = None
) -> dict[str, str]:
    """The names people read for accounts (who submitted, who saved, who reviewed): any signed-in
    account may read the display names of the accounts it is shown, nothing else about them."""
    resolve(session, actor, at=at)
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    return {name: shown or name for name, shown in rows}
