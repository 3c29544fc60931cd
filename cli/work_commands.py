"""user, projects, problems, leads.

Who is acting: `--as 用户名` (or the settings' `user`, CAMPAIGN_USER); the password comes from the
settings' `password` (CAMPAIGN_PASSWORD), or is asked for at the prompt. While the store has no
users at all, `user add` runs as the system so the first office account can be created.

Shared with the other command modules: `_add_actor(parser)`, `_uow(args)` (a unit of work on the
settings' database), `_login(session, args)` (the acting user) and `_now(args)` (the edge's clock).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from cli import output
from cli.main import existing_file
from domain.access import PERSON_ROLES, ROLE, SYSTEM, Role
from domain.errors import Invalid
from domain.lead import LEAD
from domain.problem import PROBLEM, ProblemStatus
from services.leads import lead_figures, list_leads
from services.problems import list_problems
from services.projects import import_projects, list_draws, list_projects, verify_draws
from services.users import add_user, authenticate, disable_user, list_users, set_password
from settings import Settings
from store.models import User
from store.uow import UnitOfWork

ACTOR_HELP = "以哪个用户身份执行（默认读取环境变量 CAMPAIGN_USER；密码读取 CAMPAIGN_PASSWORD，未设置时提示输入）"


def _now(args: argparse.Namespace) -> dt.datetime:
    """Now (aware UTC), from the settings: the CLI is an edge, where the clock is read."""
    settings: Settings = args.settings
    return settings.now()


def _add_actor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="as_user", metavar="用户名", help=ACTOR_HELP)


def _login(session, args: argparse.Namespace, *, bootstrap: bool = False):  # noqa: ANN001, ANN202

    if bootstrap and not session.scalar(select(func.count(User.id))):
        output.err("（尚无任何用户：以系统身份创建第一个账号）")
        return SYSTEM
    settings: Settings = args.settings
    username = args.as_user or settings.user
    if not username:
        raise Invalid("请用 --as 用户名 或环境变量 CAMPAIGN_USER 指定操作人")
    if settings.password is not None:
        password = settings.password.get_secret_value()
    else:
        if not sys.stdin.isatty():
            raise Invalid("请设置环境变量 CAMPAIGN_PASSWORD，或在终端中运行以输入密码")
        password = getpass.getpass(f"{username} 的密码：")
    actor = authenticate(session, username, password, at=_now(args))
    session.commit()  # keep a password rehash; the refusal of a failed login is committed by the service
    return actor


def register(sub: argparse._SubParsersAction) -> None:
    # --- user ------------------------------------------------------------------------------
    user = sub.add_parser("user", help="用户与角色：add / list / disable / passwd").add_subparsers(
        dest="user_command", required=True
    )
    p = user.add_parser("add", help="添加用户（牵头办公室）；密码读取 CAMPAIGN_NEW_PASSWORD，未设置时提示输入")
    p.add_argument("username")
    p.add_argument("--name", required=True, help="姓名（显示名）")
    p.add_argument(
        "--role",
        required=True,
        choices=sorted(r.value for r in PERSON_ROLES),
        help=" / ".join(f"{r.value} {ROLE.label(r)}" for r in PERSON_ROLES),
    )
    p.add_argument("--department", help="责任部门账号所属部门代码")
    p.add_argument("--email")
    _add_actor(p)
    p.set_defaults(handler=cmd_user_add)
    p = user.add_parser("list", help="列出用户（牵头办公室、领导）")
    _add_actor(p)
    p.set_defaults(handler=cmd_user_list)
    p = user.add_parser("disable", help="停用用户（牵头办公室）")
    p.add_argument("username")
    _add_actor(p)
    p.set_defaults(handler=cmd_user_disable)
    p = user.add_parser(
        "passwd", help="修改密码（本人，或由牵头办公室重置）；新密码读取 CAMPAIGN_NEW_PASSWORD 或提示输入"
    )
    p.add_argument("username")
    _add_actor(p)
    p.set_defaults(handler=cmd_user_passwd)

    # --- projects --------------------------------------------------------------------------
    proj = sub.add_parser("projects", help="监管项目台账与重点核查抽查").add_subparsers(
        dest="projects_command", required=True
    )
    p = proj.add_parser("import", help="导入项目台账（.xlsx / .csv）；有任何错误行则整个文件不导入，并列出每一行")
    p.add_argument("path", type=existing_file)
    p.add_argument("--campaign", required=True)
    _add_actor(p)
    p.set_defaults(handler=cmd_projects_import)
    p = proj.add_parser("list", help="列出监管项目")
    p.add_argument("--campaign", required=True)
    p.add_argument("--department")
    _add_actor(p)
    p.set_defaults(handler=cmd_projects_list)
    p = proj.add_parser("draws", help="列出各部门的抽查结果（含随机种子），并按种子复核")
    p.add_argument("--campaign", required=True)
    _add_actor(p)
    p.set_defaults(handler=cmd_projects_draws)

    # --- problems / leads ------------------------------------------------------------------
    p = sub.add_parser("problems", help="问题台账（整改台账）")
    p.add_argument("--campaign", required=True)
    p.add_argument("--department")
    p.add_argument(
        "--status",
        choices=[s.value for s in ProblemStatus],
        help=" / ".join(f"{s.value} {PROBLEM.label(s)}" for s in ProblemStatus),
    )
    _add_actor(p)
    p.set_defaults(handler=cmd_problems)

    leads = sub.add_parser("leads", help="线索与案件").add_subparsers(dest="leads_command", required=True)
    p = leads.add_parser("list", help="列出线索（举报人信息仅牵头办公室可见）")
    p.add_argument("--campaign", required=True)
    p.add_argument("--department")
    _add_actor(p)
    p.set_defaults(handler=cmd_leads_list)
    p = leads.add_parser(
        "figures", help="线索办理统计：受理、办结、查实（含部分属实）、涉及企业、处理人数、罚款（万元）"
    )
    p.add_argument("--campaign", required=True)
    p.add_argument("--department")
    _add_actor(p)
    p.set_defaults(handler=cmd_leads_figures)


def _new_password(args: argparse.Namespace) -> str:

    settings: Settings = args.settings
    if settings.new_password is not None:
        return settings.new_password.get_secret_value()
    if not sys.stdin.isatty():
        raise Invalid("请设置环境变量 CAMPAIGN_NEW_PASSWORD，或在终端中运行以输入新密码")
    first = getpass.getpass("新密码（至少 8 位）：")
    if getpass.getpass("再输入一次：") != first:
        raise Invalid("两次输入的密码不一致")
    return first


def _uow(args: argparse.Namespace):  # noqa: ANN202

    settings: Settings = args.settings
    return UnitOfWork(settings.db_url)


def cmd_user_add(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args, bootstrap=True)
        if actor is SYSTEM and args.role != Role.office.value:
            # Only the office administers users: a first account of any other role would lock everyone out.
            raise Invalid("数据库中还没有用户：第一个账号必须是牵头办公室（--role office），之后由它添加其他用户")
        u = add_user(
            uow.session,
            actor=actor,
            at=_now(args),
            username=args.username,
            display_name=args.name,
            role=args.role,
            department_code=args.department,
            email=args.email,
            password=_new_password(args),
        )
        uow.commit()
    output.out(
        f"已添加用户 {u.username}（{u.display_name}，{ROLE.label(u.role)}"
        f"{'，' + u.department_code if u.department_code else ''}）"
    )
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rows = list_users(uow.session, actor=actor, at=_now(args))
    output.out(
        output.table(
            ["用户名", "姓名", "角色", "部门", "邮箱", "状态"],
            [
                (
                    u.username,
                    u.display_name,
                    ROLE.label(u.role),
                    u.department_code or "",
                    u.email or "",
                    "已停用" if u.disabled else "正常",
                )
                for u in rows
            ],
            numeric_from=99,
        )
    )
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        disable_user(uow.session, actor=actor, at=_now(args), username=args.username)
        uow.commit()
    output.out(f"已停用用户 {args.username}")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        set_password(uow.session, actor=actor, at=_now(args), username=args.username, password=_new_password(args))
        uow.commit()
    output.out(f"已修改 {args.username} 的密码")
    return 0


def import_register_file(args: argparse.Namespace, importer: Callable[..., Any]) -> int:
    """`campaign projects import` and `campaign bids import`: one file into one campaign, as the
    logged-in user, in one transaction, then the importer's report lines."""
    with _uow(args) as uow:
        actor = _login(uow.session, args)
        report = importer(
            uow.session,
            actor=actor,
            at=_now(args),
            campaign_code=args.campaign,
            data=args.path,
            filename=args.path.name,
        )
        uow.commit()
    for line in report.lines():
        output.out(line)
    return 0


def cmd_projects_import(args: argparse.Namespace) -> int:
    return import_register_file(args, import_projects)


def cmd_projects_list(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rows = list_projects(
            uow.session, actor=actor, campaign_code=args.campaign, department_code=args.department, at=_now(args)
        )
    output.out(
        output.table(
            ["项目编号", "项目名称", "部门", "招标日期", "估算价（万元）", "中标人", "抽中"],
            [
                (
                    p.code,
                    p.name,
                    p.department_code,
                    p.tender_on or "",
                    p.amount_wan or "",
                    p.winner or "",
                    "是" if p.sampled else "",
                )
                for p in rows
            ],
            numeric_from=99,
        )
    )
    return 0


def cmd_projects_draws(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        draws = list_draws(uow.session, actor=actor, campaign_code=args.campaign)
        checks = (
            verify_draws(uow.session, actor=actor, campaign_code=args.campaign)
            if actor.role in (Role.office, Role.leader)
            else [None] * len(draws)
        )
    output.out(
        output.table(
            ["部门", "轮次", "种子", "最低比例", "项目数", "本轮抽中", "累计比例", "复核", "本轮抽中项目"],
            [
                (
                    d.department_code,
                    d.round,
                    d.seed,
                    f"{d.min_ratio:.0%}",
                    d.population,
                    len(d.sampled_codes),
                    f"{d.ratio:.1%}",
                    ("" if check is None else "一致" if check[1] else "不一致"),
                    "、".join(d.sampled_codes),
                )
                for d, check in zip(draws, checks, strict=True)
            ],
            numeric_from=99,
        )
    )
    return 0


def cmd_problems(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rows = list_problems(
            uow.session,
            actor=actor,
            campaign_code=args.campaign,
            department_code=args.department,
            status=args.status,
            at=_now(args),
        )
    output.out(
        output.table(
            ["编号", "部门", "类别", "整改方式", "时限", "状态", "反弹", "问题"],
            [
                (
                    p.code,
                    p.department_code,
                    p.category,
                    p.handling_class,
                    p.deadline_on,
                    PROBLEM.label(p.status),
                    "是" if p.rebound else "",
                    p.description[:30],
                )
                for p in rows
            ],
            numeric_from=99,
        )
    )
    return 0


def cmd_leads_list(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        rows = list_leads(
            uow.session, actor=actor, campaign_code=args.campaign, department_code=args.department, at=_now(args)
        )
    output.out(
        output.table(
            ["编号", "来源", "收到", "承办部门", "时限", "状态", "结果", "举报人"],
            [
                (
                    x.code,
                    x.source,
                    x.received_on,
                    x.department_code or "",
                    x.due_on or "",
                    LEAD.label(x.status),
                    x.outcome or "",
                    x.reporter_name or ("（保密）" if actor.role != Role.office else ""),
                )
                for x in rows
            ],
            numeric_from=99,
        )
    )
    return 0


def cmd_leads_figures(args: argparse.Namespace) -> int:

    with _uow(args) as uow:
        actor = _login(uow.session, args)
        f = lead_figures(
            uow.session, actor=actor, campaign_code=args.campaign, department_code=args.department, at=_now(args)
        )
    output.out(
        f"受理线索 {f.received} 件，办结 {f.closed} 件（查实 {f.substantiated} 件，含部分属实），"
        f"涉及企业 {f.enterprises_involved} 家，处理人员 {f.people_dealt_with} 人，罚款 {f.fine_wan} 万元"
    )
    return 0
