"""Web sessions and download tickets: a login that survives refresh and is shared by a browser's tabs,
and files served only to the current, enabled, authorised user.

- A session starts at login (`start`); the browser exchanges the one-minute handoff code for its
  HttpOnly cookie (`exchange_handoff`). Only SHA-256 digests of the code and the cookie's token are
  stored. `ended_at` ends a session in every tab (`end`); it also ends at `expires_at`.
- Every use resolves the session and then the acting user from the user record at call time
  (services.guard.resolve): a disabled account is refused at once, whatever its sessions say.
- A download ticket is a random URL token valid for TICKET_MINUTES, bound to one session, usable
  once (`redeem_ticket` claims it with a conditional UPDATE, so two requests cannot both win).

Starting and ending sessions, issuing and serving tickets, and every refused download are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.access import Actor, Role
from domain.errors import Forbidden
from domain.limits import FILENAME_MAX
from services.guard import actor_of, fail, resolve
from services.users import AuthFailed
from store import audit
from store.models import DownloadTicket, User, WebSession

SESSION_HOURS = 12
HANDOFF_SECONDS = 60
TICKET_MINUTES = 2

SIGNED_OUT = "已退出登录，请重新登录"
EXPIRED = "登录已过期，请重新登录"
NOT_LOGGED_IN = "尚未登录或登录已失效，请重新登录"
# Whoever presents an unknown token: only a name for the audit record.
STRANGER = Actor("（未登录）", Role.leader, None, "")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def seal(session: Session, token: str) -> str:
    """The cookie's value: the token and its HMAC under a key kept outside the database (derived from
    the audit chain's key), so a forged or truncated cookie is rejected before any lookup."""
    return f"{token}.{_signature(session, token)}"


def unseal(session: Session, value: str | None) -> str | None:
    """The token of a cookie value this server sealed; None for anything else."""
    token, _, signature = (value or "").rpartition(".")
    if not token or not hmac.compare_digest(signature, _signature(session, token)):
        return None
    return token


def _signature(session: Session, token: str) -> str:
    key = hmac.new(audit.chain_key(session), b"web-session-cookie", hashlib.sha256).digest()
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).hexdigest()


def _token() -> str:
    return secrets.token_urlsafe(32)


def _claim(username: str) -> Actor:
    return Actor(username, Role.leader, None, "")  # resolve takes only the name from a claim


@dataclass(frozen=True)
class Started:
    session_id: int
    handoff: str  # exchanged once, within HANDOFF_SECONDS, for the cookie (exchange_handoff)
    expires_at: dt.datetime


@dataclass(frozen=True)
class Cookie:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Resolved:
    session_id: int
    actor: Actor
    expires_at: dt.datetime


@dataclass(frozen=True)
class Ticket:
    id: int
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Redeemed:
    ticket_id: int
    actor: Actor
    attachment_id: int | None  # None: a file the page built for this user and holds until served
    filename: str
    content_type: str


def start(session: Session, *, username: str, at: dt.datetime, address: str | None = None) -> Started:
    """A new session for a user who has just authenticated (services.users.authenticate)."""
    actor = resolve(session, _claim(username), at=at)
    user = session.scalar(select(User).where(User.username == actor.username))
    assert user is not None  # resolve refused a missing account
    handoff = _token()
    row = WebSession(
        user_id=user.id,
        handoff_hash=digest(handoff),
        address=(address or "")[:64] or None,
        created_at=at,
        expires_at=at + dt.timedelta(hours=SESSION_HOURS),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="session.start",
        entity="web_session",
        entity_key=str(row.id),
        after={"address": row.address, "expires_at": row.expires_at.isoformat()},
    )
    return Started(row.id, handoff, row.expires_at)


def exchange_handoff(session: Session, *, handoff: str, at: dt.datetime) -> Cookie:
    """The cookie token for a session's handoff code: once, within HANDOFF_SECONDS of the login."""
    row = session.scalar(select(WebSession).where(WebSession.handoff_hash == digest(handoff)))
    if row is None:
        raise AuthFailed(NOT_LOGGED_IN)
    actor = _active(session, row, at)
    if at > row.created_at + dt.timedelta(seconds=HANDOFF_SECONDS):
        fail(
            AuthFailed(EXPIRED),
            actor=actor,
            at=at,
            action="session.cookie",
            entity="web_session",
            entity_key=str(row.id),
        )
    token = _token()
    row.token_hash = digest(token)
    row.handoff_hash = None
    audit.record(session, at=at, actor=actor, action="session.cookie", entity="web_session", entity_key=str(row.id))
    return Cookie(token, row.expires_at)


def _active(session: Session, row: WebSession, at: dt.datetime) -> Actor:
    """The session's user, resolved from the record now; AuthFailed when the session is over."""
    if row.ended_at is not None:
        raise AuthFailed(SIGNED_OUT)
    if at >= row.expires_at:
        raise AuthFailed(EXPIRED)
    user = session.get(User, row.user_id)
    return resolve(session, _claim(user.username if user is not None else "?"), at=at)


def resolve_session(
    session: Session, *, at: dt.datetime, session_id: int | None = None, token: str | None = None
) -> Resolved:
    """The live session with this id (a tab's own) or cookie token (a refresh, a new tab) and its user
    as recorded now. AuthFailed when it is unknown, ended or expired; a disabled user is refused."""
    if session_id is not None:
        row = session.get(WebSession, session_id)
    elif token:
        row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    else:
        row = None
    if row is None:
        raise AuthFailed(NOT_LOGGED_IN)
    return Resolved(row.id, _active(session, row, at), row.expires_at)


def end(session: Session, *, at: dt.datetime, session_id: int | None = None, token: str | None = None) -> bool:
    """End a session in every tab (logout, or a tab finding its user disabled); False when there was
    none to end."""
    if session_id is not None:
        row = session.get(WebSession, session_id)
    elif token:
        row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    else:
        row = None
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = at
    user = session.get(User, row.user_id)
    audit.record(
        session,
        at=at,
        actor=actor_of(user) if user is not None else STRANGER,
        action="session.end",
        entity="web_session",
        entity_key=str(row.id),
    )
    return True


def issue_ticket(
    session: Session,
    *,
    session_id: int,
    at: dt.datetime,
    filename: str,
    content_type: str,
    attachment_id: int | None = None,
) -> Ticket:
    """A single-use download URL token for the session's user, valid for TICKET_MINUTES."""
    live = resolve_session(session, session_id=session_id, at=at)
    token = _token()
    row = DownloadTicket(
        token_hash=digest(token),
        session_id=live.session_id,
        kind="attachment" if attachment_id is not None else "held",
        attachment_id=attachment_id,
        filename=filename[:FILENAME_MAX],
        content_type=content_type[:100],
        created_at=at,
        expires_at=at + dt.timedelta(minutes=TICKET_MINUTES),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=at,
        actor=live.actor,
        action="download.issue",
        entity="download_ticket",
        entity_key=str(row.id),
        after={"filename": row.filename, "attachment_id": attachment_id, "expires_at": row.expires_at.isoformat()},
    )
    return Ticket(row.id, token, row.expires_at)


def redeem_ticket(session: Session, *, token: str, session_token: str | None, at: dt.datetime) -> Redeemed:
    """Serve a ticket once: to the browser whose session cookie it was issued to, while that session
    lives, its user is enabled, and the ticket is fresh and unused. Refusals are audited (Forbidden)."""
    row = session.scalar(select(DownloadTicket).where(DownloadTicket.token_hash == digest(token or "")))
    key = str(row.id) if row is not None else digest(token or "")[:16]
    owner = session.get(WebSession, row.session_id) if row is not None else None
    user = session.get(User, owner.user_id) if owner is not None else None
    who = actor_of(user) if user is not None else STRANGER

    def refused(message: str) -> NoReturn:
        fail(Forbidden(message), actor=who, at=at, action="download.serve", entity="download_ticket", entity_key=key)

    if row is None or owner is None:
        refused("下载链接无效。请回到工作台页面重新点击下载。")
    if row.used_at is not None:
        refused("该下载链接已经使用过，每个链接只能下载一次。请回到工作台页面重新点击下载。")
    if at >= row.expires_at:
        refused(f"该下载链接已过期（有效期 {TICKET_MINUTES} 分钟）。请回到工作台页面重新点击下载。")
    if not session_token or owner.token_hash != digest(session_token):
        refused("该下载链接只能在点击下载的浏览器中、登录状态下使用。请登录后在页面上重新点击下载。")
    try:
        actor = _active(session, owner, at)
    except AuthFailed as exc:
        refused(str(exc))
    claimed = session.execute(
        update(DownloadTicket)
        .where(DownloadTicket.id == row.id, DownloadTicket.used_at.is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        refused("该下载链接已经使用过，每个链接只能下载一次。请回到工作台页面重新点击下载。")
    audit.record(
        session,
        at=at,
        actor=actor,
        action="download.serve",
        entity="download_ticket",
        entity_key=key,
        after={"filename": row.filename, "attachment_id": row.attachment_id},
    )
    return Redeemed(row.id, actor, row.attachment_id, row.filename, row.content_type)
