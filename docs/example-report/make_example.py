"""Regenerate the example monthly reports in this folder from the demo campaign.

    .venv/bin/python docs/example-report/make_example.py [--until 2020-07-27] [--department zjj]

Simulates config/campaigns/yanjiang-2020.yaml exactly as `campaign simulate` does (seeded
departments submitting, the office reviewing, the register, 整改台账 with 销号 and leads) into a
scratch SQLite database up to --until (default: Monday 2020-07-27, when the July rollup fell due —
the 25th was a Saturday). The simulated register holds only projects awarded in 2019, so the
office also imports two projects under tender in July 2020 and records one problem caught during
a tender (so 事中监管及整改台账 has a row). Then the department and the office write their narrative
sections, and the department's monthly report and the office rollup for the month of --until are
rendered (.docx + .xlsx annex) and converted to PDF with LibreOffice (soffice --headless).
Takes about a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

SPEC = ROOT / "config" / "campaigns" / "yanjiang-2020.yaml"

DEPARTMENT_TEXT = {
    "practices": "一是压实责任。局党组召开专题会议研究部署，"
    "成立由主要负责同志任组长的工作专班，明确各股室和下属单位职责分工。\n"
    "二是全面自查。对2019年1月以来本行业招标的全部项目逐一建立台账，"
    "对照规避招标、围标串标、弄虚作假等突出问题逐项排查。\n"
    "三是配合核查。按区联席会议办公室随机抽取的项目清单，组织资料核实和现场核查，做到抽查项目全覆盖。",
    "problems": "本期发现的问题已全部登记整改台账，明确责任人、整改措施和整改时限；"
    "对立行立改的问题当即督促整改，对限时整改的问题实行挂账销号。",
    "experience": "推行招标文件“双随机”抽查和评标报告复核机制，"
    "评标专家打分异常的项目一律复核，有效遏制了评标环节的随意性。",
    "next_steps": "一是继续跟踪未销号问题的整改进度，确保按期销号；"
    "二是配合公安机关做好围标串标线索的移交查处；三是建议区级层面统一招标文件示范文本。",
}
ROLLUP_TEXT = {
    "practices": "区联席会议办公室加强统筹协调，建立“周调度、"
    "月通报”工作机制，各成员单位按照实施方案要求有序推进系统治理工作。\n"
    "按不低于20%的比例对各行业监管项目开展随机抽查，抽查过程全程留痕，随机种子和抽查结果均可复核。",
    "problems": "各单位发现的问题均已纳入整改台账，实行销号管理；"
    "对逾期未报送材料的单位已按规定预警，对问题线索依法依规移交处理。",
    "experience": "住建、交通等部门推行招标文件事前审查和评标报告复核，做法可在全区推广。",
    "next_steps": "下一步将紧盯未销号问题和在办线索，开展“回头看”，"
    "防止问题反弹；建议市级层面加快推进电子招投标全流程监管平台建设。",
}


def in_tender(session, code: str, department: str, office, until: dt.date) -> None:  # noqa: ANN001
    """Two projects under tender this month, and a problem the regulator caught before the bid opening."""
    from services.imports import import_file
    from services.problems import record_problem

    tender = until.replace(day=15)
    register = (
        "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"
        f"{department.upper()}-2020-101,城区道路提升改造工程,{department},{tender},2860,,\n"
        f"{department.upper()}-2020-102,老旧小区改造配套工程,{department},{tender},1340,,\n"
    ).encode("gbk")
    found = until.replace(day=10)
    found_at = dt.datetime.combine(found, dt.time(2, 0), dt.UTC)
    import_file(
        session, actor=office, at=found_at, campaign_code=code, kind="projects", data=register, filename="在招项目.csv"
    )
    record_problem(
        session,
        actor=office,
        at=found_at,
        campaign_code=code,
        department_code=department,
        phase_key="verify",
        category="规避招标",
        description="招标文件设置与项目无关的业绩条件，排斥潜在投标人",
        handling_class="立行立改",
        deadline_on=found + dt.timedelta(days=5),
        found_on=found,
        project_code=f"{department.upper()}-2020-101",
        responsible_person="招标监管股负责人",
        measure="责令招标人修改招标文件并重新发布公告",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until", type=dt.date.fromisoformat, default=dt.date(2020, 7, 27))
    parser.add_argument("--department", default="zjj")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="example-report-"))
    from cli.campaign_commands import create_demo_users, run_simulation
    from exchange.reports import Narrative
    from services.reports import chart_export, render_report, save_narrative
    from services.users import actor_for
    from settings import load_settings
    from store.uow import UnitOfWork

    settings = load_settings(database_url=f"sqlite:///{scratch / 'example.db'}")
    code = run_simulation(settings, SPEC, args.until, args.seed)
    period = args.until.strftime("%Y-%m")
    at = dt.datetime.combine(args.until, dt.time(9, 0), dt.UTC)  # 17:00 Beijing time
    create_demo_users(settings, code)  # the demo's accounts: office, leader, dept-<code>
    with UnitOfWork(settings.db_url) as uow:
        department = actor_for(uow.session, f"dept-{args.department}")
        office = actor_for(uow.session, "office")
        in_tender(uow.session, code, args.department, office, args.until)
        save_narrative(
            uow.session,
            actor=department,
            at=at,
            campaign_code=code,
            period=period,
            department_code=args.department,
            narrative=Narrative(**DEPARTMENT_TEXT),
        )
        save_narrative(
            uow.session,
            actor=office,
            at=at,
            campaign_code=code,
            period=period,
            department_code=None,
            narrative=Narrative(**ROLLUP_TEXT),
        )
        uow.commit()
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    with UnitOfWork(settings.db_url) as uow:
        for scope in (args.department, None):
            rendered = render_report(
                uow.session,
                actor=office,
                campaign_code=code,
                period=period,
                department_code=scope,
                at=at,
                export=chart_export(settings),
            )
            for suffix, data in (("docx", rendered.docx), ("xlsx", rendered.xlsx)):
                path = args.out / f"{rendered.filename_stem}.{suffix}"
                path.write_bytes(data)
                written.append(path)
    for docx in [p for p in written if p.suffix == ".docx"]:
        subprocess.run(
            [
                shutil.which("soffice") or "soffice",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(args.out),
                str(docx),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        written.append(docx.with_suffix(".pdf"))
    shutil.rmtree(scratch, ignore_errors=True)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
