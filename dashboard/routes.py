"""The dashboard's own HTTP routes, served beside Streamlit's by the same server (dashboard/server.py).

- `POST /session/begin` exchanges a login's one-minute handoff code for the session cookie
  (HttpOnly, signed, expiring): refresh and new tabs of the same browser stay logged in.
- `POST /session/end` ends the cookie's session (in every tab) and clears the cookie.
- `GET /files/<token>` serves one download: the ticket must be fresh and unused, issued to the
  session whose cookie comes with the request, and its user enabled now; an attachment is read again
  through the service (permission-checked). Served and refused downloads are audited.

Files a page built for its user (tables as .xlsx, reports) are held in this process's memory under
their ticket until served or expired: Streamlit's `/media/…` URLs are never handed out.
"""

from __future__ import annotations

import functools
import html
import logging
import threading
import time
import urllib.parse
from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from domain.errors import NotFound, UserError
from services import web_sessions
from services.submissions import read_attachment
from settings import Settings, load_settings
from store import audit
from store.db import shared_engine
from store.uow import UnitOfWork

COOKIE = "campaign_session"
SESSION_BEGIN = "/session/begin"
SESSION_END = "/session/end"
FILES = "/files/"
log = logging.getLogger("dashboard.routes")


# --- files a page built, held until their ticket is served -------------------------------------


@dataclass(frozen=True)
class _Held:
    data: bytes
    until: float  # time.monotonic()


_HELD: dict[int, _Held] = {}
_HELD_LOCK = threading.Lock()


def hold(ticket_id: int, data: bytes) -> None:
    """Keep a built file for its ticket (a little longer than the ticket lives); drops expired ones."""
    now = time.monotonic()
    with _HELD_LOCK:
        for key in [k for k, v in _HELD.items() if v.until < now]:
            del _HELD[key]
        _HELD[ticket_id] = _Held(data, now + web_sessions.TICKET_MINUTES * 60 + 30)


def _take(ticket_id: int) -> bytes | None:
    with _HELD_LOCK:
        held = _HELD.pop(ticket_id, None)
    return held.data if held is not None and held.until >= time.monotonic() else None


# --- the server's settings and database (the same environment as the Streamlit script's) ---------


@functools.cache
def _settings() -> Settings:
    loaded = load_settings()
    audit.configure(loaded)
    return loaded


def _engine() -> Engine:
    return shared_engine(_settings().db_url)


def _page(status: int, title: str, message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:40em;margin:4em auto">'
        f"<h2>{html.escape(title)}</h2><p>{html.escape(message)}</p>"
        '<p><a href="/">返回工作台</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _same_origin(request: Request) -> bool:
    """A state-changing POST must come from a page of this server (no cross-site form posts)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urllib.parse.urlsplit(origin).netloc == request.headers.get("host")


# --- routes -------------------------------------------------------------------------------------


def _exchange(code: str) -> tuple[str, int]:
    settings = _settings()
    at = settings.now()
    with UnitOfWork(_engine()) as uow:
        cookie = web_sessions.exchange_handoff(uow.session, handoff=code, at=at)
        value = web_sessions.seal(uow.session, cookie.token)
        uow.commit()
    return value, max(0, int((cookie.expires_at - at).total_seconds()))


async def begin_session(request: Request) -> Response:
    if not _same_origin(request):
        return _page(403, "请求被拒绝", "请从工作台页面登录。")
    code = (await request.body()).decode("utf-8", "replace").strip()
    try:
        value, max_age = await run_in_threadpool(_exchange, code)
    except UserError as exc:
        return _page(403, "登录失败", str(exc))
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _end(value: str | None) -> None:
    with UnitOfWork(_engine()) as uow:
        token = web_sessions.unseal(uow.session, value)
        if token is not None:
            web_sessions.end(uow.session, token=token, at=_settings().now())
        uow.commit()


async def end_session(request: Request) -> Response:
    if not _same_origin(request):
        return _page(403, "请求被拒绝", "请从工作台页面退出登录。")
    await run_in_threadpool(_end, request.cookies.get(COOKIE))
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


@dataclass(frozen=True)
class _File:
    data: bytes
    filename: str
    content_type: str


def _serve(token: str, cookie: str | None) -> _File:
    settings = _settings()
    at = settings.now()
    with UnitOfWork(_engine()) as uow:
        redeemed = web_sessions.redeem_ticket(
            uow.session, token=token, session_token=web_sessions.unseal(uow.session, cookie), at=at
        )
        if redeemed.attachment_id is not None:
            _dto, data = read_attachment(
                uow.session,
                actor=redeemed.actor,
                attachment_id=redeemed.attachment_id,
                attachment_dir=settings.attachments_path,
                at=at,
            )
        else:
            held = _take(redeemed.ticket_id)
            if held is None:  # the server restarted, or the file outlived its ticket
                raise NotFound("该文件已不在服务器上，请回到工作台页面重新点击下载。")
            data = held
        uow.commit()  # the ticket is used, and the download audited
    return _File(data, redeemed.filename, redeemed.content_type)


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"


async def download(request: Request) -> Response:
    try:
        served = await run_in_threadpool(_serve, request.path_params["token"], request.cookies.get(COOKIE))
    except UserError as exc:
        return _page(403, "无法下载", str(exc))
    except Exception:
        log.exception("download failed")
        return _page(500, "系统内部错误", "下载失败，已记录，请联系管理员。")
    return Response(
        served.data,
        media_type=served.content_type,
        headers={
            "Content-Disposition": _disposition(served.filename),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES = [
    Route(SESSION_BEGIN, begin_session, methods=["POST"]),
    Route(SESSION_END, end_session, methods=["POST"]),
    Route(FILES + "{token}", download, methods=["GET"]),
]
