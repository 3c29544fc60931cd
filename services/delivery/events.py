"""Owing a message for an event that concerns a person: the one entry every service calls.

`owe_event_message` writes one outbox row (idempotent on its natural key) carrying the message's
own text, the day of the event and what it is about. From there the message travels like the
tick's reminders: the tick puts it in the in-app inboxes (`services.delivery.in_app`), the deliver
flow plans e-mail and webhook digests (`services.delivery.planning`), and the inbox shows it in
the thread of its assignment (or of `thread_key`), checked against the records when it is shown
(`services.delivery.truth`). A new kind needs no code here or in the inbox: add it to
`domain.delivery.OutboxKind` and pass `chases=True` when the message asks for work that handing
the assignment in makes moot (a 催办, a 督办单); leave it False for a fact (a decision, a 批示).

The caller is a service inside its own unit of work; the audit entry of the event itself is the
caller's, this adds one `message.owe` entry for the consequence.

    owe_event_message(
        session, *, campaign_id, assignment_id=None | int, department_id, audience="department",
        kind=OutboxKind.returned, event_on=date, natural_key="evt:returned:12:3",
        subject="【退回】…", body="…", thread_key=None, chases=False, actor=actor, at=at,
    ) -> bool   # True: newly owed; False: that natural key was owed before

`assignment_event(...)` renders and owes the common case: a message about one assignment to its
department (退回, 审核通过, and the kinds other work adds).

`owe_set(...)` owes a whole set of messages in one INSERT … SELECT, with no text: the tick's reminders,
escalations, 签收提醒 and 督办单, whose text the delivery writes (services.delivery.planning). The caller
audits the set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, literal, select
from sqlalchemy.orm import Session

from domain.access import Actor
from domain.delivery import OutboxKind, OutboxState
from domain.spec import EscalationAudience
from notify import format_cn_date, render_event
from store import audit
from store.models import Assignment, Campaign, Department, Outbox, TaskTemplate
from store.sql import insert_ignoring, insert_ignoring_duplicates, table_of

NATURAL_KEY_MAX = 120


def owe_event_message(
    session: Session,
    *,
    campaign_id: int,
    assignment_id: int | None,
    department_id: int,
    audience: str = EscalationAudience.department.value,
    kind: str,
    event_on: dt.date,
    natural_key: str,
    subject: str,
    body: str,
    thread_key: str | None = None,
    chases: bool = False,
    actor: Actor,
    at: dt.datetime,
) -> bool:
    """Owe one message about an event (see the module's docstring); the caller commits.

    `audience` is a `domain.spec.EscalationAudience` value (department, department_head, office,
    leaders) for the department `department_id`. `event_on` is the day it happened (the message
    is dated so). Messages with the same `thread_key` (default: the assignment) show as one thread."""
    if len(natural_key) > NATURAL_KEY_MAX:
        raise ValueError(f"natural_key longer than {NATURAL_KEY_MAX}: {natural_key!r}")
    if assignment_id is None and not thread_key:
        raise ValueError("a message about no assignment needs a thread_key (what it is about)")
    values = {
        "campaign_id": campaign_id,
        "natural_key": natural_key,
        "kind": str(kind),
        "assignment_id": assignment_id,
        "department_id": department_id,
        "audience": str(audience),
        "level": 0,
        "created_on": event_on,
        "state": OutboxState.pending.value,
        "subject": subject[:300],
        "body": body,
        "thread_key": thread_key,
        "chases": chases,
    }
    stmt = insert_ignoring(session, Outbox, ["natural_key"]).values(**values)
    owed = session.scalar(stmt.returning(Outbox.id)) is not None
    if owed:
        audit.record(
            session,
            at=at,
            actor=actor,
            action="message.owe",
            entity="outbox",
            entity_key=natural_key,
            after={"kind": str(kind), "audience": str(audience), "event_on": event_on.isoformat()},
        )
    return owed


def assignment_title(template_title: str, period: str | None) -> str:
    return f"{template_title}（{period}）" if period else template_title


def assignment_event(
    session: Session,
    *,
    assignment_id: int,
    kind: OutboxKind | str,
    tag: str,
    event_on: dt.date,
    key_suffix: str,
    action: str,
    facts: Sequence[tuple[str, str]] = (),
    chases: bool = False,
    audience: str = EscalationAudience.department.value,
    actor: Actor,
    at: dt.datetime,
) -> bool:
    """Owe the department (or `audience`) of an assignment a message about it: subject
    "【tag】campaign：task", the task and its deadline among the facts. Natural key
    `evt:<kind>:<assignment>:<key_suffix>`."""
    a, title, period, campaign_title, dept_name = session.execute(
        select(Assignment, TaskTemplate.title, Assignment.period, Campaign.title, Department.name)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(Department, Department.id == Assignment.department_id)
        .where(Assignment.id == assignment_id)
    ).one()
    task = assignment_title(title, period)
    subject, body = render_event(
        tag,
        campaign_title=campaign_title,
        department_name=dept_name,
        subject_line=task,
        facts=[("任务", task), ("截止日期", format_cn_date(a.due_on, weekday=False)), *facts],
        action=action,
        event_on=event_on,
    )
    return owe_event_message(
        session,
        campaign_id=a.campaign_id,
        assignment_id=a.id,
        department_id=a.department_id,
        audience=audience,
        kind=kind,
        event_on=event_on,
        natural_key=f"evt:{kind}:{a.id}:{key_suffix}"[:NATURAL_KEY_MAX],
        subject=subject,
        body=body,
        chases=chases,
        actor=actor,
        at=at,
    )


def department_event(
    session: Session,
    *,
    department_id: int,
    kind: OutboxKind | str,
    tag: str,
    thread_key: str,
    subject_line: str,
    event_on: dt.date,
    natural_key: str,
    action: str,
    facts: Sequence[tuple[str, str]] = (),
    audience: str = EscalationAudience.department.value,
    actor: Actor,
    at: dt.datetime,
) -> bool:
    """Owe a department a message about something other than an assignment (a lead, a problem)."""
    dept_name, campaign_id, campaign_title = session.execute(
        select(Department.name, Campaign.id, Campaign.title)
        .join(Campaign, Campaign.id == Department.campaign_id)
        .where(Department.id == department_id)
    ).one()
    subject, body = render_event(
        tag,
        campaign_title=campaign_title,
        department_name=dept_name,
        subject_line=subject_line,
        facts=facts,
        action=action,
        event_on=event_on,
    )
    return owe_event_message(
        session,
        campaign_id=campaign_id,
        assignment_id=None,
        department_id=department_id,
        audience=audience,
        kind=kind,
        event_on=event_on,
        natural_key=natural_key,
        subject=subject,
        body=body,
        thread_key=thread_key,
        actor=actor,
        at=at,
    )


def owe_set(
    session: Session,
    *,
    natural_key: SQLColumnExpression[str],
    kind: str,
    campaign_id: SQLColumnExpression[int],
    assignment_id: SQLColumnExpression[int],
    department_id: SQLColumnExpression[int],
    level: SQLColumnExpression[int] | int,
    event_on: dt.date,
    chases: bool,
    where: ColumnElement[bool],
    audience: str = EscalationAudience.department.value,
) -> int:
    """Owe one message for each row `where` selects (the columns come from the table it selects from), once
    per natural key, as one statement; returns the messages newly owed. No text: the delivery writes it."""
    columns: dict[str, Any] = {
        "campaign_id": campaign_id,
        "natural_key": natural_key,
        "kind": literal(str(kind)),
        "assignment_id": assignment_id,
        "department_id": department_id,
        "audience": literal(str(audience)),
        "level": literal(level) if isinstance(level, int) else level,
        "created_on": literal(event_on),
        "state": literal(OutboxState.pending.value),
        "chases": literal(chases),
    }
    source = select(*columns.values()).where(where)
    return insert_ignoring_duplicates(session, table_of(Outbox), list(columns), source, ["natural_key"])
