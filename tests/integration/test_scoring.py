"""考核评分 from the records: the tick's daily snapshot is idempotent and a past day recomputes to what was
stored that day; the numbered 通报 (.docx) praises and criticises from the score; the monthly rollup report
carries the ranking."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from docx import Document
from sqlalchemy import select

from domain.access import Forbidden
from services import reports, scoring
from services import submissions as sub
from store.models import Department, ScoreSnapshot
from store.uow import UnitOfWork

CODE = "yanjiang-2020"
AT = dt.datetime(2020, 7, 9, 2, tzinfo=dt.UTC)


def _snapshot(engine, day: dt.date) -> list[tuple]:
    with UnitOfWork(engine) as uow:
        return list(
            uow.session.execute(
                select(
                    Department.name, ScoreSnapshot.rank, ScoreSnapshot.score, ScoreSnapshot.light, ScoreSnapshot.reasons
                )
                .join(Department, Department.id == ScoreSnapshot.department_id)
                .where(ScoreSnapshot.as_of == day)
                .order_by(ScoreSnapshot.rank, Department.code)
            ).tuples()
        )


def test_the_daily_snapshot_is_idempotent_and_a_past_day_recomputes_the_same(engine, tick, actors, uow_factory):
    first = dt.date(2020, 7, 1)
    tick(first)
    stored = _snapshot(engine, first)
    assert len(stored) == 6 and stored[0][1] == 1
    tick(first)
    assert _snapshot(engine, first) == stored  # a re-tick rewrites identical rows
    with uow_factory() as uow:  # later work: zjj hands in and the office accepts, then time moves on
        todo = sub.list_assignments(uow.session, actor=actors["dept_zjj"], campaign_code=CODE, status="open")[0]
        sub.submit(
            uow.session, actor=actors["dept_zjj"], at=AT, assignment_id=todo.id, text="补报", late_reason="人员调整"
        )
        version = sub.get_assignment(uow.session, actor=actors["office"], assignment_id=todo.id)[0].version
        sub.accept(uow.session, actor=actors["office"], at=AT, assignment_id=todo.id, expected_version=version)
        uow.commit()
    tick(dt.date(2020, 7, 10))
    with uow_factory() as uow:
        day, rows = scoring.ranking(uow.session, actor=actors["leader"], campaign_code=CODE, as_of=first)
        latest_day, _latest = scoring.ranking(uow.session, actor=actors["leader"], campaign_code=CODE)
    assert day == first and latest_day == dt.date(2020, 7, 10)
    recomputed = [(r.department_name, r.rank, r.score, r.light, list(r.reasons)) for r in rows]
    assert recomputed == [(n, rk, float(s), lt, json.loads(why)) for n, rk, s, lt, why in stored]


def test_the_bulletin_is_numbered_and_praises_and_criticises_from_the_score(engine, tick, actors, uow_factory):
    tick(dt.date(2020, 7, 1))
    with uow_factory() as uow:
        first = scoring.issue_bulletin(uow.session, actor=actors["office"], at=AT, campaign_code=CODE)
        second = scoring.issue_bulletin(uow.session, actor=actors["office"], at=AT, campaign_code=CODE)
        _day, rows = scoring.ranking(uow.session, actor=actors["office"], campaign_code=CODE)
        uow.commit()
    assert (first[0], second[0]) == ("雁通〔2020〕1号", "雁通〔2020〕2号") and first[1] == "通报-雁通〔2020〕1号.docx"
    doc = Document(io.BytesIO(first[2]))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "一、通报表扬" in text and "二、通报批评" in text and "三、考核排名" in text
    for r in rows:
        assert r.department_name in cells
        if r.light == "red":
            assert f"{r.department_name}：" in text
    with pytest.raises(Forbidden), uow_factory() as uow:
        scoring.issue_bulletin(uow.session, actor=actors["leader"], at=AT, campaign_code=CODE)


def test_the_monthly_rollup_report_ranks_the_departments(engine, tick, actors, uow_factory):
    tick(dt.date(2020, 7, 1))
    with uow_factory() as uow:
        rollup = reports.report_data(
            uow.session, actor=actors["office"], campaign_code=CODE, period="2020-06", department_code=None, at=AT
        )
        own = reports.report_data(
            uow.session, actor=actors["dept_zjj"], campaign_code=CODE, period="2020-06", department_code="zjj", at=AT
        )
        _day, expected = scoring.ranking(
            uow.session, actor=actors["office"], campaign_code=CODE, as_of=dt.date(2020, 6, 30)
        )
    titles = [title for title, _h, _rows in rollup.tables()]
    assert "各单位考核排名表" in titles and "各单位考核排名表" not in [t for t, _h, _r in own.tables()]
    _title, headers, rows = next(t for t in rollup.tables() if t[0] == "各单位考核排名表")
    assert headers == ["名次", "单位", "得分", "灯", "说明"]
    assert [(r.rank, r.department) for r in rows] == [(e.rank, e.department_name) for e in expected]


def test_an_extension_approved_later_leaves_a_past_days_score_as_it_was(engine, tick, actors, uow_factory):
    """The score of a past day is the one that day had: an extension approved afterwards moves the deadline
    from its approval on, not back in time (the tick stored that day's snapshot before it)."""
    from services.supervision import extensions

    day = dt.date(2020, 7, 1)
    tick(day)
    stored = _snapshot(engine, day)
    with uow_factory() as uow:
        _day, before = scoring.ranking(uow.session, actor=actors["leader"], campaign_code=CODE, as_of=AT.date())
    with uow_factory() as uow:  # zjj's overdue task gets a later deadline on 9 July
        late = sub.list_assignments(uow.session, actor=actors["dept_zjj"], campaign_code=CODE, overdue_only=True)[0]
        asked = extensions.request_extension(
            uow.session,
            actor=actors["dept_zjj"],
            at=AT,
            assignment_id=late.id,
            until=dt.date(2020, 6, 22),  # the policy's furthest: 20 working days after 25 May
            reason="项目资料需调档",
        )
        extensions.decide_extension(
            uow.session, actor=actors["office"], at=AT, request_id=asked.id, approve=True, reason="同意"
        )
        uow.commit()
    with uow_factory() as uow:
        _day, rows = scoring.ranking(uow.session, actor=actors["leader"], campaign_code=CODE, as_of=day)
        _now, today = scoring.ranking(uow.session, actor=actors["leader"], campaign_code=CODE, as_of=AT.date())
    recomputed = [(r.department_name, r.rank, r.score, r.light, list(r.reasons)) for r in rows]
    assert recomputed == [(n, rk, float(s), lt, json.loads(why)) for n, rk, s, lt, why in stored]
    zjj_before = next(r.score for r in before if r.department_name == "区住建局")
    zjj_after = next(r.score for r in today if r.department_name == "区住建局")
    assert zjj_after > zjj_before  # on the day of the approval the task is overdue by fewer days
