"""Web sessions and download tickets (issues 11 and 12), on SQLite and PostgreSQL: a session is found
by its tab's id or its cookie's token (never stored in clear), ends everywhere at logout, expires,
and stops at once for a disabled user; a ticket serves one file once, within minutes, to the
session it was issued to; everything is audited."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from domain.access import SYSTEM
from domain.errors import Forbidden
from services import web_sessions as ws
from services.users import AuthFailed, disable_user
from store.models import AuditEntry, DownloadTicket, WebSession
from store.uow import UnitOfWork

AT = dt.datetime(2020, 6, 2, 2, 0, tzinfo=dt.UTC)


def _login(engine, username: str = "dept_zjj", at: dt.datetime = AT) -> tuple[int, str]:
    """A session as the dashboard starts it, and the cookie token its browser gets for the handoff."""
    with UnitOfWork(engine) as uow:
        started = ws.start(uow.session, username=username, at=at, address="10.0.0.8")
        uow.commit()
    with UnitOfWork(engine) as uow:
        cookie = ws.exchange_handoff(uow.session, handoff=started.handoff, at=at + dt.timedelta(seconds=2))
        uow.commit()
    return started.session_id, cookie.token


def _ticket(engine, session_id: int, at: dt.datetime = AT, **kw) -> ws.Ticket:
    with UnitOfWork(engine) as uow:
        ticket = ws.issue_ticket(
            uow.session, session_id=session_id, at=at, filename="我的任务.xlsx", content_type="application/x", **kw
        )
        uow.commit()
    return ticket


def _redeem(engine, token: str, cookie: str | None, at: dt.datetime = AT) -> ws.Redeemed | str:
    try:
        with UnitOfWork(engine) as uow:
            done = ws.redeem_ticket(uow.session, token=token, session_token=cookie, at=at)
            uow.commit()
            return done
    except (Forbidden, AuthFailed) as exc:
        return str(exc)


def _audits(engine, action: str, outcome: str = "ok") -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.scalar(
            select(func.count()).where(AuditEntry.action == action, AuditEntry.outcome == outcome)
        )


def _resolve(engine, **kw) -> ws.Resolved | str:
    try:
        with UnitOfWork(engine) as uow:
            return ws.resolve_session(uow.session, at=AT + dt.timedelta(minutes=5), **kw)
    except (Forbidden, AuthFailed) as exc:
        return str(exc)


def test_a_session_is_found_by_its_id_and_its_cookie_token_and_ends_everywhere(engine, users):
    session_id, token = _login(engine)
    by_id, by_cookie = _resolve(engine, session_id=session_id), _resolve(engine, token=token)
    assert isinstance(by_id, ws.Resolved) and isinstance(by_cookie, ws.Resolved)
    assert by_id.session_id == by_cookie.session_id == session_id
    assert by_cookie.actor.username == "dept_zjj" and by_cookie.actor.department_code == "zjj"
    with UnitOfWork(engine) as uow:
        row = uow.session.get(WebSession, session_id)
        assert row.token_hash == ws.digest(token) and token not in (row.token_hash or "")
        assert row.handoff_hash is None  # the handoff code works once
    assert _resolve(engine, token="forged") == ws.NOT_LOGGED_IN
    with UnitOfWork(engine) as uow:
        assert ws.end(uow.session, token=token, at=AT + dt.timedelta(minutes=6))
        uow.commit()
    assert _resolve(engine, session_id=session_id) == ws.SIGNED_OUT  # the other tabs
    assert _resolve(engine, token=token) == ws.SIGNED_OUT  # a refresh
    assert _audits(engine, "session.start") == 1 and _audits(engine, "session.end") == 1


def test_a_handoff_code_works_once_and_only_within_its_minute(engine, users):
    with UnitOfWork(engine) as uow:
        started = ws.start(uow.session, username="office", at=AT)
        late = ws.start(uow.session, username="office", at=AT)
        uow.commit()
    with UnitOfWork(engine) as uow:
        ws.exchange_handoff(uow.session, handoff=started.handoff, at=AT)
        uow.commit()
    for code, at in ((started.handoff, AT), (late.handoff, AT + dt.timedelta(seconds=ws.HANDOFF_SECONDS + 1))):
        with pytest.raises(AuthFailed), UnitOfWork(engine) as uow:
            ws.exchange_handoff(uow.session, handoff=code, at=at)
    assert _audits(engine, "session.cookie", "refused") == 1


def test_a_session_expires(engine, users):
    session_id, _token = _login(engine)
    with pytest.raises(AuthFailed, match="过期"), UnitOfWork(engine) as uow:
        ws.resolve_session(uow.session, session_id=session_id, at=AT + dt.timedelta(hours=ws.SESSION_HOURS))


def test_a_disabled_users_session_and_tickets_stop_at_once(engine, users):
    session_id, token = _login(engine)
    ticket = _ticket(engine, session_id)
    with UnitOfWork(engine) as uow:
        disable_user(uow.session, actor=SYSTEM, at=AT, username="dept_zjj")
        uow.commit()
    assert "停用" in _resolve(engine, session_id=session_id)
    with pytest.raises(Forbidden), UnitOfWork(engine) as uow:
        ws.issue_ticket(uow.session, session_id=session_id, at=AT, filename="x.xlsx", content_type="x")
    assert "停用" in _redeem(engine, ticket.token, token)
    with UnitOfWork(engine) as uow:
        assert uow.session.get(DownloadTicket, ticket.id).used_at is None


def test_a_ticket_serves_once_to_its_session_within_minutes(engine, users):
    session_id, token = _login(engine)
    _other_id, other_token = _login(engine, "office")
    ticket = _ticket(engine, session_id, attachment_id=7)
    assert ticket.expires_at == AT + dt.timedelta(minutes=ws.TICKET_MINUTES)
    assert "登录状态下" in _redeem(engine, ticket.token, None)  # a copied URL in a browser without the login
    assert "登录状态下" in _redeem(engine, ticket.token, other_token)  # someone else's login
    assert "无效" in _redeem(engine, "guessed", token)
    done = _redeem(engine, ticket.token, token)
    assert isinstance(done, ws.Redeemed)
    assert (done.actor.username, done.attachment_id, done.filename) == ("dept_zjj", 7, "我的任务.xlsx")
    assert "已经使用过" in _redeem(engine, ticket.token, token)
    stale = _ticket(engine, session_id)
    assert "过期" in _redeem(engine, stale.token, token, at=AT + dt.timedelta(minutes=ws.TICKET_MINUTES))
    assert _audits(engine, "download.issue") == 2
    assert _audits(engine, "download.serve") == 1
    assert _audits(engine, "download.serve", "refused") == 5


def test_a_ticket_raced_by_two_requests_is_served_once(engine, users):
    session_id, token = _login(engine)
    ticket = _ticket(engine, session_id)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def race() -> None:
        barrier.wait()
        results.append(_redeem(engine, ticket.token, token))

    threads = [threading.Thread(target=race) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, ws.Redeemed) for r in results) == 1, results
    assert sum(isinstance(r, str) and "已经使用过" in r for r in results) == 1, results


def test_a_cookie_is_sealed_with_a_key_outside_the_database(engine, users):
    with UnitOfWork(engine) as uow:
        value = ws.seal(uow.session, "abc")
        assert ws.unseal(uow.session, value) == "abc"
        assert ws.unseal(uow.session, "abc." + "0" * 64) is None
        assert ws.unseal(uow.session, "abc") is None
        assert ws.unseal(uow.session, None) is None
