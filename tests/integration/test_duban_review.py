"""督办单 反馈 reviewed by the office (已阅/审核, issue 13): the office marks a department's answer read,
who and when are kept and audited, and the answer leaves the office's 待办; other roles are refused
(audited), an unanswered or already reviewed notice is refused, a batch is all or none, and the
CLI `campaign duban review` does the same with errors as messages and exit 2."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from cli.main import main
from domain.access import Forbidden
from domain.errors import Invalid, NotFound
from services import duban as duban_service
from services.supervision import todo
from store.models import AuditEntry, Duban
from store.uow import UnitOfWork
from tests.conftest import PASSWORD

CODE = "yanjiang-2020"
DAY = dt.date(2020, 7, 1)  # the self-check reports due 22 June are late: 督办单 issued
ANSWERED_AT = dt.datetime(2020, 7, 2, 2, 0, tzinfo=dt.UTC)
READ_AT = dt.datetime(2020, 7, 3, 2, 0, tzinfo=dt.UTC)


def _audits(engine, action: str, outcome: str) -> int:
    with UnitOfWork(engine) as uow:
        q = select(func.count()).where(AuditEntry.action == action, AuditEntry.outcome == outcome)
        return uow.session.scalar(q) or 0


def _answered(engine, tick, actors, dept: str = "zjj", n: int = 1) -> list[int]:
    """Tick to DAY and let `dept` answer `n` of its 督办单; their ids."""
    tick(DAY)
    with UnitOfWork(engine) as uow:
        mine = duban_service.list_dubans(uow.session, actor=actors[f"dept_{dept}"], campaign_code=CODE)
        assert len(mine) >= n
        ids = [d.id for d in mine[:n]]
        for i in ids:
            duban_service.respond(uow.session, actor=actors[f"dept_{dept}"], at=ANSWERED_AT, duban_id=i, text="已整改")
        uow.commit()
    return ids


def _waiting(engine, actors) -> list[int]:
    with UnitOfWork(engine) as uow:
        work = todo.office_todo(uow.session, actor=actors["office"], campaign_code=CODE, at=READ_AT)
    assert work.counts["督办单反馈"] == len(work.duban_responses)
    return [d.id for d in work.duban_responses]


def test_the_office_marks_an_answer_read_and_it_leaves_the_todo(engine, tick, actors):
    [target] = _answered(engine, tick, actors)
    assert target in _waiting(engine, actors)
    with UnitOfWork(engine) as uow:
        done = duban_service.review(uow.session, actor=actors["office"], at=READ_AT, duban_id=target)
        uow.commit()
    assert done.reviewed_by == "office" and done.reviewed_at == READ_AT
    assert done.reviewed_by_name == "办公室管理员" and done.state_label == "已反馈（已阅）"
    assert done.state == "answered" and done.answer == "已整改"  # the answer itself stays as given
    assert target not in _waiting(engine, actors)
    with UnitOfWork(engine) as uow:
        row = uow.session.get(Duban, target)
        assert (row.reviewed_by, row.reviewed_at) == ("office", READ_AT)
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "duban.review", AuditEntry.outcome == "ok")
        ).one()
        assert entry.actor == "office" and entry.entity_key == str(target)
        # everyone who may read the notice sees who read the answer
        seen = duban_service.get_duban(uow.session, actor=actors["dept_zjj"], duban_id=target)
        assert seen.reviewed_by == "office" and seen.reviewed_at == READ_AT


def test_only_the_office_reviews_and_only_an_answer_once(engine, tick, actors):
    [target] = _answered(engine, tick, actors)
    for who in ("leader", "dept_zjj", "dept_jyj"):
        with pytest.raises(Forbidden), UnitOfWork(engine) as uow:
            duban_service.review(uow.session, actor=actors[who], at=READ_AT, duban_id=target)
    assert _audits(engine, "duban.review", "refused") == 3
    assert target in _waiting(engine, actors)

    with UnitOfWork(engine) as uow:
        unanswered = uow.session.scalar(select(Duban.id).where(Duban.state == "issued").order_by(Duban.id))
    with pytest.raises(Invalid, match="尚未反馈"), UnitOfWork(engine) as uow:
        duban_service.review(uow.session, actor=actors["office"], at=READ_AT, duban_id=unanswered)
    with pytest.raises(NotFound), UnitOfWork(engine) as uow:
        duban_service.review(uow.session, actor=actors["office"], at=READ_AT, duban_id=999999)

    with UnitOfWork(engine) as uow:
        duban_service.review(uow.session, actor=actors["office"], at=READ_AT, duban_id=target)
        uow.commit()
    later = READ_AT + dt.timedelta(days=1)
    with pytest.raises(Invalid, match="不能重复审阅"), UnitOfWork(engine) as uow:
        duban_service.review(uow.session, actor=actors["office"], at=later, duban_id=target)
    with UnitOfWork(engine) as uow:
        assert uow.session.get(Duban, target).reviewed_at == READ_AT  # the first review stands
    assert _audits(engine, "duban.review", "ok") == 1


def test_a_batch_is_reviewed_all_or_none(engine, tick, actors):
    first, second = _answered(engine, tick, actors, n=2)
    with UnitOfWork(engine) as uow:
        unanswered = uow.session.scalar(select(Duban.id).where(Duban.state == "issued").order_by(Duban.id))
    with pytest.raises(Invalid), UnitOfWork(engine) as uow:
        duban_service.review_many(uow.session, actor=actors["office"], at=READ_AT, duban_ids=[first, unanswered])
    assert {first, second} <= set(_waiting(engine, actors))  # the refused batch left nothing reviewed
    with UnitOfWork(engine) as uow:
        done = duban_service.review_many(
            uow.session, actor=actors["office"], at=READ_AT, duban_ids=[first, second, first]
        )
        uow.commit()
    assert [d.id for d in done] == [first, second]  # a repeated id is reviewed once
    assert not {first, second} & set(_waiting(engine, actors))


@pytest.fixture
def cli(engine, users, monkeypatch, capsys):
    """The CLI in-process on the test database, acting as a user: (exit code, stdout, stderr)."""
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CAMPAIGN_PASSWORD", PASSWORD)
    monkeypatch.setenv("CAMPAIGN_AS_OF", "2020-07-03")

    def run(*argv: str, user: str) -> tuple[int, str, str]:
        code = main([*argv, "--as", user])
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        return code, out.out, out.err

    return run


def test_campaign_duban_review_on_the_command_line(engine, tick, actors, cli):
    [target] = _answered(engine, tick, actors)
    with UnitOfWork(engine) as uow:
        number = uow.session.get(Duban, target).number
    code, _out, err = cli("duban", "review", "--duban", str(target), user="dept_zjj")
    assert code == 2 and "牵头办公室" in err
    code, out, _err = cli("duban", "review", "--duban", str(target), user="office")
    assert code == 0 and f"已审阅督办单 {number}" in out
    code, _out, err = cli("duban", "review", "--duban", str(target), user="office")
    assert code == 2 and "不能重复审阅" in err
    code, _out, err = cli("duban", "review", "--duban", "999999", user="office")
    assert code == 2 and "999999" in err
    code, out, _err = cli("duban", "list", "--campaign", CODE, user="office")
    assert code == 0 and "已反馈（已阅）" in out
    with UnitOfWork(engine) as uow:
        assert uow.session.get(Duban, target).reviewed_by == "office"
