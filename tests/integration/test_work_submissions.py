"""Submissions and review: accept / return / resubmit, on time vs late, uploads, two reviewers at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from domain.access import Forbidden
from domain.errors import Conflict, Invalid
from services import submissions as sub
from services.submissions import Upload
from store.models import AuditEntry

UTC = dt.UTC
PDF = b"%PDF-1.4\n% test\n" + b"x" * 100


def _find(uow, actor, code, template_key, dept="zjj"):
    rows = sub.list_assignments(uow.session, actor=actor, campaign_code=code, department_code=dept)
    return next(r for r in rows if r.template_key == template_key)


def _refusals(uow, action=None):
    q = select(AuditEntry).where(AuditEntry.outcome == "refused")
    if action:
        q = q.where(AuditEntry.action == action)
    return list(uow.session.scalars(q))


def test_submit_accept_on_time(uow_factory, launched_campaign, actors, attachment_dir):
    code = launched_campaign.code
    at = dt.datetime(2020, 6, 22, 15, 30, tzinfo=UTC)  # 23:30 on the due day in Beijing: still on time
    with uow_factory() as uow:
        a = _find(uow, actors["dept_zjj"], code, "self_check_report")
        s = sub.submit(
            uow.session,
            actor=actors["dept_zjj"],
            at=at,
            assignment_id=a.id,
            text="自查报告",
            rows=[{"项目": "A", "问题": 1}],
            attachments=[Upload("../../报告.pdf", "application/pdf", PDF)],
            attachment_dir=attachment_dir,
        )
        uow.commit()
    assert s.seq == 1 and s.state == "pending" and s.rows == [{"项目": "A", "问题": 1}]
    assert s.attachments[0].filename == "报告.pdf" and s.attachments[0].size == len(PDF)
    assert (attachment_dir / s.attachments[0].sha256[:2] / s.attachments[0].sha256).read_bytes() == PDF
    with uow_factory() as uow:
        queue = sub.review_queue(uow.session, actor=actors["office"], campaign_code=code)
        assert [q.id for q in queue] == [a.id]
        done = sub.accept(
            uow.session,
            actor=actors["office"],
            at=at + dt.timedelta(days=2),
            assignment_id=a.id,
            expected_version=queue[0].version,
        )
        uow.commit()
    assert done.status == "accepted" and done.on_time is True and done.accepted_at is not None
    with uow_factory() as uow:
        dto, history = sub.get_assignment(uow.session, actor=actors["leader"], assignment_id=a.id)
        assert dto.status == "accepted" and history[0].state == "accepted" and history[0].reviewed_by == "office"


def test_late_submission_is_late(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    at = dt.datetime(2020, 6, 22, 16, 30, tzinfo=UTC)  # 00:30 on 23 June in Beijing: one day late
    with uow_factory() as uow:
        a = _find(uow, actors["dept_jyj"], code, "self_check_report", dept="jyj")
        sub.submit(
            uow.session, actor=actors["dept_jyj"], at=at, assignment_id=a.id, text="迟交", late_reason="人员调整"
        )
        v = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[0].version
        done = sub.accept(uow.session, actor=actors["office"], at=at, assignment_id=a.id, expected_version=v)
        uow.commit()
    assert done.on_time is False


def test_return_then_resubmit_keeps_history(uow_factory, launched_campaign, actors, tick):
    code = launched_campaign.code
    dept, office = actors["dept_zjj"], actors["office"]
    t0 = dt.datetime(2020, 5, 20, 2, tzinfo=UTC)
    with uow_factory() as uow:
        a = _find(uow, dept, code, "refine_measures")
        sub.submit(uow.session, actor=dept, at=t0, assignment_id=a.id, text="第一稿")
        uow.commit()
    with uow_factory() as uow:
        v = sub.get_assignment(uow.session, actor=office, assignment_id=a.id)[0].version
        with pytest.raises(Invalid, match="退回原因"):
            sub.return_submission(uow.session, actor=office, at=t0, assignment_id=a.id, expected_version=v, reason=" ")
    with uow_factory() as uow:
        back = sub.return_submission(
            uow.session,
            actor=office,
            at=t0 + dt.timedelta(days=1),
            assignment_id=a.id,
            expected_version=v,
            reason="责任人未明确",
        )
        uow.commit()
    assert back.status == "returned"
    tick(dt.date(2020, 6, 2))  # returned counts as unfinished: overdue again, reminders resume
    with uow_factory() as uow:
        dto, _ = sub.get_assignment(uow.session, actor=dept, assignment_id=a.id)
        assert dto.status == "returned" and dto.overdue_days > 0
        sub.submit(
            uow.session,
            actor=dept,
            at=dt.datetime(2020, 6, 2, 3, tzinfo=UTC),
            assignment_id=a.id,
            text="第二稿",
            late_reason="退回后补充责任人",  # after the deadline the 逾期原因 is required
        )
        uow.commit()
    with uow_factory() as uow:
        v = sub.get_assignment(uow.session, actor=office, assignment_id=a.id)[0].version
        done = sub.accept(
            uow.session, actor=office, at=dt.datetime(2020, 6, 3, tzinfo=UTC), assignment_id=a.id, expected_version=v
        )
        uow.commit()
        _, history = sub.get_assignment(uow.session, actor=dept, assignment_id=a.id)
    assert done.on_time is False  # resubmitted after the 25 May deadline
    assert [(h.seq, h.state, h.text) for h in history] == [(1, "returned", "第一稿"), (2, "accepted", "第二稿")]
    assert history[0].review_note == "责任人未明确"


def test_submit_rules(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    dept = actors["dept_zjj"]
    at = dt.datetime(2020, 6, 2, tzinfo=UTC)
    with uow_factory() as uow:
        rows = sub.list_assignments(uow.session, actor=dept, campaign_code=code)
        scheduled = next(r for r in rows if r.status == "scheduled")
        opened = _find(uow, dept, code, "self_check_ledger")
    with pytest.raises(Invalid, match="任务尚未开始"), uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at, assignment_id=scheduled.id, text="x")
    with pytest.raises(Invalid, match="至少一项"), uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at, assignment_id=opened.id, text="  ")
    with uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at, assignment_id=opened.id, rows=[{"a": 1}])
        uow.commit()
    with pytest.raises(Invalid, match="等待"), uow_factory() as uow:
        sub.submit(uow.session, actor=dept, at=at, assignment_id=opened.id, text="again")
    with uow_factory() as uow:
        assert len(_refusals(uow, "submission.submit")) == 3


def test_no_review_required_accepts_immediately(uow_factory, launched_campaign, actors):
    from store.models import Assignment

    with uow_factory() as uow:
        a = _find(uow, actors["dept_zjj"], launched_campaign.code, "monthly_report")
        uow.session.get(Assignment, a.id).review_required = False
        uow.commit()
    with uow_factory() as uow:
        s = sub.submit(
            uow.session,
            actor=actors["dept_zjj"],
            at=dt.datetime(2020, 6, 5, tzinfo=UTC),
            assignment_id=a.id,
            text="月报",
        )
        uow.commit()
        dto, _ = sub.get_assignment(uow.session, actor=actors["dept_zjj"], assignment_id=a.id)
    assert s.state == "accepted" and dto.status == "accepted" and dto.on_time is True


@pytest.mark.parametrize(
    "upload, message",
    [
        (Upload("virus.exe", "application/octet-stream", b"MZ\x90\x00"), "不支持的文件类型"),
        (Upload("报告.pdf", "application/pdf", b"<html>not a pdf</html>"), "不符"),
        (Upload("空.pdf", "application/pdf", b""), "空文件"),
        (Upload("../", "application/pdf", PDF), "文件名无效"),
        (Upload("big.pdf", "application/pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024)), "大小限制"),
    ],
)
def test_bad_upload_rejected_whole(uow_factory, launched_campaign, actors, attachment_dir, upload, message):
    with uow_factory() as uow:
        a = _find(uow, actors["dept_zjj"], launched_campaign.code, "self_check_report")
    with pytest.raises(Invalid, match=message), uow_factory() as uow:
        sub.submit(
            uow.session,
            actor=actors["dept_zjj"],
            at=dt.datetime(2020, 6, 5, tzinfo=UTC),
            assignment_id=a.id,
            text="含一个好附件和一个坏附件",
            attachments=[Upload("好.pdf", "application/pdf", PDF), upload],
            attachment_dir=attachment_dir,
        )
    assert not any(attachment_dir.rglob("*"))  # nothing stored, not even the good file
    with uow_factory() as uow:
        dto, history = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)
        assert dto.status == "open" and history == []
        assert len(_refusals(uow, "submission.submit")) == 1


def test_stale_version_is_a_conflict(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        a = _find(uow, actors["dept_zjj"], launched_campaign.code, "self_check_report")
        sub.submit(
            uow.session, actor=actors["dept_zjj"], at=dt.datetime(2020, 6, 5, tzinfo=UTC), assignment_id=a.id, text="x"
        )
        uow.commit()
        v = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[0].version
    with uow_factory() as uow:
        sub.accept(
            uow.session,
            actor=actors["office"],
            at=dt.datetime(2020, 6, 6, tzinfo=UTC),
            assignment_id=a.id,
            expected_version=v,
        )
        uow.commit()
    with pytest.raises(Conflict, match="已被其他审核人处理"), uow_factory() as uow:
        sub.return_submission(
            uow.session,
            actor=actors["office"],
            at=dt.datetime(2020, 6, 6, tzinfo=UTC),
            assignment_id=a.id,
            expected_version=v,
            reason="晚了一步",
        )


def test_two_reviewers_at_once_only_one_wins(engine, uow_factory, launched_campaign, actors):
    """Both reviewers read the same version, then act concurrently in separate transactions."""
    with uow_factory() as uow:
        a = _find(uow, actors["dept_zjj"], launched_campaign.code, "self_check_report")
        sub.submit(
            uow.session, actor=actors["dept_zjj"], at=dt.datetime(2020, 6, 5, tzinfo=UTC), assignment_id=a.id, text="x"
        )
        uow.commit()
        v = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)[0].version

    both_loaded = threading.Barrier(2, timeout=20)
    results: dict[str, object] = {}

    def review(name: str) -> None:
        try:
            with uow_factory() as uow:
                s = uow.session
                sub.get_assignment(s, actor=actors["office"], assignment_id=a.id)  # each has read the row
                both_loaded.wait()
                at = dt.datetime(2020, 6, 6, tzinfo=UTC)
                if name == "accept":
                    sub.accept(s, actor=actors["office"], at=at, assignment_id=a.id, expected_version=v)
                else:
                    sub.return_submission(
                        s, actor=actors["office"], at=at, assignment_id=a.id, expected_version=v, reason="材料不全"
                    )
                uow.commit()
                results[name] = "won"
        except Conflict as exc:
            results[name] = exc
        except Exception as exc:
            results[name] = exc

    threads = [threading.Thread(target=review, args=(n,)) for n in ("accept", "return")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    outcomes = sorted(type(r).__name__ if not isinstance(r, str) else r for r in results.values())
    assert outcomes == ["Conflict", "won"], results
    loser = next(r for r in results.values() if isinstance(r, Conflict))
    assert "已被其他审核人处理" in str(loser)
    with uow_factory() as uow:
        dto, history = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=a.id)
        assert dto.version == v + 1 and len(history) == 1
        assert dto.status == ("accepted" if results["accept"] == "won" else "returned")
        refused = _refusals(uow)
        assert any("已被其他审核人处理" in (e.after_json or "") for e in refused)
        from store.audit import verify

        assert verify(uow.session).ok


def test_department_cannot_review_or_read_others(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        a = _find(uow, actors["office"], launched_campaign.code, "self_check_report", dept="zjj")
    with pytest.raises(Forbidden), uow_factory() as uow:
        sub.get_assignment(uow.session, actor=actors["dept_jyj"], assignment_id=a.id)
    with pytest.raises(Forbidden), uow_factory() as uow:
        sub.list_assignments(
            uow.session, actor=actors["dept_jyj"], campaign_code=launched_campaign.code, department_code="zjj"
        )
    with pytest.raises(Forbidden), uow_factory() as uow:
        sub.accept(
            uow.session,
            actor=actors["dept_zjj"],
            at=dt.datetime(2020, 6, 6, tzinfo=UTC),
            assignment_id=a.id,
            expected_version=1,
        )
    with uow_factory() as uow:
        assert len(_refusals(uow)) == 3  # committed though every operation failed
