"""Problem, project and lead counts in the rollup, per department, with set-based UPDATEs.

Called after ticking.write_rollup for the same (campaign, as_of). Department totals (phase_key '')
get every column; per-phase rows get the problem counts of problems found in that phase. A
department with problems, projects or leads but no assignments gets a total row of its own.

- problems_open: open or waiting for 销号 review; problems_closed: 销号 done;
  problems_overdue: not closed and past its deadline on as_of; problems_rebound: reopened by 回头看.
- projects_supervised / projects_sampled: the register and the verification draw (ratio = sampled / supervised).
- leads_open: assigned to the department and not closed; leads_closed; leads_overdue: not closed, past due_on.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Executable,
    ScalarSelect,
    Table,
    and_,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from domain.lead import LeadStatus
from domain.problem import ProblemStatus
from services.campaigns import get_campaign
from store.models import Department, Lead, Problem, Project, RollupSnapshot
from store.sql import OF_CAMPAIGN, ON_DAY, campaign_day, insert_select_ignoring, run_counting_inserted

R = RollupSnapshot
ROLLUP_KEY = ["campaign_id", "as_of", "department_id", "phase_key"]  # a rollup row's natural key
# The assignment counts ticking.write_rollup writes (with `due`); a department without assignments gets zeros.
TASK_COUNTS = ["assigned", "submitted", "accepted", "on_time", "overdue", "escalation_level"]
ZERO_COLUMNS = [
    *TASK_COUNTS,
    "problems_open",
    "problems_closed",
    "problems_overdue",
    "problems_rebound",
    "projects_supervised",
    "projects_sampled",
    "leads_open",
    "leads_closed",
    "leads_overdue",
]


def _count(model: type[Problem] | type[Project] | type[Lead], *conds: ColumnElement[bool]) -> ScalarSelect[int]:
    return (
        select(func.count(model.id))
        .where(model.campaign_id == R.campaign_id, model.department_id == R.department_id, *conds)
        .scalar_subquery()
    )


@cache
def _statements(dialect: str) -> tuple[Executable, Executable, Executable]:
    """The three statements below, built once per database (a tick runs them every day; building their
    dozen subqueries cost more than running them on a campaign of a few hundred assignments)."""
    has_work = or_(
        select(Problem.id).where(Problem.department_id == Department.id).exists(),
        select(Project.id).where(Project.department_id == Department.id).exists(),
        select(Lead.id).where(Lead.department_id == Department.id).exists(),
    )
    # a department with work but no assignments gets a total row of its own
    total_rows = insert_select_ignoring(
        dialect,
        cast(Table, R.__table__),
        [*ROLLUP_KEY, *ZERO_COLUMNS],
        select(Department.campaign_id, ON_DAY, Department.id, literal(""), *[literal(0) for _ in ZERO_COLUMNS]).where(
            Department.campaign_id == OF_CAMPAIGN, has_work
        ),
        ROLLUP_KEY,
    )
    mine = (R.campaign_id == OF_CAMPAIGN, R.as_of == ON_DAY)
    not_closed = Problem.status != ProblemStatus.closed.value
    problem_phase = or_(R.phase_key == "", Problem.phase_key == R.phase_key)
    problems = (
        update(R)
        .where(*mine)
        .values(
            problems_open=_count(Problem, problem_phase, not_closed),
            problems_closed=_count(Problem, problem_phase, Problem.status == ProblemStatus.closed.value),
            problems_overdue=_count(Problem, problem_phase, not_closed, Problem.deadline_on < ON_DAY),
            problems_rebound=_count(Problem, problem_phase, Problem.rebound.is_(True)),
        )
        .execution_options(synchronize_session=False)
    )
    lead_open = Lead.status != LeadStatus.closed.value
    projects_and_leads = (
        update(R)
        .where(*mine, R.phase_key == "")
        .values(
            projects_supervised=_count(Project),
            projects_sampled=_count(Project, Project.sampled.is_(True)),
            leads_open=_count(Lead, lead_open),
            leads_closed=_count(Lead, Lead.status == LeadStatus.closed.value),
            leads_overdue=_count(Lead, lead_open, and_(Lead.due_on.is_not(None), Lead.due_on < ON_DAY)),
        )
        .execution_options(synchronize_session=False)
    )
    return total_rows, problems, projects_and_leads


def add_work_counts(session: Session, campaign_code: str, as_of: dt.date) -> None:
    campaign = get_campaign(session, campaign_code)
    params = campaign_day(campaign.id, as_of)
    total_rows, problems, projects_and_leads = _statements(session.get_bind().dialect.name)
    run_counting_inserted(session, total_rows, params)
    session.execute(problems, params)
    session.execute(projects_and_leads, params)
    session.flush()
