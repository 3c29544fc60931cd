"""签收, 延期申请, 撤回 / 逾期原因 / prefill, 催办 and the office's 待办, as services: the right role
succeeds, the wrong role is refused (and the refusal audited), approval applies exactly once, and the
tick follows an extended deadline."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from domain.access import SYSTEM, Forbidden
from domain.assignment import Light
from domain.delivery import OutboxKind
from domain.errors import Conflict, Invalid
from domain.extension import ExtensionApprover
from services import submissions as sub
from services.campaigns import get_campaign, launch, stored_spec
from services.status import extended_deadlines
from services.submissions import Upload
from services.supervision import acknowledge, extensions, todo, urging
from services.supervision.lights import Lights
from services.views import boards
from store.models import Assignment, AuditEntry, Department, Escalation, ExtensionRequest, Outbox, Urge
from tests.conftest import run_tick

UTC = dt.UTC
AT = dt.datetime(2020, 6, 2, 2, tzinfo=UTC)  # 10:00 Beijing, the day after the launched campaign's tick
PDF = b"%PDF-1.4\n% test\n" + b"x" * 50


def _task(uow, actor, code, key, dept="zjj"):
    rows = sub.list_assignments(uow.session, actor=actor, campaign_code=code, department_code=dept)
    return next(r for r in rows if r.template_key == key)


def _refused(uow, action):
    return list(
        uow.session.scalars(select(AuditEntry).where(AuditEntry.outcome == "refused", AuditEntry.action == action))
    )


# --- 签收 ---------------------------------------------------------------------------------------


def test_sign_one_and_many_once_each(uow_factory, launched_campaign, actors):
    code, dept = launched_campaign.code, actors["dept_zjj"]
    with uow_factory() as uow:
        a = _task(uow, dept, code, "self_check_report")
        b = _task(uow, dept, code, "self_check_ledger")
        signed = acknowledge.sign(uow.session, actor=dept, at=AT, assignment_ids=[a.id, b.id])
        uow.commit()
    assert [s.already for s in signed] == [False, False] and {s.acknowledged_by for s in signed} == {"dept_zjj"}
    later = AT + dt.timedelta(hours=3)
    with uow_factory() as uow:
        again = acknowledge.sign(uow.session, actor=dept, at=later, assignment_ids=[a.id])
        uow.commit()
        dto = sub.get_assignment(uow.session, actor=dept, assignment_id=a.id)[0]
    assert again[0].already and dto.acknowledged_at == AT and dto.acknowledged_by == "dept_zjj"
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).where(AuditEntry.action == "assignment.sign")) == 2


@pytest.mark.parametrize("who", ["office", "leader", "dept_jyj"])
def test_only_the_department_signs(uow_factory, launched_campaign, actors, who):
    with uow_factory() as uow:
        a = _task(uow, actors["office"], launched_campaign.code, "self_check_report")
    with pytest.raises(Forbidden), uow_factory() as uow:
        acknowledge.sign(uow.session, actor=actors[who], at=AT, assignment_ids=[a.id])
    with uow_factory() as uow:
        assert [e.actor for e in _refused(uow, "assignment.sign")] == [who]
        assert uow.session.get(Assignment, a.id).acknowledged_at is None


def test_a_scheduled_assignment_cannot_be_signed(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        later = _task(uow, actors["dept_zjj"], launched_campaign.code, "ledger_after_check")
    with pytest.raises(Invalid, match="尚未开始"), uow_factory() as uow:
        acknowledge.sign(uow.session, actor=actors["dept_zjj"], at=AT, assignment_ids=[later.id])


def test_unsigned_assignments_are_reminded_once_and_counted(engine, uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    spec = launched_campaign.spec.model_copy(update={"acknowledge_within_working_days": 2})
    with uow_factory() as uow:
        launch(uow.session, spec, actor=SYSTEM, at=AT, source_path="changed.yaml")
        uow.commit()
    with uow_factory() as uow:
        signed = _task(uow, actors["dept_zjj"], code, "self_check_report")
        acknowledge.sign(uow.session, actor=actors["dept_zjj"], at=AT, assignment_ids=[signed.id])
        uow.commit()
    run_tick(engine, code, dt.date(2020, 6, 4))  # opened 1 June: the 2 working days end on 3 June
    run_tick(engine, code, dt.date(2020, 6, 4))  # a re-tick owes nothing twice
    run_tick(engine, code, dt.date(2020, 6, 5))
    with uow_factory() as uow:
        s = uow.session
        campaign = get_campaign(s, code)
        reminded = list(s.scalars(select(Outbox.assignment_id).where(Outbox.kind == OutboxKind.acknowledge.value)))
        opened_june_1 = set(
            s.scalars(
                select(Assignment.id).where(
                    Assignment.campaign_id == campaign.id,
                    Assignment.opens_on == dt.date(2020, 6, 1),
                    Assignment.status == "open",
                )
            )
        )
        assert len(reminded) == len(set(reminded)) and signed.id not in reminded
        assert opened_june_1 - {signed.id} <= set(reminded)
        late = acknowledge.unsigned_late(s, campaign.id, dt.date(2020, 6, 5))
        zjj = next(d for d in campaign_departments(s, campaign.id) if d[1] == "zjj")[0]
        unsigned_zjj = s.scalar(
            select(func.count()).where(
                Assignment.campaign_id == campaign.id,
                Assignment.department_id == zjj,
                Assignment.status.in_(acknowledge.SIGNABLE),
                Assignment.acknowledged_at.is_(None),
                Assignment.opens_on <= dt.date(2020, 6, 2),
            )
        )
        assert late[zjj] == unsigned_zjj
        # reproducible for a past day: on 3 June nothing was late yet
        assert acknowledge.unsigned_late(s, campaign.id, dt.date(2020, 6, 3)).get(zjj, 0) < late[zjj]
        assert stored_spec(campaign).acknowledge_within_working_days == 2


def campaign_departments(session, campaign_id):
    return list(session.execute(select(Department.id, Department.code).where(Department.campaign_id == campaign_id)))


# --- 延期申请 -------------------------------------------------------------------------------------


def _request(uow_factory, actors, code, until=dt.date(2020, 6, 30), key="self_check_report", who="dept_zjj"):
    with uow_factory() as uow:
        a = _task(uow, actors[who], code, key, dept=who.removeprefix("dept_"))
        r = extensions.request_extension(
            uow.session,
            actor=actors[who],
            at=AT,
            assignment_id=a.id,
            until=until,
            reason="涉及项目多，需延长核查时间",
            attachments=[Upload("说明.pdf", "application/pdf", PDF)],
        )
        uow.commit()
    return a, r


def test_extension_approved_moves_the_deadline_once(engine, uow_factory, launched_campaign, actors, attachment_dir):
    code = launched_campaign.code
    a, r = _request(uow_factory, actors, code)
    assert r.state == "pending" and r.due_before == dt.date(2020, 6, 22) and r.attachments[0].filename == "说明.pdf"
    with uow_factory() as uow:
        pending = extensions.list_extensions(uow.session, actor=actors["office"], campaign_code=code, state="pending")
        assert [p.id for p in pending] == [r.id]
        queue = todo.office_todo(uow.session, actor=actors["office"], campaign_code=code)
        assert [e.id for e in queue.extensions] == [r.id] and queue.counts["延期申请"] == 1
    with uow_factory() as uow:
        done = extensions.decide_extension(
            uow.session,
            actor=actors["office"],
            at=AT,
            request_id=r.id,
            approve=True,
            until=dt.date(2020, 6, 29),  # shorter than asked
            reason="同意延期至 6 月 29 日",
        )
        uow.commit()
    assert done.state == "approved" and done.approved_until == dt.date(2020, 6, 29)
    with uow_factory() as uow:
        dto = sub.get_assignment(uow.session, actor=actors["dept_zjj"], assignment_id=a.id)[0]
        assert dto.due_on == dt.date(2020, 6, 29) and dto.original_due_on == dt.date(2020, 6, 22)
        [moved] = extended_deadlines(uow.session, code)  # `campaign status` lists it with both dates
        assert (moved.original_due_on, moved.due_on) == (dt.date(2020, 6, 22), dt.date(2020, 6, 29))
        drill = boards.department_assignments(  # the drill-down table a leader exports (原定期限 column)
            uow.session, actor=actors["leader"], campaign_code=code, department_code="zjj", at=AT
        ).set_index("id")
        assert str(drill.loc[a.id, "original_due_on"])[:10] == "2020-06-22"
        assert str(drill.loc[a.id, "due_on"])[:10] == "2020-06-29"
        messages = list(uow.session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.extension_decided.value)))
        assert len(messages) == 1 and "已批准" in (messages[0].subject or "") + (messages[0].body or "")
    # deciding again is refused: the approval is never applied twice
    with pytest.raises(Conflict, match="已被处理"), uow_factory() as uow:
        extensions.decide_extension(
            uow.session, actor=actors["office"], at=AT, request_id=r.id, approve=True, reason="再批一次"
        )
    with uow_factory() as uow:
        dto = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[0]
        assert dto.due_on == dt.date(2020, 6, 29) and dto.original_due_on == dt.date(2020, 6, 22)
        assert len(_refused(uow, "extension.decide")) == 1


def test_extension_rejected_leaves_the_deadline(uow_factory, launched_campaign, actors):
    a, r = _request(uow_factory, actors, launched_campaign.code)
    with uow_factory() as uow:
        done = extensions.decide_extension(
            uow.session, actor=actors["office"], at=AT, request_id=r.id, approve=False, reason="理由不充分"
        )
        uow.commit()
        dto = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[0]
    assert done.state == "rejected" and done.decision_reason == "理由不充分"
    assert dto.due_on == dt.date(2020, 6, 22) and dto.original_due_on is None


@pytest.mark.parametrize("who", ["office", "leader", "dept_jyj"])
def test_only_the_department_requests(uow_factory, launched_campaign, actors, who):
    with uow_factory() as uow:
        a = _task(uow, actors["office"], launched_campaign.code, "self_check_report")
    with pytest.raises(Forbidden), uow_factory() as uow:
        extensions.request_extension(
            uow.session, actor=actors[who], at=AT, assignment_id=a.id, until=dt.date(2020, 6, 30), reason="x"
        )
    with uow_factory() as uow:
        assert [e.actor for e in _refused(uow, "extension.request")] == [who]


@pytest.mark.parametrize("who", ["leader", "dept_zjj", "dept_jyj"])
def test_only_the_approver_decides(uow_factory, launched_campaign, actors, who):
    _a, r = _request(uow_factory, actors, launched_campaign.code)
    with pytest.raises(Forbidden), uow_factory() as uow:
        extensions.decide_extension(uow.session, actor=actors[who], at=AT, request_id=r.id, approve=True, reason="同意")
    with uow_factory() as uow:
        assert [e.actor for e in _refused(uow, "extension.decide")] == [who]
        assert uow.session.get(ExtensionRequest, r.id).state == "pending"


def test_leaders_decide_when_the_yaml_says_so(uow_factory, launched_campaign, actors):
    spec = launched_campaign.spec
    leaders_decide = spec.extensions.model_copy(update={"approver": ExtensionApprover.leaders})
    changed = spec.model_copy(update={"extensions": leaders_decide})
    with uow_factory() as uow:
        launch(uow.session, changed, actor=SYSTEM, at=AT, source_path="changed.yaml")
        uow.commit()
    _a, r = _request(uow_factory, actors, launched_campaign.code)
    with pytest.raises(Forbidden, match="领导"), uow_factory() as uow:
        extensions.decide_extension(
            uow.session, actor=actors["office"], at=AT, request_id=r.id, approve=True, reason="同意"
        )
    with uow_factory() as uow:
        done = extensions.decide_extension(
            uow.session, actor=actors["leader"], at=AT, request_id=r.id, approve=True, reason="同意"
        )
        uow.commit()
    assert done.state == "approved" and done.decided_by == "leader"


def test_policy_limits_are_refused_with_a_message(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with pytest.raises(Invalid, match="最多 20 个工作日"), uow_factory() as uow:  # the YAML's default limit
        a = _task(uow, actors["dept_zjj"], code, "self_check_report")
        extensions.request_extension(
            uow.session, actor=actors["dept_zjj"], at=AT, assignment_id=a.id, until=dt.date(2020, 8, 31), reason="x"
        )
    with pytest.raises(Invalid, match="应晚于"), uow_factory() as uow:
        extensions.request_extension(
            uow.session, actor=actors["dept_zjj"], at=AT, assignment_id=a.id, until=dt.date(2020, 6, 22), reason="x"
        )
    _request(uow_factory, actors, code)
    with pytest.raises(Invalid, match="待审批"), uow_factory() as uow:
        extensions.request_extension(
            uow.session, actor=actors["dept_zjj"], at=AT, assignment_id=a.id, until=dt.date(2020, 6, 24), reason="x"
        )
    with uow_factory() as uow:
        assert len(_refused(uow, "extension.request")) == 3


def test_max_requests_per_assignment(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    for until in (dt.date(2020, 6, 24), dt.date(2020, 6, 29)):
        _a, r = _request(uow_factory, actors, code, until=until)
        with uow_factory() as uow:
            extensions.decide_extension(
                uow.session, actor=actors["office"], at=AT, request_id=r.id, approve=True, reason="同意"
            )
            uow.commit()
    with pytest.raises(Invalid, match="最多申请延期 2 次"), uow_factory() as uow:
        _request(uow_factory, actors, code, until=dt.date(2020, 7, 1))


def test_two_deciders_at_once_one_wins(engine, uow_factory, launched_campaign, actors):
    a, r = _request(uow_factory, actors, launched_campaign.code)
    both_loaded = threading.Barrier(2, timeout=20)
    results: dict[str, object] = {}

    def decide(name: str) -> None:
        try:
            with uow_factory() as uow:
                extensions.list_extensions(uow.session, actor=actors["office"], campaign_code=launched_campaign.code)
                both_loaded.wait()
                extensions.decide_extension(
                    uow.session,
                    actor=actors["office"],
                    at=AT,
                    request_id=r.id,
                    approve=name == "approve",
                    reason=name,
                )
                uow.commit()
                results[name] = "won"
        except Exception as exc:
            results[name] = exc

    threads = [threading.Thread(target=decide, args=(n,)) for n in ("approve", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    outcomes = sorted(type(x).__name__ if not isinstance(x, str) else x for x in results.values())
    assert outcomes == ["Conflict", "won"], results
    with uow_factory() as uow:
        state = uow.session.get(ExtensionRequest, r.id).state
        due = uow.session.get(Assignment, a.id).due_on
    assert state == ("approved" if results["approve"] == "won" else "rejected")
    assert due == (dt.date(2020, 6, 30) if state == "approved" else dt.date(2020, 6, 22))


def test_retick_after_extension_follows_the_new_deadline(engine, uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    run_tick(engine, code, dt.date(2020, 6, 29))  # self_check_report (22 June) 4 working days overdue: 预警 reached
    with uow_factory() as uow:
        a = _task(uow, actors["dept_zjj"], code, "self_check_report")
        assert a.overdue_days == 4 and a.escalation_level >= 1
        r = extensions.request_extension(
            uow.session,
            actor=actors["dept_zjj"],
            at=dt.datetime(2020, 6, 29, 2, tzinfo=UTC),
            assignment_id=a.id,
            until=dt.date(2020, 7, 3),
            reason="补充核查",
        )
        extensions.decide_extension(
            uow.session,
            actor=actors["office"],
            at=dt.datetime(2020, 6, 29, 3, tzinfo=UTC),
            request_id=r.id,
            approve=True,
            reason="同意",
        )
        uow.commit()
    run_tick(engine, code, dt.date(2020, 6, 29))  # the same day again: recomputed from the new deadline
    with uow_factory() as uow:
        a2 = _task(uow, actors["dept_zjj"], code, "self_check_report")
        history = list(uow.session.scalars(select(Escalation.level).where(Escalation.assignment_id == a.id)))
        spec = stored_spec(get_campaign(uow.session, code))
    assert a2.overdue_days == 0 and a2.due_on == dt.date(2020, 7, 3)
    assert history and min(history) == 1  # rungs reached stay in the history
    assert Lights(spec, dt.date(2020, 6, 26)).of(a.status, a.due_on) == Light.red  # before: overdue
    assert Lights(spec, dt.date(2020, 6, 29)).of(a2.status, a2.due_on) == Light.green  # 4 working days left
    assert Lights(spec, dt.date(2020, 7, 1)).of(a2.status, a2.due_on) == Light.yellow  # within the default 3
    run_tick(engine, code, dt.date(2020, 7, 7))
    with uow_factory() as uow:
        a3 = _task(uow, actors["dept_zjj"], code, "self_check_report")
    assert a3.overdue_days == 2  # 6 and 7 July after the new deadline of 3 July


# --- 撤回, 逾期原因, prefill ----------------------------------------------------------------------


def test_withdraw_a_pending_submission(uow_factory, launched_campaign, actors):
    code, dept = launched_campaign.code, actors["dept_zjj"]
    with uow_factory() as uow:
        a = _task(uow, dept, code, "self_check_report")
        sub.submit(uow.session, actor=dept, at=AT, assignment_id=a.id, text="初稿")
        uow.commit()
    with pytest.raises(Forbidden), uow_factory() as uow:
        sub.withdraw(uow.session, actor=actors["dept_jyj"], at=AT, assignment_id=a.id)
    with pytest.raises(Forbidden), uow_factory() as uow:
        sub.withdraw(uow.session, actor=actors["office"], at=AT, assignment_id=a.id)
    with uow_factory() as uow:
        back = sub.withdraw(uow.session, actor=dept, at=AT, assignment_id=a.id)
        uow.commit()
        history = sub.get_assignment(uow.session, actor=dept, assignment_id=a.id)[1]
        assert [e.actor for e in _refused(uow, "submission.withdraw")] == ["dept_jyj", "office"]
    assert back.status == "open" and history[-1].state == "withdrawn"
    with pytest.raises(Invalid, match="没有待审核的报送"), uow_factory() as uow:
        sub.withdraw(uow.session, actor=dept, at=AT, assignment_id=a.id)
    with uow_factory() as uow:  # handed in again, reviewed: no longer withdrawable
        sub.submit(uow.session, actor=dept, at=AT, assignment_id=a.id, text="正式稿")
        v = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[0].version
        sub.accept(uow.session, actor=actors["office"], at=AT, assignment_id=a.id, expected_version=v)
        uow.commit()
    with pytest.raises(Invalid), uow_factory() as uow:
        sub.withdraw(uow.session, actor=dept, at=AT, assignment_id=a.id)


def test_late_submission_needs_a_reason_and_shows_it(uow_factory, launched_campaign, actors):
    code, dept = launched_campaign.code, actors["dept_zjj"]
    late = dt.datetime(2020, 6, 24, 2, tzinfo=UTC)
    with uow_factory() as uow:
        a = _task(uow, dept, code, "self_check_report")
    with pytest.raises(Invalid, match="逾期原因"), uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=late, assignment_id=a.id, text="迟交")
    with uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=late, assignment_id=a.id, text="迟交", late_reason="核查对象增多")
        uow.commit()
        history = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[1]
        # handing in also signs for it
        assert sub.get_assignment(uow.session, actor=dept, assignment_id=a.id)[0].acknowledged_by == "dept_zjj"
    assert history[-1].late_reason == "核查对象增多"


def test_returned_form_starts_from_the_previous_submission(uow_factory, launched_campaign, actors, attachment_dir):
    code, dept = launched_campaign.code, actors["dept_zjj"]
    with uow_factory() as uow:
        a = _task(uow, dept, code, "self_check_report")
        first = sub.submit(
            uow.session,
            actor=dept,
            at=AT,
            assignment_id=a.id,
            text="自查报告初稿",
            attachments=[Upload("报告.pdf", "application/pdf", PDF)],
            attachment_dir=attachment_dir,
        )
        v = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[0].version
        sub.return_submission(
            uow.session, actor=actors["office"], at=AT, assignment_id=a.id, expected_version=v, reason="补充"
        )
        uow.commit()
    with uow_factory() as uow:
        draft = sub.previous_draft(uow.session, actor=dept, assignment_id=a.id)
        assert (
            draft is not None
            and draft.text == "自查报告初稿"
            and [f.filename for f in draft.attachments] == ["报告.pdf"]
        )
        again = sub.submit(
            uow.session,
            actor=dept,
            at=AT,
            assignment_id=a.id,
            text=draft.text + "（已补充）",
            carry_attachment_ids=[f.id for f in draft.attachments],
        )
        uow.commit()
    assert [f.sha256 for f in again.attachments] == [first.attachments[0].sha256]
    with uow_factory() as uow:
        _f, data = sub.read_attachment(
            uow.session, actor=actors["office"], attachment_id=again.attachments[0].id, attachment_dir=attachment_dir
        )
    assert data == PDF
    with pytest.raises(Invalid, match="不属于"), uow_factory() as uow:
        b = _task(uow, dept, code, "self_check_ledger")
        sub.submit(uow.session, actor=dept, at=AT, assignment_id=b.id, carry_attachment_ids=[again.attachments[0].id])


# --- 催办 ---------------------------------------------------------------------------------------


def test_urge_one_department_all_and_no_duplicates(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with uow_factory() as uow:
        overdue = sub.list_assignments(uow.session, actor=actors["office"], campaign_code=code, overdue_only=True)
        one = next(a for a in overdue if a.department_code == "zjj")
        r1 = urging.urge(
            uow.session, actor=actors["office"], at=AT, campaign_code=code, assignment_id=one.id, message="请本周内报送"
        )
        r1b = urging.urge(
            uow.session, actor=actors["office"], at=AT, campaign_code=code, assignment_id=one.id, message="请本周内报送"
        )  # a double click: the same command
        uow.commit()
    assert r1.urged == [one.id] and r1b.urged == [] and r1b.already == [one.id]
    with uow_factory() as uow:
        r2 = urging.urge(uow.session, actor=actors["leader"], at=AT, campaign_code=code, department_code="zjj")
        r3 = urging.urge(
            uow.session, actor=actors["leader"], at=AT + dt.timedelta(minutes=5), campaign_code=code, all_overdue=True
        )
        uow.commit()
    assert set(r2.urged) == {a.id for a in overdue if a.department_code == "zjj"}
    assert set(r3.urged) == {a.id for a in overdue}
    with uow_factory() as uow:
        s = uow.session
        campaign = get_campaign(s, code)
        counts = urging.urge_counts(s, campaign.id)
        assert counts[one.id] == 3
        mine = urging.list_urges(s, actor=actors["dept_zjj"], campaign_code=code)
        assert {u.department_code for u in mine} == {"zjj"} and any(u.message == "请本周内报送" for u in mine)
        assert s.scalar(select(func.count()).select_from(Urge)) == s.scalar(
            select(func.count()).where(Outbox.kind == OutboxKind.urged.value)
        )


@pytest.mark.parametrize("who", ["dept_zjj", "dept_jyj"])
def test_departments_cannot_urge(uow_factory, launched_campaign, actors, who):
    with pytest.raises(Forbidden), uow_factory() as uow:
        urging.urge(uow.session, actor=actors[who], at=AT, campaign_code=launched_campaign.code, all_overdue=True)
    with pytest.raises(Forbidden), uow_factory() as uow:
        urging.list_urges(
            uow.session, actor=actors["dept_jyj"], campaign_code=launched_campaign.code, department_code="zjj"
        )
    with uow_factory() as uow:
        assert [e.actor for e in _refused(uow, "assignment.urge")] == [who]


def test_urge_needs_exactly_one_target(uow_factory, launched_campaign, actors):
    with pytest.raises(Invalid, match="三者选一"), uow_factory() as uow:
        urging.urge(uow.session, actor=actors["office"], at=AT, campaign_code=launched_campaign.code)


# --- the office's 待办 ----------------------------------------------------------------------------


def test_office_todo_is_the_offices_only(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with uow_factory() as uow:
        a = _task(uow, actors["dept_zjj"], code, "self_check_report")
        sub.submit(uow.session, actor=actors["dept_zjj"], at=AT, assignment_id=a.id, text="自查")
        b = _task(uow, actors["dept_jyj"], code, "self_check_report", dept="jyj")
        sub.submit(
            uow.session, actor=actors["dept_jyj"], at=AT - dt.timedelta(hours=1), assignment_id=b.id, text="自查"
        )
        uow.commit()
    with uow_factory() as uow:
        t = todo.office_todo(uow.session, actor=actors["office"], campaign_code=code)
        assert [x.id for x in t.submissions] == [b.id, a.id]  # oldest first
        assert t.own_tasks and {x.department_code for x in t.own_tasks} == {launched_campaign.spec.office}
        done = todo.accept_many(
            uow.session, actor=actors["office"], at=AT, items=[(x.id, x.version) for x in t.submissions], note="同意"
        )
        uow.commit()
    assert [d.status for d in done] == ["accepted", "accepted"]
    for who in ("leader", "dept_zjj"):
        with pytest.raises(Forbidden), uow_factory() as uow:
            todo.office_todo(uow.session, actor=actors[who], campaign_code=code)


def test_an_approved_extension_survives_applying_the_yaml_again(uow_factory, launched_campaign, actors):
    a, r = _request(uow_factory, actors, launched_campaign.code)
    with uow_factory() as uow:
        extensions.decide_extension(
            uow.session, actor=actors["office"], at=AT, request_id=r.id, approve=True, reason="同意"
        )
        uow.commit()
    with uow_factory() as uow:  # the office applies the (unchanged) YAML again
        report = launch(uow.session, launched_campaign.spec, actor=SYSTEM, at=AT, source_path="again.yaml")
        uow.commit()
    assert not report.deadlines_moved
    with uow_factory() as uow:
        row = uow.session.get(Assignment, a.id)
        assert (row.due_on, row.original_due_on) == (dt.date(2020, 6, 30), dt.date(2020, 6, 22))
