"""签收, 延期申请, 撤回, 催办 (issue 13): the department's and the office's daily supervision actions.

    campaign sign --assignment ID…                      签收（多个编号即批量签收）
    campaign extension request --assignment ID --until DATE --reason TEXT   （打印 申请编号：N）
    campaign extension decide --request ID (--approve [--until DATE] | --reject) --reason TEXT
    campaign extension list --campaign ID
    campaign withdraw --assignment ID                   撤回尚未审核的报送
    campaign urge --campaign ID (--assignment ID | --department CODE | --all-overdue) [--message TEXT]

Acting user: `--as` (see cli.work_commands); a user's mistake is a message and exit 2.
"""

from __future__ import annotations

import argparse

from cli import output
from cli.main import parse_date
from cli.work_commands import _add_actor, _login, _now, _uow
from domain.assignment import ASSIGNMENT
from domain.errors import Invalid
from domain.localtime import local_text
from services import submissions as sub
from services.supervision import acknowledge, extensions, urging


def register(sub_parsers: argparse._SubParsersAction) -> None:
    p = sub_parsers.add_parser("sign", help="签收任务（责任部门）；可一次签收多项")
    p.add_argument("--assignment", type=int, nargs="+", required=True, metavar="ID", help="任务编号（可多个）")
    _add_actor(p)
    p.set_defaults(handler=cmd_sign)

    ext = sub_parsers.add_parser("extension", help="延期申请：request 申请 / decide 审批 / list 列表").add_subparsers(
        dest="extension_command", required=True
    )
    p = ext.add_parser("request", help="申请延期（责任部门）；打印申请编号")
    p.add_argument("--assignment", type=int, required=True, metavar="ID")
    p.add_argument("--until", type=parse_date, required=True, metavar="DATE", help="申请延至（YYYY-MM-DD）")
    p.add_argument("--reason", required=True, help="延期理由")
    _add_actor(p)
    p.set_defaults(handler=cmd_extension_request)
    p = ext.add_parser("decide", help="审批延期申请：--approve（可用 --until 批准更早的日期）或 --reject")
    p.add_argument("--request", type=int, required=True, metavar="ID", help="申请编号")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true", help="批准")
    verdict.add_argument("--reject", action="store_true", help="驳回")
    p.add_argument("--until", type=parse_date, metavar="DATE", help="批准延至（不填则按申请的日期）")
    p.add_argument("--reason", required=True, help="审批意见")
    _add_actor(p)
    p.set_defaults(handler=cmd_extension_decide)
    p = ext.add_parser("list", help="列出延期申请：编号、部门、任务、原定与申请日期、状态")
    p.add_argument("--campaign", required=True)
    _add_actor(p)
    p.set_defaults(handler=cmd_extension_list)

    p = sub_parsers.add_parser("withdraw", help="撤回尚未审核的报送（责任部门）")
    p.add_argument("--assignment", type=int, required=True, metavar="ID")
    _add_actor(p)
    p.set_defaults(handler=cmd_withdraw)

    p = sub_parsers.add_parser("urge", help="催办（牵头办公室、领导）：一项任务、一个部门的逾期任务或全部逾期任务")
    p.add_argument("--campaign", required=True)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--assignment", type=int, metavar="ID", help="催办一项任务")
    target.add_argument("--department", metavar="CODE", help="催办该部门的全部逾期任务")
    target.add_argument("--all-overdue", action="store_true", help="催办本专项行动的全部逾期任务")
    p.add_argument("--message", default="", help="催办意见（可选）")
    _add_actor(p)
    p.set_defaults(handler=cmd_urge)


def cmd_sign(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        signed = acknowledge.sign(uow.session, actor=actor, at=_now(args), assignment_ids=args.assignment)
        uow.commit()
    for s in signed:
        when = local_text(s.acknowledged_at)
        output.out(f"任务 {s.assignment_id}：{'此前已签收' if s.already else '已签收'}（{s.acknowledged_by}，{when}）")
    return 0


def cmd_extension_request(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        r = extensions.request_extension(
            uow.session,
            actor=actor,
            at=_now(args),
            assignment_id=args.assignment,
            until=args.until,
            reason=args.reason,
        )
        uow.commit()
    output.out(f"申请编号：{r.id}")
    output.out(f"任务 {r.assignment_id}「{r.title}」申请延至 {r.asked_until}（当前截止 {r.due_before}），等待审批")
    return 0


def cmd_extension_decide(args: argparse.Namespace) -> int:
    if args.reject and args.until is not None:
        raise Invalid("驳回时不需要 --until")
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        r = extensions.decide_extension(
            uow.session,
            actor=actor,
            at=_now(args),
            request_id=args.request,
            approve=bool(args.approve),
            reason=args.reason,
            until=args.until,
        )
        uow.commit()
    if r.approved_until is not None:
        output.out(f"申请 {r.id} 已批准：任务 {r.assignment_id} 截止日期 {r.due_before} → {r.approved_until}")
    else:
        output.out(f"申请 {r.id} 已驳回：任务 {r.assignment_id} 截止日期仍为 {r.due_before}")
    return 0


def cmd_extension_list(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rows = extensions.list_extensions(uow.session, actor=actor, campaign_code=args.campaign, at=_now(args))
    output.out(
        output.table(
            ["申请编号", "部门", "任务", "原定截止", "申请延至", "批准延至", "状态"],
            [
                (
                    r.id,
                    r.department_name,
                    f"{r.title}（{r.period}）" if r.period else r.title,
                    r.original_due_on,
                    r.asked_until,
                    r.approved_until or "",
                    r.state_label,
                )
                for r in rows
            ],
            numeric_from=99,
        )
    )
    output.out(f"共 {len(rows)} 份延期申请")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        a = sub.withdraw(uow.session, actor=actor, at=_now(args), assignment_id=args.assignment)
        uow.commit()
    output.out(f"已撤回任务 {a.id}「{a.title}」的报送，任务现为「{ASSIGNMENT.label(a.status)}」")
    return 0


def cmd_urge(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        result = urging.urge(
            uow.session,
            actor=actor,
            at=_now(args),
            campaign_code=args.campaign,
            assignment_id=args.assignment,
            department_code=args.department,
            all_overdue=bool(args.all_overdue),
            message=args.message,
        )
        uow.commit()
    output.out(
        f"已催办 {len(result.urged)} 项任务" + (f"：{'、'.join(map(str, result.urged))}" if result.urged else "")
    )
    if result.already:
        output.out(f"（{len(result.already)} 项在本次命令中已催办过，未重复发送）")
    return 0
