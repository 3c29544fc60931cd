"""validate, schema, plan, db, launch, tick, status, simulate, demo, dashboard.

Every handler works on `args.settings` (built once by cli.main). Flows are imported inside the
handlers that run them: importing Prefect costs seconds that validate, plan or status need not pay.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
from pathlib import Path

from cli import output
from cli.main import existing_file, parse_date, require_current_store, upgrade_store
from dashboard import launcher
from domain.access import ROLE, SYSTEM, Role
from domain.assignment import ASSIGNMENT, AssignmentStatus
from domain.errors import Invalid, NotFound
from domain.plan import PlannedAssignment, build_plan
from domain.spec import PHASE_KIND, CampaignSpec
from services.campaigns import get_campaign, list_campaign_codes, stored_spec
from services.delivery import deliver_in_app
from services.holidays import campaign_calendar
from services.spec_files import SpecInvalid, json_schema, load_spec
from services.status import department_status, extended_deadlines, latest_rollup_day
from services.users import add_user, list_users
from settings import Settings
from store import audit
from store.db import describe
from store.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "campaigns" / "yanjiang-2020.yaml"
DEMO_DB = Path("data/demo.db")  # under the directory the demo is run from
DEMO_AS_OF = dt.date(2020, 7, 15)
DEMO_PASSWORD = "demo-pass-2020"
PLAN_DEPARTMENTS_SHOWN = 20  # each department is a table of its own


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="校验专项行动 YAML（出错时给出 文件:行:列）")
    p.add_argument("paths", nargs="+", type=Path)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("schema", help="输出专项行动 YAML 的 JSON Schema（供编辑器补全）")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("plan", help="按部门列出全部任务及截止日期（已按工作日调整）")
    p.add_argument("path", type=existing_file)
    p.add_argument("--department", help="只看某个部门（代码）")
    p.add_argument("--all", action="store_true", help=f"列出全部部门（默认只列前 {PLAN_DEPARTMENTS_SHOWN} 个）")
    p.set_defaults(handler=cmd_plan)

    db = sub.add_parser("db", help="数据库结构：upgrade（升级到本程序的版本）").add_subparsers(
        dest="db_command", required=True
    )
    p = db.add_parser("upgrade", help="把数据库结构升级到本程序的版本（launch、demo、serve 会先自动执行）")
    p.set_defaults(handler=cmd_db_upgrade)

    p = sub.add_parser("launch", help="启动专项行动，或把修改后的 YAML 应用到进行中的专项行动")
    p.add_argument("path", type=existing_file)
    p.add_argument("--dry-run", action="store_true", help="只显示将发生的变更，不写入")
    p.set_defaults(handler=cmd_launch)

    p = sub.add_parser("tick", help="把专项行动推进到某一天（开启阶段、生成任务、标记逾期、提醒、升级、汇总）")
    p.add_argument("--campaign", help="专项行动编号（默认：全部）")
    p.add_argument("--as-of", type=parse_date, help="日期 YYYY-MM-DD（默认：今天，北京时间）")
    p.set_defaults(handler=cmd_tick)

    p = sub.add_parser("status", help="按部门显示进度汇总")
    p.add_argument("--campaign", help="专项行动编号（默认：全部）")
    p.add_argument("--as-of", type=parse_date, help="日期（默认：最近一次汇总）")
    p.add_argument("--all", action="store_true", help=f"列出全部部门（默认只列前 {output.ROWS_SHOWN} 个）")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("simulate", help="启动并逐日推进专项行动，用带种子的部门行为模型模拟提交与审核")
    p.add_argument("path", type=existing_file)
    p.add_argument("--until", type=parse_date, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scratch", action="store_true", help="使用临时数据库（不写入配置的数据库）")
    p.set_defaults(handler=cmd_simulate)

    p = sub.add_parser("demo", help="演示：载入雁江区示例，模拟到专项行动中期，打印进度并打开看板")
    p.add_argument("--no-dashboard", action="store_true", help="只模拟和打印，不启动看板")
    p.add_argument("--fresh", action="store_true", help="重新生成演示数据库（默认沿用上次的，看板里做的操作都保留）")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser(
        "dashboard",
        help="在配置的数据库上启动看板（未配置数据库且默认数据库不存在时，打开 campaign demo 的演示数据库）",
    )
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(handler=cmd_dashboard)


# --- helpers ---------------------------------------------------------------------------------


def _campaign_codes(settings: Settings, selected: str | None) -> list[str]:

    with UnitOfWork(settings.db_url) as uow:
        if selected:
            get_campaign(uow.session, selected)  # a clear error for an unknown code
            return [selected]
        codes = list_campaign_codes(uow.session)
    if not codes:
        raise NotFound("数据库中还没有专项行动（先运行 `campaign launch 文件.yaml`）")
    return codes


# --- commands --------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:

    failed = 0
    for path in args.paths:
        try:
            spec = load_spec(path)
        except SpecInvalid as exc:
            failed += 1
            for problem in exc.problems:
                output.err(str(problem))
            continue
        output.out(f"{path}: 通过（{spec.title}，{len(spec.departments)} 个部门，{len(spec.phases)} 个阶段）")
    return output.EXIT_BAD_INPUT if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:

    output.out(json_schema())
    return 0


def cmd_plan(args: argparse.Namespace) -> int:

    spec = load_spec(args.path)
    cal = campaign_calendar(spec)
    plan = build_plan(spec, cal)
    titles = {t.key: t.title for t in plan.templates}
    output.out(f"{spec.title}（{spec.start} ～ {spec.end}）")
    for phase in spec.phases:
        output.out(f"  阶段 {phase.label}［{PHASE_KIND.label(phase.kind)}］{phase.start} ～ {phase.end}")
    by_department: dict[str, list[PlannedAssignment]] = {}
    for a in plan.assignments:  # one pass: a national plan has ~1M assignments
        by_department.setdefault(a.department_code, []).append(a)
    listed = [d for d in spec.departments if by_department.get(d.code) and args.department in (None, d.code)]
    shown = listed if args.all or args.department else listed[:PLAN_DEPARTMENTS_SHOWN]
    for dept in shown:
        mine = by_department[dept.code]
        output.out(f"\n{dept.name}（{dept.code}）共 {len(mine)} 项")
        rows = []
        for a in mine:
            note = ""
            if a.nominal_due_on != a.due_on:
                why = cal.holiday_name(a.nominal_due_on) or "周末"
                note = f"原定 {a.nominal_due_on}（{why}）顺延"
            rows.append(
                [
                    a.due_on.isoformat(),
                    titles[a.template_key] + (f"［{a.period}］" if a.period else ""),
                    "牵头" if a.is_lead else "",
                    note,
                ]
            )
        output.out(output.table(["截止日期", "任务", "角色", "说明"], rows, numeric_from=99))
    if len(shown) < len(listed):
        output.out(
            f"\n……共 {len(listed):,} 个部门，只列出前 {len(shown)} 个（--department 代码 看某个部门，--all 看全部）"
        )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:

    settings: Settings = args.settings
    before, after = upgrade_store(settings)
    output.out(
        f"数据库 {describe(settings.db_url)}：结构版本 {before or '（空库）'} → {after}"
        + ("（已是最新）" if before == after else "")
    )
    return 0


def cmd_launch(args: argparse.Namespace) -> int:
    from flows.entries import run_launch  # the services it needs; Prefect only when a flow runs

    spec = load_spec(args.path)
    report = run_launch(
        spec, settings_or_db_url=args.settings, actor=SYSTEM, source_path=str(args.path), dry_run=args.dry_run
    )
    for line in report.lines():
        output.out(line)
    if args.dry_run and not report.unchanged:
        output.out("（试运行：未写入数据库）")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from flows.entries import run_tick  # the services it needs; Prefect only when a flow runs

    settings: Settings = args.settings
    as_of = args.as_of or settings.today()
    for code in _campaign_codes(settings, args.campaign):
        summary = run_tick(code, as_of, settings_or_db_url=settings, actor=SYSTEM)
        c = summary.counts
        output.out(
            f"{code} 推进到 {as_of}：开启任务 {c.opened}，逾期更新 {c.overdue_updated}，"
            f"新升级 {c.escalations}，新提醒 {c.reminders}"
            + ("（自上次推进到这一天以来没有新的记录，各项不变）" if summary.unchanged else "")
        )
    return 0


def print_status(settings: Settings, code: str, as_of: dt.date | None, *, everything: bool = False) -> None:
    """The progress table of the latest rollup on or before `as_of`: the first ROWS_SHOWN departments
    unless `everything`."""

    with UnitOfWork(settings.db_url) as uow:
        day = latest_rollup_day(uow.session, code, as_of)
        if day is None:
            output.out(f"{code}：还没有汇总（先运行 `campaign tick`）")
            return
        rows = department_status(uow.session, code, day)
        extended = extended_deadlines(uow.session, code)
        levels = {0: ""} | {rung.level: rung.name for rung in stored_spec(get_campaign(uow.session, code)).escalation}
    output.out(f"\n{code} 截至 {day} 的进度")
    output.out(
        output.table(
            [
                "部门",
                "已布置",
                "已提交",
                ASSIGNMENT.label(AssignmentStatus.accepted),
                "按时",
                "逾期",
                "升级",
                "完成率",
                "状态",
                "问题 未销号/已销号",
                "抽查 已抽/监管",
                "线索 在办/办结",
            ],
            [
                [
                    r.department_name,
                    r.counts.assigned,
                    r.counts.submitted,
                    r.counts.accepted,
                    r.counts.on_time,
                    r.counts.overdue,
                    levels.get(r.counts.escalation_level, str(r.counts.escalation_level)),
                    f"{r.completion:.0%}",
                    r.grade.value,
                    f"{r.problems_open}/{r.problems_closed}",
                    f"{r.projects_sampled}/{r.projects_supervised}",
                    f"{r.leads_open}/{r.leads_closed}",
                ]
                for r in rows
            ],
            limit=None if everything else output.ROWS_SHOWN,
            more_hint="加 --all 显示全部",
        )
    )
    if extended:  # an approved extension keeps the original deadline on record
        output.out("\n已批准延期的任务")
        output.out(
            output.table(
                ["部门", "任务", "期次", "原定期限", "截止"],
                [[e.department_name, e.title, e.period, e.original_due_on, e.due_on] for e in extended],
                numeric_from=3,
                limit=None if everything else output.ROWS_SHOWN,
                more_hint="加 --all 显示全部",
            )
        )


def cmd_status(args: argparse.Namespace) -> int:
    for code in _campaign_codes(args.settings, args.campaign):
        print_status(args.settings, code, args.as_of, everything=args.all)
    return 0


def run_simulation(settings: Settings, path: Path, until: dt.date, seed: int) -> str:
    """Launch into the settings' database (migrated first) and simulate day by day in one flow
    run; returns the campaign code."""
    from flows.campaign_flows import simulate  # imports Prefect: only the commands that run flows
    from flows.entries import run_launch
    from flows.runtime import embedded_engine

    spec = load_spec(path)
    if not spec.start <= until:
        raise Invalid(f"--until {until} 早于专项行动开始日期 {spec.start}")
    until = min(until, spec.end)
    upgrade_store(settings, output.err)
    for line in run_launch(spec, settings_or_db_url=settings, actor=SYSTEM, source_path=str(path)).lines():
        output.out(line)
    progress = output.Progress((until - spec.start).days + 1, "模拟推进")
    with embedded_engine():
        t = simulate(
            spec.id, spec.start, until, seed, settings.db_url, on_day=lambda day: progress.step(day.isoformat())
        )
    progress.close()
    output.out(
        f"模拟 {spec.start} ～ {until}：部门提交 {t.submitted} 次，办公室通过 {t.accepted} 项，退回 {t.returned} 项；"
        f"导入监管项目 {t.projects} 个，发现问题 {t.problems_found} 个、销号 {t.problems_closed} 个；"
        # the intake counts the simulated reports only; 预警 leads come from the screening and are closed here too
        f"受理线索 {t.leads_received} 条（不含大数据预警线索）、办结线索 {t.leads_closed} 条（含大数据预警线索）"
    )
    return spec.id


def cmd_simulate(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if args.scratch:
        scratch = Path(tempfile.mkdtemp(prefix="campaign-sim-")) / "simulate.db"
        settings = settings.model_copy(update={"database_url": f"sqlite:///{scratch.as_posix()}"})
        output.out(f"临时数据库：{scratch}")
    code = run_simulation(settings, args.path, args.until, args.seed)
    print_status(settings, code, args.until)
    return 0


def _demo_people(spec: CampaignSpec) -> list[tuple[str, str, Role, str | None]]:
    """The demo's accounts: the office, a leader and one liaison per department (password DEMO_PASSWORD)."""
    people: list[tuple[str, str, Role, str | None]] = [
        ("office", "联席办 王主任", Role.office, None),
        ("leader", "分管区领导 李区长", Role.leader, None),
    ]
    return people + [
        (f"dept-{d.code}", f"{d.name}联络员", Role.department, d.code)
        for d in spec.departments
        if d.code != spec.office
    ]


def create_demo_users(settings: Settings, campaign_code: str) -> list[tuple[str, str, str]]:
    created = []
    at = settings.now()
    with UnitOfWork(settings.db_url) as uow:
        people = _demo_people(stored_spec(get_campaign(uow.session, campaign_code)))
        for username, name, role, code in people:
            add_user(
                uow.session,
                actor=SYSTEM,
                at=at,
                username=username,
                display_name=name,
                role=role,
                department_code=code,
                email=None,
                password=DEMO_PASSWORD,
                campaign_code=campaign_code if code else None,
            )
            created.append((username, name, ROLE.label(role)))
        uow.commit()
    return created


def demo_settings(settings: Settings) -> Settings:
    """The demo's database and attachments, under the directory the demo is run from."""
    demo_db = DEMO_DB.resolve()  # absolute: the dashboard process runs from the project root
    return settings.model_copy(
        update={
            "database_url": f"sqlite:///{demo_db.as_posix()}",
            "attachment_dir": demo_db.parent / "attachments-demo",
        }
    )


def _demo_campaign(settings: Settings) -> str | None:
    """The campaign of an existing demo database, if it holds one."""
    with UnitOfWork(settings.db_url) as uow:
        codes = list_campaign_codes(uow.session)
    return codes[0] if codes else None


def _demo_accounts(settings: Settings, campaign_code: str) -> list[tuple[str, str, str]]:
    """The demo's accounts still enabled in an existing demo database, as they are now."""
    with UnitOfWork(settings.db_url) as uow:
        demo = {username for username, *_ in _demo_people(stored_spec(get_campaign(uow.session, campaign_code)))}
        users = list_users(uow.session, actor=SYSTEM)
    return [(u.username, u.display_name, ROLE.label(u.role)) for u in users if u.username in demo and not u.disabled]


def cmd_demo(args: argparse.Namespace) -> int:
    if not EXAMPLE.is_file():
        raise NotFound(f"找不到示例 {EXAMPLE}（请在项目根目录运行 campaign demo）")
    settings = demo_settings(args.settings)
    demo_db = DEMO_DB.resolve()
    code = None
    if demo_db.is_file() and not args.fresh:
        upgrade_store(settings)
        code = _demo_campaign(settings)
    if code is not None:
        output.out(f"沿用上次的演示数据库：{demo_db}（在看板中做的操作都在；要从头再来：`campaign demo --fresh`）")
        print_status(settings, code, DEMO_AS_OF)
        users = _demo_accounts(settings, code)
    else:
        demo_db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_db}{suffix}").unlink(missing_ok=True)
        if settings.attachments_path.exists():
            shutil.rmtree(settings.attachments_path)
        audit.discard_anchor(settings)  # the deleted database's chain heads would read as a cut tail
        output.out(f"演示数据库（重新生成）：{demo_db}")
        code = run_simulation(settings, EXAMPLE, DEMO_AS_OF, seed=7)
        print_status(settings, code, DEMO_AS_OF)
        users = create_demo_users(settings, code)
        with UnitOfWork(settings.db_url) as uow:  # the demo's accounts came after the ticks: their inboxes
            deliver_in_app(uow.session, campaign_code=code, day=DEMO_AS_OF, at=settings.now(), catch_up=True)
            uow.commit()
    output.out(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
    output.out(output.table(["用户名", "姓名", "角色"], [list(u) for u in users], numeric_from=99))
    if args.no_dashboard:
        return 0
    # The dashboard shows the campaign on the simulated day: the one clock override.
    return _start_dashboard(settings.model_copy(update={"as_of": DEMO_AS_OF}), args.port)


def _start_dashboard(settings: Settings, port: int) -> int:

    output.out(f"\n看板：http://localhost:{port}  （Ctrl+C 退出）")
    return launcher.run(settings, port)


def cmd_dashboard(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    default_db = Path(settings.data_dir / "campaign.db")
    if not settings.database_url and not default_db.is_file() and DEMO_DB.resolve().is_file():
        # Nothing configured and nothing launched: the user most likely wants the demo back.
        settings = demo_settings(settings)
        if settings.as_of is None:
            settings = settings.model_copy(update={"as_of": DEMO_AS_OF})
        output.out(f"未配置数据库，默认数据库 {default_db} 也不存在：打开演示数据库（模拟日期 {DEMO_AS_OF}）。")
        output.out("要打开其他数据库，用 --database-url 或 CAMPAIGN_DATABASE_URL 指定。")
    output.out(f"看板数据库：{describe(settings.db_url)}")
    require_current_store(settings)
    return _start_dashboard(settings, args.port)
