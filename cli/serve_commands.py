"""serve (the embedded daily scheduler), deliver (send owed notifications now), deliveries (problems)."""

from __future__ import annotations

import argparse
import datetime as dt
import re

from cli import output
from cli.main import CliError, parse_date
from cli.work_commands import _add_actor, _login, _now, _uow
from domain.delivery import DELIVERY, DeliveryState
from services import delivery
from settings import Settings


def _hhmm(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise argparse.ArgumentTypeError(f"时间 {text!r} 格式不对，应为 HH:MM（例如 07:30）")
    return int(m.group(1)), int(m.group(2))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="内置调度：每天（北京时间）推进全部进行中的专项行动并发送通知；重启后补齐漏掉的日期"
    )
    p.add_argument("--once", action="store_true", help="只补齐到今天（或 --as-of）后退出，不常驻")
    p.add_argument("--as-of", type=parse_date, help="与 --once 一起使用：补齐到该日期")
    p.add_argument("--at", type=_hhmm, default=(7, 30), help="每日运行时间 HH:MM（北京时间，默认 07:30）")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("deliver", help="立即发送某专项行动某日应发的通知（站内信、邮件、webhook）")
    p.add_argument("--campaign", required=True, help="专项行动编号")
    p.add_argument("--day", type=parse_date, help="日期（默认：今天，北京时间）")
    p.set_defaults(handler=cmd_deliver)

    p = sub.add_parser("deliveries", help="列出发送失败、已放弃或待确认的通知；确认送达或重新发送（牵头办公室）")
    p.add_argument("--campaign", required=True, help="专项行动编号")
    p.add_argument("--confirm", type=int, metavar="编号", help="处理一条待确认或已放弃的通知")
    p.add_argument("--delivered", action="store_true", help="与 --confirm 一起：已核实送达（否则重新发送）")
    _add_actor(p)
    p.set_defaults(handler=cmd_deliveries)


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.schedule import serve  # imports Prefect: only the commands that run flows pay for it

    if args.as_of and not args.once:
        raise CliError("--as-of 只能与 --once 一起使用（常驻调度总是按北京时间的今天运行）")
    hour, minute = args.at
    serve(args.settings, hour=hour, minute=minute, once=args.once, as_of=args.as_of, report=output.out)
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    from flows.delivery_flows import deliver  # imports Prefect: only the commands that run flows pay for it
    from flows.runtime import embedded_engine

    settings: Settings = args.settings
    day: dt.date = args.day or settings.today()
    with embedded_engine():
        summary = deliver(args.campaign, day, db_url=settings.db_url)
    plan = summary.plan
    if plan.skipped:
        output.out(plan.skipped)
        return 0
    output.out(f"{args.campaign} {day}：新计划 站内信 {plan.inbox_items} 条、推送 {plan.push_messages} 条")
    for channel, report in summary.sent.items():
        output.out(
            f"  {channel}：已发送 {report.sent}，待重试 {report.failed}，放弃 {report.gave_up}，"
            f"待确认 {report.uncertain}，{DELIVERY.label(DeliveryState.obsolete)} {report.obsolete}"
        )
    for channel, text in summary.failures.items():
        output.err(f"  {channel}：{text}")
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        if args.confirm is not None:
            delivery.confirm_uncertain(
                uow.session, actor=actor, at=_now(args), delivery_id=args.confirm, delivered=args.delivered
            )
            uow.commit()
            output.out(f"通知 #{args.confirm}：{'已确认送达' if args.delivered else '将重新发送'}")
            return 0
        rows = delivery.problems(uow.session, actor=actor, campaign_code=args.campaign, at=_now(args))
    if not rows:
        output.out("没有需要处理的通知。")
        return 0
    output.out(
        output.table(
            ["编号", "渠道", "接收方", "状态", "次数", "错误"],
            [(r.id, r.channel, r.target, DELIVERY.label(r.state), r.attempts, (r.last_error or "")[:60]) for r in rows],
            numeric_from=9,
        )
    )
    return 0
