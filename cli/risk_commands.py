"""risk, credit, bids: the red-flag screening of the bid register (issue 14).

    campaign bids import PATH --campaign ID        the 公共资源交易平台 export (.xlsx/.csv), all or nothing
    campaign bids template [--out PATH]            the blank template with its 说明 sheet
    campaign risk scan --campaign ID               flags per project, summary per rule; new 预警 become leads
    campaign risk flags --campaign ID              the latest scan's flags (a department sees its own)
    campaign risk network --campaign ID            the collusion groups
    campaign risk hits --campaign ID               hit rate per rule (查实 incl. 部分属实 / 已办结)
    campaign credit list --campaign ID [--blacklist] [--export PATH]
    campaign credit refresh --campaign ID          record the credit the records call for

The acting user is named as in cli.work_commands (`--as`, CAMPAIGN_USER, CAMPAIGN_PASSWORD). Errors are
UserErrors: cli.main prints them in Chinese and exits 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli import output
from cli.main import existing_file
from cli.work_commands import _add_actor, _login, _now, _uow, import_register_file
from domain.credit import ENTITY_KIND
from domain.lead import LEAD, LeadStatus
from exchange.bids import template_xlsx
from services.credit import blacklist_xlsx, list_credit, refresh_credit
from services.risk.register import import_bids
from services.risk.screening import collusion_network, hit_rates, list_flags, scan_campaign

TEMPLATE_NAME = "投标记录导入模板.xlsx"


def register(sub: argparse._SubParsersAction) -> None:
    bids = sub.add_parser("bids", help="投标记录（公共资源交易平台导出）：import / template").add_subparsers(
        dest="bids_command", required=True
    )
    p = bids.add_parser("import", help="导入投标记录（.xlsx / .csv，UTF-8 或 GBK）；有任何错误行则整个文件不导入")
    p.add_argument("path", type=existing_file)
    p.add_argument("--campaign", required=True, help="专项行动编号")
    _add_actor(p)
    p.set_defaults(handler=cmd_bids_import)
    p = bids.add_parser("template", help="输出投标记录导入模板（含说明工作表）")
    p.add_argument("--out", type=Path, default=Path(TEMPLATE_NAME), help=f"输出文件（默认 {TEMPLATE_NAME}）")
    p.set_defaults(handler=cmd_bids_template, no_store=True)

    risk = sub.add_parser("risk", help="大数据预警：scan / flags / network / hits").add_subparsers(
        dest="risk_command", required=True
    )
    for name, handler, text in (
        ("scan", cmd_risk_scan, "运行预警筛查：逐项目列出预警、按规则汇总，新的预警项目转为线索交办（牵头办公室）"),
        ("flags", cmd_risk_flags, "列出最近一次筛查的预警项目（责任部门只看本部门）"),
        ("network", cmd_risk_network, "列出关联企业群（共用 IP/MAC/文件/账户/人员）（牵头办公室、领导）"),
        ("hits", cmd_risk_hits, "各规则命中率：预警线索办结后查实（含部分属实）的比例（牵头办公室、领导）"),
    ):
        p = risk.add_parser(name, help=text)
        p.add_argument("--campaign", required=True, help="专项行动编号")
        if name == "flags":
            p.add_argument("--department", help="部门代码")
        _add_actor(p)
        p.set_defaults(handler=handler)

    credit = sub.add_parser("credit", help="量化记分与黑名单：list / refresh").add_subparsers(
        dest="credit_command", required=True
    )
    p = credit.add_parser("list", help="列出有记分的市场主体（--blacklist 只列黑名单）")
    p.add_argument("--campaign", required=True, help="专项行动编号")
    p.add_argument("--blacklist", action="store_true", help="只列黑名单（联合惩戒）")
    p.add_argument("--export", type=Path, help="把黑名单及其记分记录导出为 .xlsx")
    _add_actor(p)
    p.set_defaults(handler=cmd_credit_list)
    p = credit.add_parser("refresh", help="按已办结线索和问题台账更新量化记分（牵头办公室）")
    p.add_argument("--campaign", required=True, help="专项行动编号")
    _add_actor(p)
    p.set_defaults(handler=cmd_credit_refresh)


def cmd_bids_import(args: argparse.Namespace) -> int:
    return import_register_file(args, import_bids)


def cmd_bids_template(args: argparse.Namespace) -> int:
    args.out.write_bytes(template_xlsx())
    output.out(f"已生成模板 {args.out}")
    return 0


def cmd_risk_scan(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        report = scan_campaign(uow.session, actor=actor, at=_now(args), campaign_code=args.campaign)
        uow.commit()
    output.out(
        f"筛查 {report.projects} 个项目、{report.bids} 份投标：{report.flags} 条预警信息，"
        f"涉及 {report.flagged_projects} 个项目；"
        f"{report.groups} 个关联企业群；风险分达到 {report.alert_score:.0f} 的预警项目 {report.alerts} 个，"
        f"本次新转线索 {len(report.new_leads)} 条"
    )
    output.out("")
    output.out(
        output.table(
            ["项目编号", "部门", "风险分", "命中规则", "证据"],
            [
                (r.project_code, r.department_code, f"{r.score:.1f}", "、".join(r.rule_ids), r.flags[0].evidence)
                for r in report.risks
            ],
            numeric_from=2,
        )
    )
    output.out("")
    output.out(
        output.table(
            ["规则", "名称", "预警条数", "项目数", "依据"],
            [(s.rule_id, s.title, s.flags, s.projects, s.basis) for s in report.summary],
            numeric_from=2,
        )
    )
    return 0


def cmd_risk_flags(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rows = list_flags(
            uow.session, actor=actor, campaign_code=args.campaign, department_code=args.department, at=_now(args)
        )
    output.out(
        output.table(
            ["项目编号", "项目名称", "部门", "风险分", "命中规则", "线索"],
            [
                (
                    p.project_code,
                    p.project_name,
                    p.department_code,
                    f"{p.score:.1f}",
                    "、".join(p.rules),
                    p.lead_code or "",
                )
                for p in rows
            ],
            numeric_from=3,
        )
    )
    return 0


def cmd_risk_network(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        groups = collusion_network(uow.session, actor=actor, campaign_code=args.campaign, at=_now(args))
    output.out(f"关联企业群 {len(groups)} 个")
    for group in groups:
        output.out(group.describe())
    return 0


def cmd_risk_hits(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rates = hit_rates(uow.session, actor=actor, campaign_code=args.campaign, at=_now(args))
    output.out(
        output.table(
            ["规则", "名称", "预警项目", LEAD.label(LeadStatus.closed), "查实", "命中率"],
            [
                (r.rule_id, r.title, r.alerts, r.closed, r.confirmed, f"{r.rate:.0%}" if r.rate is not None else "—")
                for r in rates
            ],
            numeric_from=2,
        )
    )
    return 0


def cmd_credit_list(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        entries = list_credit(
            uow.session, actor=actor, campaign_code=args.campaign, blacklist_only=args.blacklist, at=_now(args)
        )
        data = (
            blacklist_xlsx(uow.session, actor=actor, campaign_code=args.campaign, at=_now(args))
            if args.export
            else None
        )
    output.out(
        output.table(
            ["类型", "名称", "代码", "有效记分", "信用状态", "专家评级", "记分记录"],
            [
                (
                    ENTITY_KIND.label(e.kind),
                    e.name,
                    e.code,
                    e.points,
                    e.standing_label,
                    (e.rating or "") + ("（暂停评标）" if e.suspended else ""),
                    "；".join(f"{r.source} {r.points:+d}" for r in e.records),
                )
                for e in entries
            ],
            numeric_from=3,
        )
    )
    if data is not None:
        args.export.write_bytes(data)
        output.out(f"黑名单已导出到 {args.export}")
    return 0


def cmd_credit_refresh(args: argparse.Namespace) -> int:
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        result = refresh_credit(uow.session, actor=actor, at=_now(args), campaign_code=args.campaign)
        uow.commit()
    output.out(f"新增记分记录 {result.new_events} 条；信用状态变化 {len(result.changes)} 个")
    for line in result.changes:
        output.out(f"  {line}")
    return 0
