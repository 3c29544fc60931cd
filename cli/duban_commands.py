"""批示, 督办单, 考核排名 (issue 13): the leader's instruction, the department's answer to a 督办单, the ranking.

    campaign instruct --campaign ID --department CODE [--assignment ID | --problem CODE | --report YYYY-MM]
                      --text TEXT [--due DATE]
    campaign duban list --campaign ID
    campaign duban respond --duban ID --text TEXT
    campaign duban review --duban ID…                  牵头办公室标记反馈已阅（离开待办）
    campaign score --campaign ID [--as-of DATE]        名次、单位、得分、灯（绿/黄/红）、说明

Acting user: `--as` (see cli.work_commands); a user's mistake is a message and exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt

from cli import output
from cli.main import parse_date
from cli.work_commands import _add_actor, _login, _now, _uow
from domain.localtime import local_day
from services import duban, instructions, scoring


def register(sub_parsers: argparse._SubParsersAction) -> None:
    p = sub_parsers.add_parser(
        "instruct", help="领导批示（领导、牵头办公室）：给了 --due 即交办为部门的新任务，否则为阅知批示"
    )
    p.add_argument("--campaign", required=True)
    p.add_argument("--department", required=True, metavar="CODE", help="批示所指的部门代码")
    on = p.add_mutually_exclusive_group()
    on.add_argument("--assignment", type=int, metavar="ID", help="批示针对的任务编号（可选）")
    on.add_argument("--problem", metavar="CODE", help="批示针对的整改问题编号（可选，须为该部门的问题）")
    on.add_argument("--report", metavar="YYYY-MM", help="批示针对该部门哪一期的月度报告（可选）")
    p.add_argument("--text", required=True, help="批示内容")
    p.add_argument("--due", type=parse_date, metavar="DATE", help="办理期限（YYYY-MM-DD）；给出即交办为任务")
    _add_actor(p)
    p.set_defaults(handler=cmd_instruct)

    db = sub_parsers.add_parser("duban", help="督办单：list 列表 / respond 反馈 / review 审阅").add_subparsers(
        dest="duban_command", required=True
    )
    p = db.add_parser("list", help="列出督办单（部门账号只见本部门）：编号、颜色、事项、责任单位、期限、反馈")
    p.add_argument("--campaign", required=True)
    _add_actor(p)
    p.set_defaults(handler=cmd_duban_list)
    p = db.add_parser("respond", help="反馈督办单（责任单位）")
    p.add_argument("--duban", type=int, required=True, metavar="ID", help="督办单的序号（list 第一列）")
    p.add_argument("--text", required=True, help="办理情况")
    _add_actor(p)
    p.set_defaults(handler=cmd_duban_respond)
    p = db.add_parser("review", help="审阅督办单反馈（牵头办公室）：标记已阅，反馈离开待办；几个序号一次审阅")
    p.add_argument(
        "--duban", type=int, nargs="+", required=True, metavar="ID", help="已反馈的督办单序号（list 第一列）"
    )
    _add_actor(p)
    p.set_defaults(handler=cmd_duban_review)

    p = sub_parsers.add_parser("score", help="考核排名（牵头办公室、领导）：按 YAML 的 scoring 规则从记录计算")
    p.add_argument("--campaign", required=True)
    p.add_argument("--as-of", type=parse_date, metavar="DATE", help="按哪一天的记录计算（默认：最近一次推进的日期）")
    _add_actor(p)
    p.set_defaults(handler=cmd_score)


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def cmd_instruct(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        done = instructions.instruct(
            uow.session,
            actor=actor,
            at=_now(args),
            campaign_code=args.campaign,
            department_code=args.department,
            assignment_id=args.assignment,
            problem_code=args.problem,
            report_period=args.report,
            text=args.text,
            due_on=args.due,
        )
        uow.commit()
    output.out(f"批示编号：{done.seq}")
    if done.task_assignment_id is not None:
        output.out(f"已交办 {done.department_name}：任务编号 {done.task_assignment_id}，办理期限 {_day(done.due_on)}")
    else:
        output.out(f"已送 {done.department_name} 阅知（未要求办理，部门回复后可在看板“批示”页查看）")
    return 0


def cmd_duban_list(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rows = duban.list_dubans(uow.session, actor=actor, campaign_code=args.campaign, at=_now(args))
    output.out(
        output.table(
            [
                "序号",
                "督办单编号",
                "颜色",
                "督办事项",
                "责任单位",
                "原定期限",
                "逾期工作日",
                "反馈期限",
                "状态",
                "反馈",
            ],
            [
                (
                    d.id,
                    d.number,
                    d.colour_label,
                    d.matter,
                    d.department_name,
                    _day(d.original_due_on) + (f"（延至 {d.due_on}）" if d.due_on != d.original_due_on else ""),
                    d.overdue_days,
                    _day(d.respond_due_on),
                    d.state_label,
                    (d.answer or "")[:40],
                )
                for d in rows
            ],
            numeric_from=99,
        )
    )
    return 0


def cmd_duban_respond(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        at = _now(args)
        done = duban.respond(uow.session, actor=actor, at=at, duban_id=args.duban, text=args.text)
        uow.commit()
    late = "（已过反馈期限）" if local_day(at) > done.respond_due_on else ""
    output.out(f"已反馈督办单 {done.number}{late}")
    return 0


def cmd_duban_review(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        done = duban.review_many(uow.session, actor=actor, at=_now(args), duban_ids=args.duban)
        uow.commit()
    for d in done:
        output.out(f"已审阅督办单 {d.number}（{d.department_name}）的反馈")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        day, rows = scoring.ranking(
            uow.session, actor=actor, campaign_code=args.campaign, as_of=args.as_of, at=_now(args)
        )
    output.out(f"考核排名（{args.campaign}，截至 {day}）")
    output.out(
        output.table(
            ["名次", "单位", "得分", "灯", "说明"],
            [(r.rank, r.department_name, f"{r.score:g}", r.light_label, "；".join(r.reasons)) for r in rows],
            numeric_from=99,
        )
    )
    return 0
