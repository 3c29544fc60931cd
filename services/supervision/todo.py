"""The office's one 待办: everything waiting on the office in one campaign, oldest first — submissions
to review, 销号 requests with their evidence, leads awaiting 办结审核, pending extension requests,
督办单 responses — and the office's own unfinished tasks (the coordinating department's work)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Actor, Role
from domain.assignment import UNFINISHED
from domain.duban import DubanState
from domain.extension import ExtensionState
from domain.lead import LeadStatus
from domain.problem import ProblemStatus
from services import leads as ld
from services import problems as pb
from services import submissions as sub
from services.campaigns import get_campaign
from services.duban import DubanDTO, list_dubans
from services.guard import check, resolve
from services.leads import LeadDTO
from services.problems import ProblemDTO, ProblemEventDTO
from services.submissions import AssignmentDTO
from services.supervision.extensions import ExtensionDTO, list_extensions
from store.models import Department


@dataclass(frozen=True)
class ClosureRequest:
    problem: ProblemDTO
    requested_at: dt.datetime | None
    evidence: str
    events: list[ProblemEventDTO]  # the last one is the 销号 request, with its files


@dataclass(frozen=True)
class OfficeTodo:
    campaign_code: str
    submissions: list[AssignmentDTO] = field(default_factory=list)
    closures: list[ClosureRequest] = field(default_factory=list)
    leads: list[LeadDTO] = field(default_factory=list)
    extensions: list[ExtensionDTO] = field(default_factory=list)
    duban_responses: list[DubanDTO] = field(default_factory=list)  # 督办单 answered, not yet read (已阅)
    own_tasks: list[AssignmentDTO] = field(default_factory=list)  # the office's own unfinished tasks

    @property
    def counts(self) -> dict[str, int]:
        return {
            "待审核材料": len(self.submissions),
            "销号申请": len(self.closures),
            "待办结审核线索": len(self.leads),
            "延期申请": len(self.extensions),
            "督办单反馈": len(self.duban_responses),
            "本单位任务": len(self.own_tasks),
        }

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _far() -> dt.datetime:
    return dt.datetime.max.replace(tzinfo=dt.UTC)


def duban_responses_waiting(
    session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None
) -> list[DubanDTO]:
    """督办单 the departments have answered (反馈) and the office has not yet marked 已阅 (services.duban.review),
    oldest answer first."""
    answered = [
        d
        for d in list_dubans(session, actor=actor, campaign_code=campaign_code, at=at)
        if d.state == DubanState.answered and d.reviewed_at is None
    ]
    return sorted(answered, key=lambda d: (d.answered_at or _far(), d.id))


def office_todo(session: Session, *, actor: Actor, campaign_code: str, at: dt.datetime | None = None) -> OfficeTodo:
    actor = resolve(session, actor, at=at)
    check(
        actor.role in (Role.office, Role.system),
        actor=actor,
        at=at,
        action="office.todo",
        entity="campaign",
        entity_key=campaign_code,
        label="查看牵头办公室待办",
        reason="待办汇总是牵头办公室的工作台。",
    )
    submissions = sorted(
        sub.review_queue(session, actor=actor, campaign_code=campaign_code, at=at),
        key=lambda a: (a.submitted_at or _far(), a.id),
    )
    closures = []
    for p in pb.list_problems(
        session, actor=actor, campaign_code=campaign_code, status=ProblemStatus.closing.value, at=at
    ):
        _p, events = pb.get_problem(session, actor=actor, problem_id=p.id, at=at)
        last = events[-1] if events else None
        closures.append(ClosureRequest(p, last.at if last else None, last.note if last else "", events))
    closures.sort(key=lambda c: (c.requested_at or _far(), c.problem.id))
    leads = sorted(
        ld.list_leads(session, actor=actor, campaign_code=campaign_code, status=LeadStatus.reported.value, at=at),
        key=lambda x: (x.due_on or dt.date.max, x.id),
    )
    extensions = list_extensions(
        session, actor=actor, campaign_code=campaign_code, state=ExtensionState.pending.value, at=at
    )
    campaign = get_campaign(session, campaign_code)
    office_codes = list(
        session.scalars(select(Department.code).where(Department.campaign_id == campaign.id, Department.is_office))
    )
    own: list[AssignmentDTO] = []
    for code in office_codes:
        own += [
            a
            for a in sub.list_assignments(
                session, actor=actor, campaign_code=campaign_code, department_code=code, at=at
            )
            if a.status in UNFINISHED
        ]
    own.sort(key=lambda a: (a.due_on, a.id))
    return OfficeTodo(
        campaign_code,
        submissions,
        closures,
        leads,
        extensions,
        duban_responses_waiting(session, actor=actor, campaign_code=campaign_code, at=at),
        own,
    )


def accept_many(
    session: Session, *, actor: Actor, at: dt.datetime, items: list[tuple[int, int]], note: str = ""
) -> list[AssignmentDTO]:
    """批量通过: accept each (assignment id, version seen) with one comment; all or none (one transaction)."""
    return [
        sub.accept(session, actor=actor, at=at, assignment_id=aid, expected_version=version, note=note)
        for aid, version in items
    ]
