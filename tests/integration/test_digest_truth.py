"""E-mail and webhook digests are checked against the records when their turn to be sent comes (issue 12, "messages
are true when read"), through a real SMTP receiver on loopback (aiosmtpd, the fixtures of
test_delivery.py), on SQLite and on PostgreSQL.

A digest planned on 2020-06-22 lists reminders, overdue notices and escalations. When the work they chase
is handed in (submitted, or submitted and accepted) before the digest goes out — the mail server was down,
a tick ran in between — those items are left out of the message; a digest with nothing true left is not
sent at all (`obsolete`, audited), while messages that state a fact (a 督办单) still go out.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import Engine, select

from domain.access import Actor, Role
from domain.delivery import CHASING_KINDS, DeliveryState
from services import submissions
from store.models import Assignment, Campaign, Department, Outbox, User
from store.uow import UnitOfWork
from tests.conftest import run_tick
from tests.integration.test_delivery import (  # noqa: F401 - fixtures used by name
    AT,
    CODE,
    DAY,
    OFFICE,
    Http,
    Mailbox,
    audited,
    db_url,
    deliveries,
    http,
    plan,
    send,
    settings_for,
    smtp,
)
from tests.machine import free_port

pytestmark = pytest.mark.usefixtures("clean_campaign_env")
HANDED_IN_AT = AT + dt.timedelta(hours=2)  # the same morning, after the digests were planned
ZJJ_BOX = "zjj@yanjiang.example.gov.cn"
LEADER_BOX = "zhao@yanjiang.example.gov.cn"


def _chased(url: str, department: str) -> list[int]:
    """The assignments of `department` the planned push messages chase (reminders, overdue, escalations)."""
    with UnitOfWork(url) as uow:
        return sorted(
            set(
                uow.session.scalars(
                    select(Outbox.assignment_id)
                    .join(Department, Department.id == Outbox.department_id)
                    .where(Department.code == department, Outbox.kind.in_(sorted(CHASING_KINDS)))
                )
            )
        )


def _liaison(url: str, department: str) -> Actor:
    """A department account to hand its work in (test_delivery's campaign has them for zjj and jyj only)."""
    username = f"liaison-{department}"
    with UnitOfWork(url) as uow:
        if uow.session.scalar(select(User.id).where(User.username == username)) is None:
            uow.session.add(
                User(
                    username=username,
                    display_name=f"{department}联络员",
                    role="department",
                    department_code=department,
                    campaign_code=CODE,
                    password_hash="x",
                    created_at=AT,
                )
            )
            uow.commit()
    return Actor(username, Role.department, department, f"{department}联络员")


def _hand_in(url: str, department: str, assignment_ids: list[int], *, accept: bool = False) -> None:
    actor = _liaison(url, department)
    with UnitOfWork(url) as uow:
        for assignment_id in assignment_ids:
            submissions.submit(
                uow.session,
                actor=actor,
                at=HANDED_IN_AT,
                assignment_id=assignment_id,
                text="已按要求完成",
                late_reason="前期材料收集耗时较长",
            )
            if accept:
                a, _history = submissions.get_assignment(uow.session, actor=OFFICE, assignment_id=assignment_id)
                if a.status == "submitted":
                    submissions.accept(
                        uow.session, actor=OFFICE, at=HANDED_IN_AT, assignment_id=a.id, expected_version=a.version
                    )
        uow.commit()


def _items(body: str) -> list[str]:
    """The subjects of a digest's items (render_digest: '#### n. subject')."""
    return re.findall(r"^#### \d+\. (.+)$", body, flags=re.M)


def _text(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def _received(box: Mailbox) -> dict[str, object]:
    return {rcpts[0].lower(): msg for rcpts, msg in box.messages}


def _status(url: str, assignment_id: int) -> str:
    with UnitOfWork(url) as uow:
        return uow.session.scalar(select(Assignment.status).where(Assignment.id == assignment_id)) or ""


def test_items_about_work_handed_in_since_are_left_out_of_the_digest(db_url, smtp, http: Http):  # noqa: F811
    box, port = smtp
    settings = settings_for(port, http)
    plan(db_url, settings)
    [planned] = [d for d in deliveries(db_url, "email") if d.target == ZJJ_BOX]
    group_items = {d.target: len(json.loads(d.outbox_keys)) for d in deliveries(db_url, "webhook")}
    assert any(s.startswith(("【逾期】", "【提醒】")) for s in _items(planned.body))  # chases zjj's work

    # zjj hands in everything the messages chase; one item is accepted too.
    chased = _chased(db_url, "zjj")
    _hand_in(db_url, "zjj", chased[:1], accept=True)
    _hand_in(db_url, "zjj", chased[1:])
    assert _status(db_url, chased[0]) == "accepted" and {_status(db_url, i) for i in chased[1:]} == {"submitted"}

    report = send(db_url, "email", settings, HANDED_IN_AT + dt.timedelta(minutes=5))
    assert report.failed == report.gave_up == 0
    received = _received(box)

    # zjj's own digest still goes out, for the 督办单 it was issued (a fact), and for nothing else.
    zjj = received[ZJJ_BOX]
    items = _items(_text(zjj))
    assert items and all("督办单】" in s.split("：")[0] for s in items), items
    assert zjj["Subject"].endswith(f"待办提醒{len(items)}条")
    # The office and the leader read the other departments' work, not zjj's handed-in tasks.
    for box_address in ("fgj@yanjiang.example.gov.cn", LEADER_BOX):
        body = _text(received[box_address])
        assert "区住建局" not in body and _items(body), box_address
    # What was sent is what the row holds, and the check is on the audit chain.
    [sent] = [d for d in deliveries(db_url, "email") if d.target == ZJJ_BOX]
    assert sent.state == DeliveryState.sent and _items(sent.body) == items
    assert len(json.loads(sent.outbox_keys)) == len(items)
    rechecked = {e.entity_key: json.loads(e.after_json or "{}") for e in audited(db_url, "delivery.recheck")}
    assert str(sent.id) in rechecked and rechecked[str(sent.id)]["left"] == len(items)

    # The groups' webhook digests leave the same items out, and still greet the group.
    assert send(db_url, "webhook", settings, dt.datetime.now(dt.UTC)).sent == len(group_items)
    [generic] = http.to("/json")
    body = generic["json"]["body_markdown"]
    [row] = [d for d in deliveries(db_url, "webhook") if d.target == "json"]
    left = len(json.loads(row.outbox_keys))
    assert len(_items(body)) == left < group_items["json"] and "各位同事，您好" in body


def test_a_digest_with_nothing_true_left_is_not_sent_even_after_a_failed_try_and_a_tick(
    engine: Engine,
    db_url,  # noqa: F811
    smtp,  # noqa: F811
):
    box, port = smtp
    down = settings_for(free_port(), None)  # nothing listens there: the first try fails, to be retried
    plan(db_url, down)
    first = send(db_url, "email", down)
    assert first.sent == 0 and first.failed > 0
    [leader] = [d for d in deliveries(db_url, "email") if d.target == LEADER_BOX]
    assert leader.state == DeliveryState.failed
    escalated = json.loads(leader.outbox_keys)  # 通报批评 / 约谈 of every department's overdue task

    # Every department hands in the overdue task the leader was told about; a tick runs meanwhile.
    with UnitOfWork(db_url) as uow:
        told = uow.session.execute(
            select(Department.code, Outbox.assignment_id)
            .join(Department, Department.id == Outbox.department_id)
            .where(Outbox.natural_key.in_(escalated))
        ).all()
    for department in sorted({d for d, _ in told}):
        _hand_in(db_url, department, sorted({a for d, a in told if d == department}))
    with UnitOfWork(db_url) as uow:
        assert uow.session.scalar(select(Campaign.last_tick_on)) == DAY
    run_tick(engine, CODE, DAY + dt.timedelta(days=1))  # the digest was queued before this tick

    retry_at = HANDED_IN_AT + dt.timedelta(days=1)
    report = send(db_url, "email", settings_for(port, None), retry_at)
    assert report.obsolete == 1 and report.failed == report.gave_up == 0
    assert LEADER_BOX not in _received(box)  # nobody tells the leader of overdue work handed in
    assert ZJJ_BOX in _received(box)  # the others still go out (their 督办单 are facts)

    [leader] = [d for d in deliveries(db_url, "email") if d.target == LEADER_BOX]
    assert leader.state == DeliveryState.obsolete and leader.sent_at is None and leader.obsolete_at is not None
    [entry] = [e for e in audited(db_url, "delivery.obsolete") if e.entity_key == str(leader.id)]
    assert json.loads(entry.after_json or "{}")["state"] == DeliveryState.obsolete
    # A later run sends it no more than this one did.
    assert send(db_url, "email", settings_for(port, None), retry_at + dt.timedelta(hours=1)).sent == 0
    assert LEADER_BOX not in _received(box)
