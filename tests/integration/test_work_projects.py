"""Project register import (all or nothing, every bad row named) and verification sampling."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from sqlalchemy import func, select

from domain import sampling
from domain.access import Forbidden
from domain.errors import Invalid, RowsRejected
from services import projects as pj
from services import submissions as sub
from services.ticking import write_rollup
from store.models import Assignment, Department, Project, RollupSnapshot, SampleDraw

UTC = dt.UTC
AT = dt.datetime(2020, 6, 15, 2, tzinfo=UTC)
HEADER = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"


def _csv(n_by_dept: dict[str, int]) -> bytes:
    lines = [HEADER]
    for dept, n in n_by_dept.items():
        for i in range(1, n + 1):
            lines.append(
                f"{dept.upper()}-2020-{i:03d},{dept}项目{i},{dept},2020-03-{(i % 27) + 1:02d},"
                f"{i}00.5,某建设有限公司,某建设有限公司；某路桥有限公司\n"
            )
    return "".join(lines).encode("utf-8")


def _import(uow, actor, code, data, filename="register.csv"):
    return pj.import_projects(uow.session, actor=actor, at=AT, campaign_code=code, data=data, filename=filename)


def test_register_with_bad_rows_imports_nothing(uow_factory, launched_campaign, actors):
    bad = (
        HEADER
        + "P-001,好项目,zjj,2020-03-01,100,,\n"
        + "P-002,,zjj,2020-03-01,100,,\n"  # row 3: no name
        + "P-003,坏日期,zjj,2020-13-45,100,,\n"  # row 4: bad date
        + "P-004,未知部门,nope,2020-03-01,100,,\n"  # row 5: unknown department
        + "P-001,重复,zjj,2020-03-01,abc,,\n"
    )  # row 6: duplicate code and bad amount
    with pytest.raises(RowsRejected) as info, uow_factory() as uow:
        _import(uow, actors["office"], launched_campaign.code, bad.encode())
    assert {r.row_number for r in info.value.rows} == {3, 4, 5, 6}
    assert "整个文件未导入" in str(info.value) and "第 5 行" in str(info.value)
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Project.id))) == 0


def test_register_xlsx_and_department_scope(uow_factory, launched_campaign, actors):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER.strip().split(","))
    ws.append(["JY-1", "交运项目", "jyj", dt.date(2020, 4, 1), 88.5, "中标人甲", "甲、乙"])
    buf = io.BytesIO()
    book.save(buf)
    with pytest.raises(Forbidden), uow_factory() as uow:
        _import(uow, actors["dept_zjj"], launched_campaign.code, buf.getvalue(), "r.xlsx")
    with uow_factory() as uow:
        report = _import(uow, actors["dept_jyj"], launched_campaign.code, buf.getvalue(), "r.xlsx")
        uow.commit()
        assert (report.added, report.updated) == (1, 0)
        [p] = pj.list_projects(uow.session, actor=actors["dept_jyj"], campaign_code=launched_campaign.code)
        assert p.bidders == ["甲", "乙"] and float(p.amount_wan) == 88.5
        assert pj.list_projects(uow.session, actor=actors["dept_zjj"], campaign_code=launched_campaign.code) == []
        with pytest.raises(Forbidden):
            _import(uow, actors["leader"], launched_campaign.code, buf.getvalue(), "r.xlsx")


def test_sampling_ratio_reproducible_and_idempotent(uow_factory, launched_campaign, actors):
    code = launched_campaign.code
    with uow_factory() as uow:
        _import(uow, actors["office"], code, _csv({"zjj": 11, "jyj": 5, "swj": 1}))
        uow.commit()
    with uow_factory() as uow:
        assert pj.draw_verification_samples(uow.session, code, dt.date(2020, 6, 30)) == 0  # phase not started
    with uow_factory() as uow:
        created = pj.draw_verification_samples(uow.session, code, dt.date(2020, 7, 1))
        uow.commit()
    assert created == 3 + 1 + 1  # ceil(20 %): 11 → 3, 5 → 1, 1 → 1
    with uow_factory() as uow:
        assert pj.draw_verification_samples(uow.session, code, dt.date(2020, 7, 2)) == 0  # idempotent
        draws = {d.department_code: d for d in pj.list_draws(uow.session, actor=actors["office"], campaign_code=code)}
        assert all(d.ratio >= 0.2 and d.seed == 2020 for d in draws.values())
        zjj_codes = [f"ZJJ-2020-{i:03d}" for i in range(1, 12)]
        assert draws["zjj"].sampled_codes == sampling.draw(reversed(zjj_codes), 0.2, 2020, "zjj")
        assert all(ok for _d, ok in pj.verify_draws(uow.session, actor=actors["leader"], campaign_code=code))
        ratio = pj.sampled_ratio(uow.session, code)
        assert ratio["zjj"] == (3, 11)
        rows = [
            a
            for a in sub.list_assignments(uow.session, actor=actors["dept_zjj"], campaign_code=code)
            if a.template_key == "verify_sample"
        ]
        assert sorted(a.period for a in rows) == sorted(draws["zjj"].sampled_codes)
        assert all(a.status == "open" and a.phase_key == "verify" for a in rows)
        names = dict(uow.session.execute(select(Project.code, Project.name)).all())
        assert all(a.title.endswith(f"：{names[a.period]}") for a in rows)  # three tasks a person tells apart
        assert len({a.title for a in rows}) == len(rows)
        assert rows[0].due_on == dt.date(2020, 7, 22)  # 15 working days after 1 July
        stored = uow.session.scalar(select(SampleDraw.sampled_codes).join(Department).where(Department.code == "zjj"))
        assert json.loads(stored) == draws["zjj"].sampled_codes
        write_rollup(uow.session, code, dt.date(2020, 7, 1))  # includes the problem / project / lead columns
        total = uow.session.scalar(
            select(RollupSnapshot)
            .join(Department, Department.id == RollupSnapshot.department_id)
            .where(
                Department.code == "zjj", RollupSnapshot.phase_key == "", RollupSnapshot.as_of == dt.date(2020, 7, 1)
            )
        )
        assert (total.projects_sampled, total.projects_supervised) == (3, 11)
        assert uow.session.scalar(select(func.count(Assignment.id)).where(Assignment.period.like("ZJJ-%"))) == 3


def test_draw_is_independent_of_import_order():
    codes = [f"C{i}" for i in range(40)]
    assert sampling.draw(codes, 0.2, 7, "zjj") == sampling.draw(list(reversed(codes)), 0.2, 7, "zjj")
    assert sampling.draw(codes, 0.2, 7, "zjj") != sampling.draw(codes, 0.2, 8, "zjj")
    assert len(sampling.draw(codes, 0.2, 7, "zjj")) == 8


def test_file_level_problem_is_invalid(uow_factory, launched_campaign, actors):
    with pytest.raises(Invalid, match="缺少必需的列"), uow_factory() as uow:
        _import(uow, actors["office"], launched_campaign.code, b"a,b\n1,2\n")


def test_a_register_that_grows_after_the_draw_is_topped_up_and_every_round_replays(
    uow_factory, launched_campaign, actors
):
    code = launched_campaign.code
    with uow_factory() as uow:
        _import(uow, actors["office"], code, _csv({"zjj": 11}))
        uow.commit()
    with uow_factory() as uow:
        assert pj.draw_verification_samples(uow.session, code, dt.date(2020, 7, 1)) == 3
        uow.commit()
    with uow_factory() as uow:  # 20 more projects arrive after the draw: 3 / 31 would be under 20 %
        _import(uow, actors["office"], code, _csv({"zjj": 31}))
        uow.commit()
    with uow_factory() as uow:
        assert pj.draw_verification_samples(uow.session, code, dt.date(2020, 7, 27)) == 4  # ceil(6.2) - 3
        uow.commit()
    with uow_factory() as uow:
        assert pj.draw_verification_samples(uow.session, code, dt.date(2020, 7, 28)) == 0  # idempotent
        draws = pj.list_draws(uow.session, actor=actors["office"], campaign_code=code)
        assert [(d.round, d.population, len(d.sampled_codes), d.sampled_total) for d in draws] == [
            (1, 11, 3, 3),
            (2, 31, 4, 7),
        ]
        assert not set(draws[0].sampled_codes) & set(draws[1].sampled_codes)  # nothing is drawn twice
        assert draws[1].ratio >= 0.2 and pj.sampled_ratio(uow.session, code)["zjj"] == (7, 31)
        assert pj.verify_draws(uow.session, actor=actors["leader"], campaign_code=code) == [("zjj", True)] * 2
        verify_rows = sum(
            1
            for a in sub.list_assignments(uow.session, actor=actors["dept_zjj"], campaign_code=code)
            if a.template_key == "verify_sample"
        )
        assert verify_rows == 7
