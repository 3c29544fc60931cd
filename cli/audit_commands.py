"""`campaign audit verify`: check the audit chain against its key and its anchor, both kept outside
the database (see store.audit for where they live and Settings.audit_key_file / audit_anchor_file)."""

from __future__ import annotations

import argparse

from cli import output
from settings import Settings
from store import audit
from store.db import shared_engine
from store.uow import UnitOfWork

EXIT_TAMPERED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = subparsers.add_parser("audit", help="审计记录").add_subparsers(dest="audit_command", required=True)
    p = commands.add_parser(
        "verify",
        help="校验审计记录：发现被改动、删除、重排、重算或截掉末尾的记录（对照数据库之外的密钥和链头记录）",
    )
    p.add_argument("--expect", metavar="条数:哈希", help="另行记下的链头（校验时打印），作为链头记录之外的又一份对照")
    p.set_defaults(handler=cmd_audit_verify)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    settings: Settings = args.settings  # built by cli.main, which also checked the schema is current
    where = audit.configure(settings)
    with UnitOfWork(shared_engine(settings.db_url)) as uow:
        report = audit.verify(uow.session, args.expect)
    if report.ok:
        anchor = f"，其中 {report.anchored} 个链头与 {where.anchor_file} 对照一致" if where.anchor_file else ""
        output.out(f"审计记录完整：共 {report.entries} 条，校验码与链接全部通过{anchor}。")
        output.out(f"当前链头：{report.head}")
        return 0
    position = "末尾" if report.broken_at == 0 else f"第 {report.broken_at} 号记录"
    output.err(f"审计记录被改动：{position}校验失败——{report.reason}（已检查 {report.entries} 条）")
    return EXIT_TAMPERED
