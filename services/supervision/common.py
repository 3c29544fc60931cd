"""What the supervision services share: loading an assignment with its department and campaign."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.errors import NotFound
from store.models import Assignment, Campaign, Department, TaskTemplate


@dataclass(frozen=True)
class Loaded:
    assignment: Assignment
    campaign_code: str
    department_code: str
    department_name: str
    title: str

    @property
    def label(self) -> str:
        a = self.assignment
        return f"{self.title}{'（' + a.period + '）' if a.period else ''}"


def load_assignment(session: Session, assignment_id: int, *, for_update: bool = False) -> Loaded:
    q = (
        select(Assignment, Campaign.code, Department.code, Department.name, TaskTemplate.title)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(Department, Department.id == Assignment.department_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(Assignment.id == assignment_id)
    )
    if for_update:  # a fresh read, and on PostgreSQL a row lock
        q = q.with_for_update(of=Assignment).execution_options(populate_existing=True)
    row = session.execute(q).first()
    if row is None:
        raise NotFound(f"没有编号为 {assignment_id} 的任务")
    return Loaded(*row)
