"""Reporting windows of the monthly reports, and writing a changed spec back as YAML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from domain.errors import Invalid
from domain.reporting import is_period, report_moment, report_periods, report_window
from domain.spec import Department, DepartmentKind
from services.campaigns import spec_digest
from services.spec_files import load_spec, parse_spec, spec_to_yaml

ROOT = Path(__file__).resolve().parents[2]
YANJIANG = load_spec(ROOT / "config" / "campaigns" / "yanjiang-2020.yaml")
HEBEI = load_spec(ROOT / "config" / "campaigns" / "hebei-huitoukan-2018.yaml")
D = dt.date
LATE = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def window(spec, period, dept, at=LATE):
    w = report_window(spec, period, dept, at)
    return w.start, w.end


def test_windows_run_from_one_due_day_to_the_next_without_gaps():
    # departments report by the 20th: the first reported month (June) starts with the campaign
    assert window(YANJIANG, "2020-06", "zjj") == (D(2020, 5, 11), D(2020, 6, 20))
    assert window(YANJIANG, "2020-07", "zjj") == (D(2020, 6, 21), D(2020, 7, 20))
    # the office rolls up by the 25th
    assert window(YANJIANG, "2020-07", None) == (D(2020, 6, 26), D(2020, 7, 25))
    # the campaign's last month runs to its last day
    assert window(YANJIANG, "2020-10", "zjj") == (D(2020, 9, 21), D(2020, 10, 31))
    days = set()
    for month in ("2020-06", "2020-07", "2020-08", "2020-09", "2020-10"):
        start, end = window(YANJIANG, month, "gafj")
        span = {start + dt.timedelta(days=i) for i in range((end - start).days + 1)}
        assert not days & span
        days |= span
    assert (
        min(days) == YANJIANG.start
        and max(days) == YANJIANG.end
        and len(days) == (YANJIANG.end - YANJIANG.start).days + 1
    )


def test_a_report_made_early_stops_at_its_own_day():
    made = dt.datetime(2020, 7, 10, 4, tzinfo=dt.UTC)
    w = report_window(YANJIANG, "2020-07", "zjj", made)
    assert (w.start, w.end, w.window_end, w.label) == (D(2020, 6, 21), D(2020, 7, 10), D(2020, 7, 20), "2020年7月")
    assert w.end_instant == dt.datetime(2020, 7, 10, 16, tzinfo=dt.UTC)  # midnight in Beijing


def test_campaigns_without_recurring_reports_use_calendar_months():
    assert not HEBEI.recurring_reports
    first = f"{HEBEI.start:%Y-%m}"
    start, end = window(HEBEI, first, None)
    assert start == HEBEI.start and end.day >= 28 and end.month == HEBEI.start.month


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2020-13", "格式不对"),
        ("202006", "格式不对"),
        ("2020-05", "不在报送期间"),
        ("2020-11", "不在报送期间"),
    ],
)
def test_periods_outside_the_reports_are_refused(period, message):
    with pytest.raises(Invalid, match=message):
        report_window(YANJIANG, period, "zjj", LATE)


def test_a_period_not_yet_begun_is_refused():
    with pytest.raises(Invalid, match="尚未开始"):
        report_window(YANJIANG, "2020-08", "zjj", dt.datetime(2020, 7, 20, 4, tzinfo=dt.UTC))


def test_the_scheduled_report_is_made_at_the_last_second_of_its_day_in_beijing():
    moment = report_moment(D(2020, 7, 20))
    assert moment == dt.datetime(2020, 7, 20, 15, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Beijing
    assert report_window(YANJIANG, "2020-07", "zjj", moment).end == D(2020, 7, 20)


def test_periods_offered_are_those_whose_window_has_begun():
    # on 2020-07-21 the August window (from 07-21) has just begun; June is the first reported month
    assert report_periods(YANJIANG, "zjj", D(2020, 7, 21)) == ["2020-08", "2020-07", "2020-06"]
    assert report_periods(YANJIANG, "zjj", D(2020, 7, 20)) == ["2020-07", "2020-06"]
    every = report_periods(YANJIANG, None, YANJIANG.end)
    first = min(r.first_month or YANJIANG.start for r in YANJIANG.recurring_reports)  # the first reported month
    assert every[-1] == f"{first:%Y-%m}" and every[0] == f"{YANJIANG.end:%Y-%m}" and every == sorted(every)[::-1]
    assert all(is_period(p) for p in every) and not is_period("2020-6") and not is_period(None)


def test_spec_yaml_keeps_the_files_comments_and_reads_back_exactly():
    text = (ROOT / "config" / "campaigns" / "yanjiang-2020.yaml").read_text(encoding="utf-8")
    departments = [d.model_dump() for d in YANJIANG.departments]
    departments[1]["name"] = "区住房和城乡建设局"
    departments.append(
        Department(
            code="scjgj", name="区市场监管局", kind=DepartmentKind.industry_regulator, tags=("联席会议成员",)
        ).model_dump()
    )
    changed = type(YANJIANG).model_validate({**YANJIANG.model_dump(), "departments": departments})
    kept = spec_to_yaml(changed, text)
    assert spec_digest(parse_spec(kept)) == spec_digest(changed)
    assert "# 四(三)：每月20日前报送区发改局" in kept and "name: 区住房和城乡建设局" in kept
    assert kept.count("\n") == text.count("\n") + 4  # one changed line in place, four added
    plain = spec_to_yaml(changed)  # no file to start from: the whole spec, plainly
    assert spec_digest(parse_spec(plain)) == spec_digest(changed) and plain.startswith("# ")
