"""Who an outbox row speaks to: the people behind an escalation audience, and how the others
who were told are named in the 抄送 line."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import ColumnElement, and_, exists, or_, select

from domain.access import Role
from domain.spec import EscalationAudience
from store.models import Department, Outbox, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    key: str  # username, or dept:<code> for a department's contact mailbox
    name: str
    email: str | None
    username: str | None  # has an in-app inbox


@dataclass(frozen=True)
class Audiences:
    """The campaign's departments and the active users, loaded once per planning run."""

    departments: dict[int, Department]
    users: list[User]

    @cached_property
    def office(self) -> Department | None:
        return next((d for d in self.departments.values() if d.is_office), None)

    @cached_property
    def _users_of(self) -> dict[str, list[User]]:
        """Department code -> its users who read its messages (looked up per row: never a scan per row)."""
        by_code: dict[str, list[User]] = {}
        for u in self.users:
            if u.department_code and u.role in (Role.department, Role.office):
                by_code.setdefault(u.department_code, []).append(u)
        return by_code

    # The same people for every row addressed to the office or the leaders: worked out once per run, not by a
    # pass over every user per row (a busy national day owes the office ~1M rows, the campaign ~33,000 users).
    @cached_property
    def _office_people(self) -> tuple[Person, ...]:
        office = self.office
        people = self._department(office) if office is not None else []
        known = {p.key for p in people}
        return (*people, *(_user(u) for u in self.users if u.role == Role.office and u.username not in known))

    @cached_property
    def _leaders(self) -> tuple[Person, ...]:
        return tuple(_user(u) for u in self.users if u.role == Role.leader)

    def people(self, outbox: Outbox) -> list[Person]:
        dept = self.departments[outbox.department_id]
        audience = outbox.audience
        if audience == EscalationAudience.department:
            return self._department(dept)
        if audience == EscalationAudience.department_head:
            return self._department(dept, with_users=False)
        if audience == EscalationAudience.office:
            return list(self._office_people)
        if audience == EscalationAudience.leaders:
            return list(self._leaders)
        log.warning("未知的通知对象 %s（outbox %s），已跳过", outbox.audience, outbox.natural_key)
        return []

    def name_of(self, key: str) -> str:
        """How a digest greets the person behind a `Person.key` (the delivery's recipient)."""
        everyone = [*map(_contact, self.departments.values()), *map(_user, self.users)]
        return next((p.name for p in everyone if p.key == key), key)

    def label(self, audience: str, dept: Department) -> str:
        """How a message names an audience (the 抄送 line)."""
        office = self.office
        return {
            EscalationAudience.department.value: dept.name,
            EscalationAudience.department_head.value: f"{dept.name}主要负责人",
            EscalationAudience.office.value: f"{office.name if office is not None else '牵头办公室'}（牵头办公室）",
            EscalationAudience.leaders.value: "分管领导",
        }.get(audience, audience)

    def _department(self, dept: Department, *, with_users: bool = True) -> list[Person]:
        people: list[Person] = []
        if dept.contact_email:
            people.append(_contact(dept))
        if with_users:
            people += [_user(u) for u in self._users_of.get(dept.code, ())]
        return people


def _contact(dept: Department) -> Person:
    """A department's contact mailbox."""
    return Person(f"dept:{dept.code}", dept.contact_name or dept.name, dept.contact_email, None)


def _user(user: User) -> Person:
    return Person(user.username, user.display_name, user.email, user.username)


def has_inbox_readers(campaign_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """SQL over `outbox`: the row speaks to someone with an in-app inbox — the same rule as
    `Audiences.people` keeps to its persons with a username (department contacts have none, so a
    department_head row never reaches an inbox). The tick writes the text only of these rows."""
    active = User.disabled.is_(False)
    readers_of = select(Department.id).where(
        Department.campaign_id == campaign_id,
        Department.code.in_(select(User.department_code).where(active, User.role.in_((Role.department, Role.office)))),
    )
    office_readers = or_(
        exists().where(active, User.role == Role.office),
        exists().where(
            active,
            User.role.in_((Role.department, Role.office)),
            User.department_code.in_(
                select(Department.code).where(Department.campaign_id == campaign_id, Department.is_office.is_(True))
            ),
        ),
    )
    return or_(
        and_(Outbox.audience == EscalationAudience.department.value, Outbox.department_id.in_(readers_of)),
        and_(Outbox.audience == EscalationAudience.office.value, office_readers),
        and_(Outbox.audience == EscalationAudience.leaders.value, exists().where(active, User.role == Role.leader)),
    )
