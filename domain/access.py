"""Who may do what: the role rules every service call checks (pure, so they are tested once)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    office = "office"  # 联席会议办公室: administers campaigns and reviews
    department = "department"  # acts for its own department only
    leader = "leader"  # reads everything, changes nothing
    system = "system"  # the scheduler and flows


USERNAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{1,49}$"
USERNAME_HINT = "用户名须以字母开头，由字母、数字、_ . - 组成，2–50 个字符"

ROLE_LABELS = {Role.office: "牵头办公室", Role.department: "责任部门", Role.leader: "领导", Role.system: "系统"}


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: Role
    department_code: str | None = None
    display_name: str = ""


SYSTEM = Actor("system", Role.system, None, "系统")


class Forbidden(PermissionError):
    def __init__(self, actor: Actor, action: str, reason: str):
        self.actor, self.action, self.reason = actor, action, reason
        super().__init__(f"无权限：{actor.username}（{ROLE_LABELS[actor.role]}）不能{action}。{reason}")


def can_read_department(actor: Actor, department_code: str) -> bool:
    return actor.role in (Role.office, Role.leader, Role.system) or actor.department_code == department_code


def can_act_for_department(actor: Actor, department_code: str) -> bool:
    """Submitting work, requesting 销号, handling an assigned lead."""
    return actor.role == Role.department and actor.department_code == department_code


def can_administer(actor: Actor) -> bool:
    """Launching campaigns, reviewing, approving 销号, assigning leads, managing users."""
    return actor.role in (Role.office, Role.system)


def can_read_confidential(actor: Actor) -> bool:
    """Reporter identities of 举报 leads are for the office only."""
    return actor.role == Role.office


def require(allowed: bool, actor: Actor, action: str, reason: str = "") -> None:
    if not allowed:
        raise Forbidden(actor, action, reason)
