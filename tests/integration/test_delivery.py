"""Delivery of the outbox to real loopback receivers: aiosmtpd for e-mail, an HTTP server for
webhooks (generic JSON, DingTalk with 加签, WeCom), plus the in-app inbox.

The crash test runs the send loop in a child process with an injected e-mail sender that hands the
message to the real receiver and then SIGKILLs its own process, between the send and the record,
and proves the re-run sends nobody a second copy. Each test gets the yanjiang-2020 campaign ticked to
2020-06-22 with the service steps (no Prefect needed for most tests), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from domain.access import SYSTEM, Actor, Role
from domain.errors import Forbidden
from notify import verify_dingtalk_signature
from services import campaigns, delivery
from services.delivery import planning
from services.spec_files import load_spec
from settings import Settings, WebhookTarget
from store import audit
from store.db import shared_engine
from store.models import AuditEntry, Outbox, OutboxDelivery, User
from store.uow import UnitOfWork
from tests.conftest import run_tick
from tests.machine import free_port

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "config" / "campaigns" / "yanjiang-2020.yaml"
CODE = "yanjiang-2020"
DAY = dt.date(2020, 6, 22)  # Monday: reminders, overdue notices and all three escalation levels
AT = dt.datetime(2020, 6, 22, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
pytestmark = pytest.mark.usefixtures("clean_campaign_env")
OFFICE = Actor("office", Role.office, None, "联席办")
DEPARTMENT = Actor("dept-zjj", Role.department, "zjj", "住建局联络员")
DING_SECRET = "SECtest-ding-secret-0123456789"
SMTP_SENDER = "专项整治办 <campaign@yanjiang.example.gov.cn>"


# --------------------------------------------------------------------------- receivers


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        msg = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def per_recipient(self) -> Counter[str]:
        return Counter(r.lower() for rcpts, _ in self.messages for r in rcpts)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class Http:
    port: int
    requests: list[dict[str, Any]] = field(default_factory=list)
    # path -> statuses to answer in turn (the last one repeats); default 200
    script: dict[str, list[int]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def http() -> Iterator[Http]:
    state = Http(0)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                statuses = state.script.get(parts.path, [200])
                status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                state.requests.append(
                    {
                        "path": parts.path,
                        "query": parse_qs(parts.query),
                        "status": status,
                        "json": json.loads(body.decode("utf-8")),
                    }
                )
            answer = json.dumps({"errcode": 0, "errmsg": "ok"} if status == 200 else {"error": "boom"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- campaign


def launch_with_users(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        campaigns.launch(uow.session, load_spec(SPEC), actor=SYSTEM, at=AT - dt.timedelta(days=60))
        # services.guard.resolve acts only as recorded accounts: the office and the department
        # liaison the tests act as exist too, department accounts in this campaign
        for username, name, role, dept, email in [
            ("zjj_li", "李住建", "department", "zjj", "li@zjj.example.gov.cn"),
            ("fgj_wang", "王发改", "office", "fgj", "wang@fgj.example.gov.cn"),
            ("leader_zhao", "赵领导", "leader", None, "zhao@yanjiang.example.gov.cn"),
            ("jyj_noemail", "交运无邮箱", "department", "jyj", None),
            ("office", "联席办", "office", None, None),
            ("dept-zjj", "住建局联络员", "department", "zjj", None),
        ]:
            uow.session.add(
                User(
                    username=username,
                    display_name=name,
                    role=role,
                    department_code=dept,
                    campaign_code=CODE if role == "department" else None,
                    email=email,
                    password_hash="x",
                    created_at=AT,
                )
            )
        uow.commit()


@pytest.fixture
def db_url(engine: Engine) -> str:
    """The campaign launched with its users and ticked to DAY, on SQLite and on PostgreSQL (the URL,
    because the protocol under test opens its own units of work, and the crash test a process)."""
    launch_with_users(engine)
    run_tick(engine, CODE, DAY)
    return engine.url.render_as_string(hide_password=False)


def settings_for(smtp_port: int | None, http: Http | None, **extra: Any) -> Settings:
    hooks = []
    if http is not None:
        hooks = [
            WebhookTarget(
                name="纪检组钉钉群", format="dingtalk", url=http.url("/ding?access_token=tok123"), secret=DING_SECRET
            ),
            WebhookTarget(name="办公室企业微信群", format="wecom", url=http.url("/wecom?key=k-1")),
            WebhookTarget(name="json", format="json", url=http.url("/json")),
        ]
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1" if smtp_port else None,
        "smtp_port": smtp_port or 25,
        "smtp_starttls": False,
        "smtp_sender": SMTP_SENDER,
        "webhooks": hooks,
        "dashboard_base_url": "https://campaign.example.gov.cn",
        "delivery_retry_delays_s": [60, 600],
    }
    values.update(extra)
    return Settings(**values)


def plan(db_url: str, settings: Settings, day: dt.date = DAY) -> delivery.PlanReport:
    with UnitOfWork(db_url) as uow:
        report = delivery.plan_deliveries(uow.session, CODE, day, settings, at=AT)
        uow.commit()
        return report


def send(db_url: str, channel: str, settings: Settings, at: dt.datetime = AT) -> delivery.SendReport:
    return delivery.send_pending(shared_engine(db_url), CODE, channel, settings, at)


def audited(db_url: str, action: str) -> list[AuditEntry]:
    with UnitOfWork(db_url) as uow:
        entries = list(
            uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )
        assert audit.verify(uow.session).ok
        uow.session.expunge_all()
        return entries


def deliveries(db_url: str, channel: str | None = None) -> list[OutboxDelivery]:
    with UnitOfWork(db_url) as uow:
        q = select(OutboxDelivery).order_by(OutboxDelivery.id)
        if channel:
            q = q.where(OutboxDelivery.channel == channel)
        rows = list(uow.session.scalars(q))
        uow.session.expunge_all()  # plain snapshots: the unit of work's rollback must not expire them
        return rows


def _text(msg: Any) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("page", [5000, 3], ids=["one-read", "3-rows-a-page"])
def test_email_digest_one_message_per_person_in_chinese(
    db_url: str, smtp: tuple[Mailbox, int], page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with the owed rows read three at a time (a national day owes millions): still one digest each."""
    monkeypatch.setattr(planning, "OWED_PAGE", page)
    box, port = smtp
    settings = settings_for(port, None)
    report = plan(db_url, settings)
    assert report.skipped is None and report.outbox_rows > 10  # several pages of three
    sent = send(db_url, "email", settings)
    assert sent.sent == len(deliveries(db_url, "email")) and sent.failed == sent.gave_up == 0

    # One digest per mailbox for the day: nobody is flooded, nobody gets two.
    counts = box.per_recipient()
    assert counts and set(counts.values()) == {1}
    assert "zjj@yanjiang.example.gov.cn" in counts and "li@zjj.example.gov.cn" in counts
    assert "zhao@yanjiang.example.gov.cn" in counts  # leaders hear about 通报批评 / 约谈

    by_rcpt = {rcpts[0]: msg for rcpts, msg in box.messages}
    zjj = by_rcpt["zjj@yanjiang.example.gov.cn"]
    assert zjj["Subject"].startswith("【每日汇总】2020年6月22日")
    body = _text(zjj)
    assert "截止日期" in body and "个工作日" in body
    assert "https://campaign.example.gov.cn/?assignment=" in body
    assert "区住建局" in body
    assert zjj["Message-ID"].endswith("@yanjiang.example.gov.cn>")

    office = _text(by_rcpt["fgj@yanjiang.example.gov.cn"])
    for level in ("预警", "通报批评", "约谈"):
        assert level in office
    assert "抄送" in office and "分管领导" in office  # who else was told

    # Every sent delivery is in the audit chain, and so is the planning run (one batch entry).
    sent_ids = {str(d.id) for d in deliveries(db_url, "email")}
    assert {e.entity_key for e in audited(db_url, "delivery.sent")} == sent_ids
    [planned] = audited(db_url, "delivery.plan")
    assert json.loads(planned.after_json or "{}")["outbox_rows"] == report.outbox_rows

    # Re-planning and re-sending the same day changes nothing and sends nothing.
    again = plan(db_url, settings)
    assert again.outbox_rows == 0
    assert send(db_url, "email", settings, AT + dt.timedelta(hours=1)).sent == 0
    assert len(box.messages) == len(counts)
    assert len(audited(db_url, "delivery.plan")) == 1 and len(audited(db_url, "delivery.sent")) == len(sent_ids)
    with UnitOfWork(db_url) as uow:
        assert set(uow.session.scalars(select(Outbox.state).where(Outbox.created_on <= DAY))) == {"planned"}


def test_webhooks_dingtalk_wecom_json_with_signature(db_url: str, http: Http) -> None:
    settings = settings_for(None, http)
    plan(db_url, settings)
    report = send(db_url, "webhook", settings, at=dt.datetime.now(dt.UTC))
    assert report.sent == 3 and report.failed == 0

    [ding] = http.to("/ding")
    assert ding["query"]["access_token"] == ["tok123"]
    timestamp, sign = ding["query"]["timestamp"][0], ding["query"]["sign"][0]
    assert verify_dingtalk_signature(DING_SECRET, timestamp, sign, now=dt.datetime.now(dt.UTC))
    assert not verify_dingtalk_signature("wrong-secret", timestamp, sign)
    payload = ding["json"]
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"].startswith("【每日汇总】")
    assert payload["markdown"]["text"].startswith("### 【每日汇总】")
    assert "约谈" in payload["markdown"]["text"] and "/?assignment=" in payload["markdown"]["text"]

    [wecom] = http.to("/wecom")
    assert wecom["json"]["msgtype"] == "markdown"
    content = wecom["json"]["markdown"]["content"]
    assert content.startswith("### 【每日汇总】") and len(content.encode("utf-8")) <= 4096
    assert "sign" not in wecom["query"]

    [generic] = http.to("/json")
    assert generic["json"]["dedupe_key"].startswith(f"webhook|json|{CODE}|2020-06-22")
    assert "截止日期" in generic["json"]["body_markdown"]

    assert send(db_url, "webhook", settings, at=dt.datetime.now(dt.UTC)).sent == 0
    assert len(http.requests) == 3


ZJJ_LI = Actor("zjj_li", Role.department, "zjj", "李住建")
JYJ_NOEMAIL = Actor("jyj_noemail", Role.department, "jyj", "交运无邮箱")
LEADER_ZHAO = Actor("leader_zhao", Role.leader, None, "赵领导")


def test_inbox_items_and_mark_read(db_url: str) -> None:
    settings = settings_for(None, None)
    report = plan(db_url, settings)
    assert report.outbox_rows > 0 and report.inbox_items == 0  # the tick has put them in the inboxes already
    with UnitOfWork(db_url) as uow:
        items = delivery.inbox_for(uow.session, actor=ZJJ_LI)
        assert items and all(i.read_at is None for i in items)
        assert all("区住建局" in i.body for i in items)
        assert all(i.campaign_code == CODE and i.assignment_id for i in items)
        no_email_user = delivery.inbox_for(uow.session, actor=JYJ_NOEMAIL)
        assert no_email_user  # the inbox needs no e-mail address
        assert not {i.id for i in no_email_user} & {i.id for i in items}  # each sees only their own
        leader = delivery.inbox_for(uow.session, actor=LEADER_ZHAO)
        assert leader and all(("通报批评" in i.subject) or ("约谈" in i.subject) for i in leader)
        first = items[0].id
        assert not delivery.mark_read(uow.session, actor=LEADER_ZHAO, delivery_id=first, at=AT)  # not theirs
        assert delivery.mark_read(uow.session, actor=ZJJ_LI, delivery_id=first, at=AT)
        assert not delivery.mark_read(uow.session, actor=ZJJ_LI, delivery_id=first, at=AT)  # already read
        uow.commit()
    with UnitOfWork(db_url) as uow:
        assert delivery.unread_count(uow.session, actor=ZJJ_LI) == len(items) - 1
        assert delivery.unread_count(uow.session, actor=LEADER_ZHAO) == len(leader)
    [read] = audited(db_url, "message.read")
    assert (read.actor, read.entity_key) == ("zjj_li", str(first))

    # Marking all read is one audited batch, with a digest of the ids it marked.
    with UnitOfWork(db_url) as uow:
        assert delivery.mark_all_read(uow.session, actor=ZJJ_LI, at=AT) == len(items) - 1
        assert delivery.mark_all_read(uow.session, actor=ZJJ_LI, at=AT) == 0  # nothing left: no entry
        uow.commit()
    batch = audited(db_url, "message.read")[-1]
    assert (batch.actor, batch.entity) == ("zjj_li", "inbox")
    assert json.loads(batch.after_json or "{}")["messages"] == len(items) - 1
    with UnitOfWork(db_url) as uow:
        assert delivery.unread_count(uow.session, actor=ZJJ_LI) == 0
        assert delivery.unread_count(uow.session, actor=LEADER_ZHAO) == len(leader)  # others untouched
    # Planning again does not duplicate inbox items.
    plan(db_url, settings)
    with UnitOfWork(db_url) as uow:
        assert len(delivery.inbox_for(uow.session, actor=ZJJ_LI)) == len(items)


def test_failing_channel_is_visible_and_blocks_nothing(db_url: str, smtp: tuple[Mailbox, int], http: Http) -> None:
    box, port = smtp
    http.script["/ding"] = [503, 200]  # temporary outage, then fine
    http.script["/wecom"] = [400]  # rejected: a config problem, no point retrying
    settings = settings_for(port, http)
    plan(db_url, settings)
    now = dt.datetime.now(dt.UTC)

    hooks = send(db_url, "webhook", settings, at=now)
    mails = send(db_url, "email", settings, at=now)
    assert mails.sent == len(box.messages) > 0  # e-mail unaffected by the webhook trouble
    assert hooks.sent == 1 and hooks.failed == 1 and hooks.gave_up == 1
    rows = {d.target: d for d in deliveries(db_url, "webhook")}
    ding, wecom = rows["纪检组钉钉群"], rows["办公室企业微信群"]
    assert ding.state == "failed" and ding.attempts == 1 and "503" in (ding.last_error or "")
    assert ding.next_attempt_at == now + dt.timedelta(seconds=60)
    assert "tok123" not in (ding.last_error or "")
    assert wecom.state == "gave_up" and wecom.attempts == 1 and "400" in (wecom.last_error or "")
    with UnitOfWork(db_url) as uow:
        states = {p.target: p.state for p in delivery.problems(uow.session, actor=OFFICE, campaign_code=CODE)}
        with pytest.raises(Forbidden):
            delivery.problems(uow.session, actor=DEPARTMENT, campaign_code=CODE, at=now)
    assert states == {"纪检组钉钉群": "failed", "办公室企业微信群": "gave_up"}
    assert [e.entity_key for e in audited(db_url, "delivery.failed")] == [str(ding.id)]
    assert [e.entity_key for e in audited(db_url, "delivery.gave_up")] == [str(wecom.id)]

    # Before the backoff has passed nothing is retried; afterwards it is, once.
    assert send(db_url, "webhook", settings, at=now + dt.timedelta(seconds=30)).sent == 0
    later = send(db_url, "webhook", settings, at=now + dt.timedelta(seconds=61))
    assert later.sent == 1
    ding = {d.target: d for d in deliveries(db_url, "webhook")}["纪检组钉钉群"]
    assert ding.state == "sent" and ding.attempts == 2 and ding.last_error is None
    assert len(http.to("/ding")) == 2 and len(http.to("/wecom")) == 1


def test_escalation_notices_use_the_rung_names_of_the_campaign(engine: Engine) -> None:
    """A campaign that names its top rung 问责 sends 【问责】, not a built-in name."""
    spec = load_spec(SPEC)
    top = max(spec.escalation, key=lambda r: r.level)
    renamed = tuple(r.model_copy(update={"name": "问责"}) if r is top else r for r in spec.escalation)
    with UnitOfWork(engine) as uow:
        campaigns.launch(
            uow.session, spec.model_copy(update={"escalation": renamed}), actor=SYSTEM, at=AT - dt.timedelta(days=60)
        )
        uow.session.add(
            User(
                username="leader_zhao",
                display_name="赵领导",
                role="leader",
                department_code=None,
                email=None,
                password_hash="x",
                created_at=AT,
            )
        )
        uow.commit()
    run_tick(engine, CODE, DAY)
    with UnitOfWork(engine) as uow:
        delivery.plan_deliveries(uow.session, CODE, DAY, settings_for(None, None), at=AT)
        uow.commit()
    with UnitOfWork(engine) as uow:
        subjects = [i.subject for i in delivery.inbox_for(uow.session, actor=LEADER_ZHAO)]
    assert any(s.startswith("【问责】") for s in subjects)
    assert not any(s.startswith(f"【{top.name}】") for s in subjects)


def test_no_sends_on_holidays_unless_configured(db_url: str, smtp: tuple[Mailbox, int]) -> None:
    holiday = dt.date(2020, 6, 25)  # 端午节
    _, port = smtp
    report = plan(db_url, settings_for(port, None), day=holiday)
    assert report.skipped and "端午" in report.skipped
    assert deliveries(db_url, "email") == []  # the in-app inbox got its items from the tick, on its day
    report = plan(db_url, settings_for(port, None, send_on_holidays=True), day=holiday)
    assert report.skipped is None and report.outbox_rows > 0


CRASH_SCRIPT = """
import datetime as dt, os, signal, sys
from services.delivery import CHANNEL_SENDERS, send_pending
from settings import load_settings
from store.db import make_engine


def send_then_die(out, settings, at):
    CHANNEL_SENDERS["email"](out, settings, at)  # the real SMTP receiver gets the message ...
    os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies before the send is recorded


at = dt.datetime.fromisoformat(sys.argv[2])
report = send_pending(make_engine(sys.argv[1]), "yanjiang-2020", "email", load_settings(), at,
                      senders={**CHANNEL_SENDERS, "email": send_then_die})
print("finished", report.sent)
"""


def test_crash_between_send_and_record_never_sends_twice(db_url: str, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    settings = settings_for(port, None)
    plan(db_url, settings)
    planned = deliveries(db_url, "email")
    assert len(planned) >= 3

    # The child is another process: it gets the same mail settings as its environment.
    env = settings.child_environment({k: v for k, v in os.environ.items() if not k.upper().startswith("CAMPAIGN_")})
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, db_url, AT.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "finished" not in child.stdout
    assert len(box.messages) == 1  # the message went out, the record did not happen
    first = deliveries(db_url, "email")[0]
    assert first.state == "sending" and first.attempts == 1

    # The re-run (a later run of the schedule) sends everything else, and not the interrupted one.
    report = send(db_url, "email", settings, AT + dt.timedelta(hours=1))
    assert report.uncertain == 1 and report.sent == len(planned) - 1
    counts = box.per_recipient()
    assert len(counts) == len(planned) and set(counts.values()) == {1}
    rows = deliveries(db_url, "email")
    interrupted = next(r for r in rows if r.id == first.id)
    assert interrupted.state == "uncertain" and "不会自动重发" in (interrupted.last_error or "")
    assert all(r.state == "sent" for r in rows if r.id != first.id)
    assert [e.entity_key for e in audited(db_url, "delivery.uncertain")] == [str(first.id)]
    assert str(first.id) not in {e.entity_key for e in audited(db_url, "delivery.sent")}
    # ... and it is on the office's list, labelled for what it is.
    with UnitOfWork(db_url) as uow:
        listed = {p.id: p for p in delivery.problems(uow.session, actor=OFFICE, campaign_code=CODE)}
    assert listed[first.id].state == "uncertain" and listed[first.id].state_label == "待确认（发送中断）"

    # Yet another run still does not touch it; the office confirms it by hand.
    assert send(db_url, "email", settings, AT + dt.timedelta(hours=2)).sent == 0
    with pytest.raises(Forbidden), UnitOfWork(db_url) as uow:  # the unit of work records the refusal
        delivery.confirm_uncertain(
            uow.session, actor=DEPARTMENT, at=AT + dt.timedelta(hours=3), delivery_id=first.id, delivered=True
        )
    with UnitOfWork(db_url) as uow:
        delivery.confirm_uncertain(
            uow.session, actor=OFFICE, at=AT + dt.timedelta(hours=3), delivery_id=first.id, delivered=True
        )
        uow.commit()
    assert deliveries(db_url, "email")[0].state == "sent"
    with UnitOfWork(db_url) as uow:
        actions = [
            (e.actor, e.action, e.outcome)
            for e in uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "delivery.confirm").order_by(AuditEntry.id)
            )
        ]
    assert actions[-1] == ("office", "delivery.confirm", "ok") and any(a[0] == "dept-zjj" for a in actions)
    assert set(box.per_recipient().values()) == {1}


def test_deliver_flow_retries_only_what_failed(
    prefect_harness, db_url: str, smtp: tuple[Mailbox, int], http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Prefect flow: e-mail and webhooks side by side; a 503 is retried by the task after
    the backoff and succeeds, and nothing already sent is sent again."""
    from flows.delivery_flows import deliver

    box, port = smtp
    http.script["/ding"] = [503, 200]
    monkeypatch.setenv("CAMPAIGN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CAMPAIGN_SMTP_PORT", str(port))
    monkeypatch.setenv("CAMPAIGN_SMTP_STARTTLS", "false")
    monkeypatch.setenv("CAMPAIGN_SMTP_SENDER", SMTP_SENDER)
    monkeypatch.setenv(
        "CAMPAIGN_WEBHOOKS",
        json.dumps(
            [
                {
                    "name": "纪检组钉钉群",
                    "format": "dingtalk",
                    "url": http.url("/ding?access_token=tok123"),
                    "secret": DING_SECRET,
                },
                {"name": "json", "format": "json", "url": http.url("/json")},
            ],
            ensure_ascii=False,
        ),
    )
    monkeypatch.setenv("CAMPAIGN_DELIVERY_RETRY_DELAYS_S", "[0.2, 0.2]")
    summary = deliver(CODE, DAY, db_url=db_url)
    assert summary.failures == {}
    assert summary.sent["email"].sent == len(box.messages) > 0
    assert len(http.to("/ding")) == 2 and len(http.to("/json")) == 1
    rows = deliveries(db_url)
    assert {r.state for r in rows if r.channel != "inbox"} == {"sent"}
    ding = next(r for r in rows if r.target == "纪检组钉钉群")
    assert ding.attempts == 2
    assert set(box.per_recipient().values()) == {1}

    deliver(CODE, DAY, db_url=db_url)  # a second run the same day sends nothing new
    assert len(http.requests) == 3 and set(box.per_recipient().values()) == {1}
