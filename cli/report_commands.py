"""report, narrative, import, template, export: the monthly reports and the exchange files.

The acting user is named as in cli.work_commands: `--as 用户名` (or CAMPAIGN_USER), password from
CAMPAIGN_PASSWORD or the prompt. `template` needs no user (a blank form carries no data). Every
command works on `args.settings` (cli.main): its database, its clock, its reports directory.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from cli import output
from cli.main import existing_file
from cli.work_commands import _add_actor, _login
from domain.errors import Invalid
from services import exports
from services.imports import import_file, template, template_filename
from services.reports import chart_export, get_narrative, render_report, save_narrative
from store.uow import UnitOfWork

KIND_HELP = "departments（部门）/ users（用户）/ projects（监管项目）/ leads（线索）"
SECTIONS = {
    "practices": "开展情况和主要做法",
    "problems": "发现的问题及处理情况",
    "experience": "可复制推广的典型经验",
    "next_steps": "下一步工作打算和意见建议",
}


def _period(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text or ""):
        raise argparse.ArgumentTypeError(f"报告期 {text!r} 格式不对，应为 YYYY-MM（例如 2020-06）")
    return text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="生成月度报告（.docx 报告 + .xlsx 附表）：部门报告，或不指定部门时的全区汇总报告")
    p.add_argument("--campaign", required=True, help="专项行动编号")
    p.add_argument("--period", required=True, type=_period, help="报告期 YYYY-MM，例如 2020-06")
    p.add_argument("--department", help="部门代码（不填：牵头办公室的全区汇总报告）")
    p.add_argument("--out", type=Path, help="输出目录（默认：配置的报告目录，data/reports）")
    _add_actor(p)
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("narrative", help="查看或填写月度报告的文字部分（四个部分；数字由系统统计，不能填写）")
    p.add_argument("--campaign", required=True)
    p.add_argument("--period", required=True, type=_period)
    p.add_argument("--department", help="部门代码（不填：全区汇总报告）")
    p.add_argument(
        "--section",
        choices=sorted(SECTIONS),
        help="要填写的部分：" + "；".join(f"{k} {v}" for k, v in SECTIONS.items()),
    )
    p.add_argument("--file", type=existing_file, help="该部分的文字（UTF-8 文本文件）；不填 --section/--file 则只显示")
    _add_actor(p)
    p.set_defaults(handler=cmd_narrative)

    p = sub.add_parser(
        "import", help="从 .xlsx / .csv 导入部门、用户、监管项目或线索；有任何错误行则整个文件不导入，并列出每一行"
    )
    p.add_argument("kind", choices=["departments", "users", "projects", "leads"], help=KIND_HELP)
    p.add_argument("path", type=existing_file)
    p.add_argument("--campaign", required=True)
    p.add_argument("--sheet", help="工作表名称（默认：第一个不是“说明”的工作表）")
    p.add_argument("--yaml-out", type=Path, help="导入部门时：把更新后的专项行动 YAML 写到这个文件（可覆盖原 YAML）")
    _add_actor(p)
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("template", help="下载空白导入模板（.xlsx，含填写说明和下拉选项）")
    p.add_argument("kind", choices=["departments", "users", "projects", "leads"], help=KIND_HELP)
    p.add_argument("--out", type=Path, help="保存为（默认：当前目录下的“…导入模板.xlsx”）")
    p.set_defaults(handler=cmd_template)

    exp = sub.add_parser("export", help="导出 Excel：整改台账（含销号过程）、线索台账、监管项目").add_subparsers(
        dest="export_command", required=True
    )
    for name, text in (
        ("ledger", "整改台账：每个问题一行，含完整销号过程"),
        ("leads", "线索台账"),
        ("projects", "监管项目台账"),
    ):
        p = exp.add_parser(name, help=text)
        p.add_argument("--campaign", required=True)
        p.add_argument("--department", help="只导出某个部门（责任部门只能导出本部门）")
        p.add_argument("--out", type=Path, help="保存为（默认：当前目录）")
        _add_actor(p)
        p.set_defaults(handler=cmd_export, export_kind=name)


def _uow(args: argparse.Namespace) -> UnitOfWork:
    return UnitOfWork(args.settings.db_url)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def cmd_report(args: argparse.Namespace) -> int:
    settings = args.settings
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rendered = render_report(
            uow.session,
            actor=actor,
            campaign_code=args.campaign,
            period=args.period,
            department_code=args.department,
            at=settings.now(),
            export=chart_export(settings),
        )
    out = args.out or settings.reports_path
    docx = _write(out / f"{rendered.filename_stem}.docx", rendered.docx)
    xlsx = _write(out / f"{rendered.filename_stem}.xlsx", rendered.xlsx)
    output.out(f"已生成报告：{docx}")
    output.out(f"已生成附表：{xlsx}")
    return 0


def cmd_narrative(args: argparse.Namespace) -> int:
    if bool(args.section) != bool(args.file):
        raise Invalid("填写时 --section 和 --file 需同时给出")
    now = args.settings.now()
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        current = get_narrative(
            uow.session,
            actor=actor,
            campaign_code=args.campaign,
            period=args.period,
            department_code=args.department,
            at=now,
        )
        if args.section:
            try:
                text = args.file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise Invalid(f"{args.file} 不是 UTF-8 编码的文本文件") from None
            narrative = current.narrative.model_copy(update={args.section: text})
            current = save_narrative(
                uow.session,
                actor=actor,
                at=now,
                campaign_code=args.campaign,
                period=args.period,
                department_code=args.department,
                narrative=narrative,
                expected_version=current.version,
            )
            uow.commit()
            output.out(f"已保存「{SECTIONS[args.section]}」（第 {current.version} 版）")
            return 0
    for key, heading in SECTIONS.items():
        output.out(f"【{heading}】")
        output.out(getattr(current.narrative, key) or "（未填写）")
    if current.version:
        output.out(f"（第 {current.version} 版，{current.updated_by} 保存）")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    if args.yaml_out and args.kind != "departments":
        raise Invalid("--yaml-out 只用于导入部门")
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        report = import_file(
            uow.session,
            actor=actor,
            at=args.settings.now(),
            campaign_code=args.campaign,
            kind=args.kind,
            data=args.path,
            filename=args.path.name,
            sheet=args.sheet,
        )
        uow.commit()
    for line in report.lines():
        output.out(line)
    if report.passwords:
        output.out("以下新用户未填写初始密码，已生成（只显示这一次，请转交本人并提醒修改）：")
        output.out(output.table(["用户名", "初始密码"], sorted(report.passwords.items()), numeric_from=99))
    if report.spec_yaml is not None:
        if args.yaml_out:
            _write(args.yaml_out, report.spec_yaml.encode("utf-8"))
            output.out(f"已写出更新后的专项行动 YAML：{args.yaml_out}")
        else:
            output.out(
                "提示：部门已写入数据库中的专项行动配置。请用 --yaml-out 文件.yaml 保存更新后的 YAML，"
                "否则下次用旧 YAML 执行 campaign launch 会把新导入的部门移出。"
            )
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    path = _write(args.out or Path(template_filename(args.kind)), template(args.kind))
    output.out(f"已保存空白模板：{path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    build = {"ledger": exports.ledger_xlsx, "leads": exports.leads_xlsx, "projects": exports.projects_xlsx}
    names = {"ledger": "整改台账", "leads": "线索台账", "projects": "监管项目"}
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        data = build[args.export_kind](
            uow.session,
            actor=actor,
            campaign_code=args.campaign,
            department_code=args.department,
            at=args.settings.now(),
        )
    suffix = f"-{args.department}" if args.department else ""
    path = _write(args.out or Path(f"{names[args.export_kind]}-{args.campaign}{suffix}.xlsx"), data)
    output.out(f"已导出：{path}")
    return 0
