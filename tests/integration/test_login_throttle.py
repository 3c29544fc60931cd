"""Login throttling (issue 11): failures are counted per username and per client address over a
sliding window; past the limit an attempt is refused without trying the password; every attempt,
refused or not, is in the audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from domain.access import LOGIN_WINDOW_MINUTES, MAX_LOGIN_FAILURES_PER_ADDRESS, MAX_LOGIN_FAILURES_PER_USER
from services.users import AuthFailed, authenticate
from store.models import AuditEntry, LoginAttempt
from store.uow import UnitOfWork

AT = dt.datetime(2020, 6, 2, 2, 0, tzinfo=dt.UTC)


def _try(engine, username: str, password: str, *, at: dt.datetime = AT, address: str | None = "10.0.0.8") -> str:
    """'ok' or the refusal's message; an accepted login is committed as the edges do."""
    try:
        with UnitOfWork(engine) as uow:
            authenticate(uow.session, username, password, at=at, address=address)
            uow.commit()
    except AuthFailed as exc:
        return str(exc)
    return "ok"


def _audited(engine, outcome: str) -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "user.login", AuditEntry.outcome == outcome)
        )


def test_an_account_locks_after_its_failures_and_unlocks_after_the_window(engine, users):
    for _ in range(MAX_LOGIN_FAILURES_PER_USER):
        assert _try(engine, "office", "wrong-password") == AuthFailed.WRONG
    locked = _try(engine, "office", users["office"])
    assert "登录失败次数过多" in locked  # the right password does not help while locked
    assert _try(engine, "leader", users["leader"]) == "ok"  # another account from the same address is not
    later = AT + dt.timedelta(minutes=LOGIN_WINDOW_MINUTES, seconds=1)
    assert _try(engine, "office", users["office"], at=later) == "ok"
    assert _audited(engine, "refused") == MAX_LOGIN_FAILURES_PER_USER + 1
    assert _audited(engine, "ok") == 2
    with UnitOfWork(engine) as uow:
        attempts = [(a.ok, a.address) for a in uow.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))]
    assert [ok for ok, _ in attempts] == [False] * (MAX_LOGIN_FAILURES_PER_USER + 1) + [True, True]
    assert {address for _, address in attempts} == {"10.0.0.8"}


def test_an_address_locks_after_many_failures_across_names(engine, users):
    for i in range(MAX_LOGIN_FAILURES_PER_ADDRESS):
        assert _try(engine, f"guess{i}", "whatever1", address="10.9.9.9") == AuthFailed.WRONG
    assert "本机登录失败次数过多" in _try(engine, "office", users["office"], address="10.9.9.9")
    assert _try(engine, "office", users["office"], address="10.0.0.1") == "ok"  # other machines are not


@pytest.mark.parametrize("name", ["", "x" * 500, "名\x00字"])
def test_odd_usernames_are_refused_and_recorded_without_errors(engine, users, name):
    assert _try(engine, name, "whatever1") == AuthFailed.WRONG
    assert _audited(engine, "refused") == 1
