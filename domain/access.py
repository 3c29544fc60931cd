"""Who may do what: the role rules every service call checks (pure, so they are tested once)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import Forbidden
from domain.vocabulary import Vocabulary


class Role(StrEnum):
    office = "office"  # 联席会议办公室: administers campaigns and reviews
    department = "department"  # acts for its own department only
    leader = "leader"  # reads everything, changes nothing
    system = "system"  # the scheduler and flows


USERNAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{1,49}$"
USERNAME_HINT = "用户名须以字母开头，由字母、数字、_ . - 组成，2–50 个字符"

ROLE = Vocabulary(
    Role,
    {Role.office: "牵头办公室", Role.department: "责任部门", Role.leader: "领导", Role.system: "系统"},
    aliases={
        "联席会议办公室": Role.office,
        "办公室": Role.office,
        "联席办": Role.office,
        "成员单位": Role.department,
        "责任单位": Role.department,
        "部门": Role.department,
        "部门联络员": Role.department,
        "联络员": Role.department,
        "分管领导": Role.leader,
    },
)
ROLE_LABELS = ROLE.labels
# The roles a person's account may have (system is the scheduler).
PERSON_ROLES: tuple[Role, ...] = (Role.office, Role.department, Role.leader)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting. Services never trust a given Actor: services.guard.resolve rebuilds it from the
    user record at call time. A department account belongs to one department of one campaign
    (`campaign_code`); office and leader accounts have none (every campaign)."""

    username: str
    role: Role
    department_code: str | None = None
    display_name: str = ""
    campaign_code: str | None = None


SYSTEM = Actor("system", Role.system, None, "系统")


def _own(actor: Actor, department_code: str, campaign_code: str | None) -> bool:
    """The department (and, when the caller names it, the campaign) is the department actor's own."""
    return actor.department_code == department_code and (campaign_code is None or actor.campaign_code == campaign_code)


def can_read_department(actor: Actor, department_code: str, campaign_code: str | None = None) -> bool:
    return actor.role in (Role.office, Role.leader, Role.system) or _own(actor, department_code, campaign_code)


def can_act_for_department(actor: Actor, department_code: str, campaign_code: str | None = None) -> bool:
    """Submitting work, requesting 销号, handling an assigned lead."""
    return actor.role == Role.department and _own(actor, department_code, campaign_code)


def can_administer(actor: Actor) -> bool:
    """Launching campaigns, reviewing, approving 销号, assigning leads, managing users."""
    return actor.role in (Role.office, Role.system)


def can_read_confidential(actor: Actor) -> bool:
    """Reporter identities of 举报 leads are for the office only."""
    return actor.role == Role.office


def refusal(actor: Actor, action: str, reason: str = "") -> Forbidden:
    """The Forbidden error for an actor who may not do `action` (what was attempted, in Chinese)."""
    who = actor.display_name or actor.username
    return Forbidden(
        f"无权限：{who}（{ROLE.label(actor.role)}）不能{action}。{reason}".rstrip(),
        username=actor.username,
        action=action,
    )


# Login throttling: failed attempts counted over a sliding window, per username and per client
# address (an address may serve a whole office behind one NAT, hence its higher limit).
LOGIN_WINDOW_MINUTES = 15
MAX_LOGIN_FAILURES_PER_USER = 5
MAX_LOGIN_FAILURES_PER_ADDRESS = 30


def login_lockout(failures_for_user: int, failures_from_address: int) -> str | None:
    """Why a login may not even be tried now (None: it may)."""
    if failures_for_user >= MAX_LOGIN_FAILURES_PER_USER:
        return f"该账号连续登录失败次数过多，请 {LOGIN_WINDOW_MINUTES} 分钟后再试，或联系牵头办公室重置密码"
    if failures_from_address >= MAX_LOGIN_FAILURES_PER_ADDRESS:
        return f"本机登录失败次数过多，请 {LOGIN_WINDOW_MINUTES} 分钟后再试"
    return None
