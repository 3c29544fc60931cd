"""Issue 16, the plan side: what each new spec key expands to, and the promise that YAMLs written for the
older schema dump, digest and plan exactly as the snapshots taken before the spec grew (tests/unit/fixtures)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from domain.plan import (
    OptionalItemWindow,
    build_plan,
    diff_plan,
    optional_item_key,
    optional_item_refusal,
    period_label,
    plan_size,
)
from domain.spec import OPTIONAL_ITEM_PREFIX, SAMPLE_TEMPLATE_KEY, Deliverable, Period
from services.holidays import campaign_calendar
from services.spec_files import load_spec, parse_spec
from tests.unit.feature_spec import FEATURES_YAML, features_with
from tests.unit.plan_snapshot import FIXTURES, fixture_path, plan_snapshot, project

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = ROOT / "config" / "campaigns"
# Today's two examples as they were before the spec grew (config/campaigns now uses the new keys in them).
OLD_EXAMPLES = [FIXTURES / "yanjiang-2020.yaml", FIXTURES / "hebei-huitoukan-2018.yaml"]
D = dt.date


def _plan(text: str = FEATURES_YAML):
    spec = parse_spec(text, "f.yaml")
    return spec, build_plan(spec, campaign_calendar(spec))


def _rows(plan, key: str, department: str | None = None):
    return [a for a in plan.assignments if a.template_key == key and department in (None, a.department_code)]


# --- YAMLs of today's schema are untouched ---------------------------------------------------------------


@pytest.mark.parametrize("path", OLD_EXAMPLES, ids=[p.name for p in OLD_EXAMPLES])
def test_an_example_written_for_the_old_schema_plans_as_its_snapshot(path):
    before = json.loads(fixture_path(path).read_text(encoding="utf-8"))
    now = plan_snapshot(path)
    # The stored spec and its digest are unchanged, so re-launching the same file is still "unchanged".
    assert now["spec_json"] == before["spec_json"] and now["spec_sha256"] == before["spec_sha256"]
    assert project(now["templates"], list(before["templates"][0])) == before["templates"]
    assert project(now["assignments"], list(before["assignments"][0])) == before["assignments"]
    # and every field the plan gained holds its plain value
    assert all((a["batch"], a["ongoing"]) == (None, False) for a in now["assignments"])
    assert all((t["count"], t["ongoing"], t["reported_in"]) == (1, False, []) for t in now["templates"])
    assert {t["every"] for t in now["templates"] if t["recurring_day"] is not None} <= {"month"}
    assert {t["every"] for t in now["templates"] if t["recurring_day"] is None} == {None}


# --- counted tasks ---------------------------------------------------------------------------------------


def test_a_counted_task_owes_one_assignment_per_batch():
    _spec, plan = _plan()
    raids = _rows(plan, "raids")
    assert [(a.department_code, a.period, a.batch) for a in raids] == [
        ("ga", "batch-01", 1),
        ("ga", "batch-02", 2),
        ("ga", "batch-03", 3),
    ]
    # batch dates where the YAML gives them, the task's due for the rest; 2025-05-30 is a working Friday
    assert [(a.nominal_due_on, a.due_on) for a in raids] == [
        (D(2025, 4, 30), D(2025, 4, 30)),
        (D(2025, 5, 30), D(2025, 5, 30)),
        (D(2025, 6, 30), D(2025, 6, 30)),
    ]
    assert {a.opens_on for a in raids} == {D(2025, 3, 3)} and not any(a.ongoing for a in raids)
    assert plan.template("raids").count == 3
    assert [period_label(a.period) for a in raids] == ["第1批", "第2批", "第3批"]


def test_a_batch_date_on_a_holiday_rolls_to_the_next_working_day():
    _spec, plan = _plan(features_with("[2025-04-30, 2025-05-30]", "[2025-05-01, 2025-05-30]"))
    first = _rows(plan, "raids")[0]
    assert (first.nominal_due_on, first.due_on) == (D(2025, 5, 1), D(2025, 5, 6))  # 劳动节 5-1..5-5


def test_raising_the_count_adds_only_the_new_batch():
    _spec, before = _plan()
    _spec, after = _plan(features_with("count: 3", "count: 4"))
    change = diff_plan({a.natural_key: a.due_on for a in before.assignments}, after)
    assert [a.natural_key for a in change.added] == [("raids", "ga", "batch-04")]
    assert not change.removed and not change.moved


def test_an_undated_count_with_an_ongoing_due_has_no_deadline_for_its_batches():
    text = features_with(
        "        due: ongoing\n        reported_in: [monthly]\n",
        "        due: ongoing\n        count: 2\n        batches: [2025-05-30]\n        reported_in: [monthly]\n",
    )
    _spec, plan = _plan(text)
    duty = _rows(plan, "duty", "zj")
    assert [(a.period, a.due_on, a.ongoing) for a in duty] == [
        ("batch-01", D(2025, 5, 30), False),
        ("batch-02", D(2025, 6, 30), True),
    ]


def test_the_seed_004_raids_are_two_batches_by_the_end_of_november():
    spec = load_spec(CAMPAIGNS / "wucheng-2025.yaml")
    plan = build_plan(spec, campaign_calendar(spec))
    raids = _rows(plan, "bid_rigging_raids")
    # 2025-11-30 is a Sunday: both batches are due on Monday 12-01
    assert [(a.department_code, a.batch, a.nominal_due_on, a.due_on) for a in raids] == [
        ("gafj", 1, D(2025, 11, 30), D(2025, 12, 1)),
        ("gafj", 2, D(2025, 11, 30), D(2025, 12, 1)),
    ]


# --- ongoing duties --------------------------------------------------------------------------------------


def test_an_ongoing_duty_lasts_its_phase_and_names_its_reports():
    spec, plan = _plan()
    duty = _rows(plan, "duty")
    assert sorted(a.department_code for a in duty) == sorted(spec.resolve(spec.phase("build").tasks[1].assignees))
    assert {(a.period, a.opens_on, a.due_on, a.nominal_due_on, a.ongoing, a.batch) for a in duty} == {
        ("", D(2025, 3, 3), D(2025, 6, 30), D(2025, 6, 30), True, None)
    }
    template = plan.template("duty")
    assert template.ongoing and template.reported_in == ("monthly",)
    # the report it goes through reaches every department doing the duty
    reporting = {a.department_code for a in _rows(plan, "monthly")}
    assert {a.department_code for a in duty} <= reporting


# --- periods ---------------------------------------------------------------------------------------------


def test_weekly_reports_are_due_on_their_weekday_of_each_iso_week():
    _spec, plan = _plan()
    weekly = _rows(plan, "weekly")
    assert weekly[0].period == "2025-W44" and weekly[0].nominal_due_on == D(2025, 10, 31)
    assert weekly[-1].period == "2026-W09" and weekly[-1].nominal_due_on == D(2026, 2, 27)
    assert len(weekly) == 18 and len({a.period for a in weekly}) == 18
    assert {a.nominal_due_on.isoweekday() for a in weekly} == {5}
    assert all(a.opens_on == a.nominal_due_on - dt.timedelta(days=4) for a in weekly)  # the week's Monday
    new_year = next(a for a in weekly if a.period == "2026-W01")
    assert (new_year.nominal_due_on, new_year.due_on) == (D(2026, 1, 2), D(2026, 1, 4))  # 元旦; Sunday 1-4 调休
    assert period_label("2026-W01") == "2026年第1周"


def test_quarterly_reports_are_due_in_the_month_after_the_quarter():
    _spec, plan = _plan()
    quarterly = _rows(plan, "quarterly")
    assert [(a.period, a.opens_on, a.nominal_due_on, a.due_on) for a in quarterly] == [
        ("2025-Q1", D(2025, 3, 3), D(2025, 4, 10), D(2025, 4, 10)),
        ("2025-Q2", D(2025, 4, 1), D(2025, 7, 10), D(2025, 7, 10)),
        ("2025-Q3", D(2025, 7, 1), D(2025, 10, 10), D(2025, 10, 10)),
        ("2025-Q4", D(2025, 10, 1), D(2026, 1, 10), D(2026, 1, 12)),  # a Saturday, then Monday
    ]  # 2026-Q1 would be due 2026-04-10, after the campaign: not planned
    assert [period_label(a.period) for a in quarterly][:1] == ["2025年第1季度"]


def test_yearly_reports_are_due_in_the_january_after():
    _spec, plan = _plan()
    assert [(a.period, a.nominal_due_on, a.due_on) for a in _rows(plan, "yearly")] == [
        ("2025", D(2026, 1, 15), D(2026, 1, 15))
    ]
    assert period_label("2025") == "2025年度" and period_label("2020-06") == "2020年6月"
    assert plan.template("yearly").every is Period.year and plan.template("yearly").recurring_day == 15
    assert plan.template("weekly").every is Period.week and plan.template("weekly").recurring_day == 5


def test_monthly_reports_keep_their_meaning():
    _spec, plan = _plan()
    monthly = _rows(plan, "monthly", "zj")
    assert monthly[0].period == "2025-03" and monthly[0].nominal_due_on == D(2025, 3, 20)
    assert monthly[-1].period == "2026-02" and monthly[-1].nominal_due_on == D(2026, 2, 20)
    assert len(monthly) == 12


def test_a_later_year_follows_the_calendar_the_yaml_declares():
    spec = load_spec(CAMPAIGNS / "wucheng-2025.yaml")
    plan = build_plan(spec, campaign_calendar(spec))
    by_key = {a.natural_key: a for a in plan.assignments}
    q3 = by_key[("periodic_report", "jw", "2027-Q3")]
    assert (q3.nominal_due_on, q3.due_on) == (D(2027, 10, 10), D(2027, 10, 11))  # a Sunday, then Monday
    # moving 国庆 2027 in the YAML moves the deadlines that fall on it
    text = (CAMPAIGNS / "wucheng-2025.yaml").read_text(encoding="utf-8")
    shifted = parse_spec(text.replace("{date: 2027-10-01, name: 国庆节}", "{date: 2027-10-11, name: 国庆节}"))
    moved = {a.natural_key: a for a in build_plan(shifted, campaign_calendar(shifted)).assignments}
    assert moved[("periodic_report", "jw", "2027-Q3")].due_on == D(2027, 10, 12)
    yearly = [a for a in plan.assignments if a.template_key == "annual_summary"]
    assert [(a.period, a.due_on) for a in yearly] == [("2025", D(2026, 1, 20)), ("2026", D(2027, 1, 20))]


# --- 自选事项 ----------------------------------------------------------------------------------------------


def test_the_plan_says_where_optional_items_may_be_added():
    _spec, plan = _plan()
    assert plan.optional_items == (
        OptionalItemWindow(
            phase_key="extra",
            opens_on=D(2025, 7, 1),
            closes_on=D(2026, 2, 27),
            department_codes=("zj", "jt"),
            max_per_department=3,
            deliverables=(Deliverable.report, Deliverable.ledger),
            note="不允许以自选事项清理整改取代本方案规定的事项整改",
        ),
    )
    assert optional_item_key(7) == f"{OPTIONAL_ITEM_PREFIX}7"
    assert optional_item_key(7) not in {t.key for t in plan.templates}


def test_a_changed_yaml_never_removes_what_departments_added():
    _spec, plan = _plan()
    stored = {a.natural_key: a.due_on for a in plan.assignments}
    stored[(optional_item_key(1), "zj", "")] = D(2025, 9, 30)
    stored[(SAMPLE_TEMPLATE_KEY, "zj", "ZJ-2025-001")] = D(2025, 4, 1)
    change = diff_plan(stored, plan)
    assert change.empty
    shorter = _plan(features_with("count: 3", "count: 2"))[1]
    assert diff_plan(stored, shorter).removed == (("raids", "ga", "batch-03"),)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({}, None),
        ({"phase_key": "build"}, "阶段 build 不允许添加自选事项"),
        ({"department_code": "ga"}, "本单位不在阶段 extra 可添加自选事项的单位之中"),
        ({"due_on": D(2026, 3, 2)}, "须在本阶段 2025-07-01～2026-02-27 之内"),
        ({"deliverable": Deliverable.table}, "只能以报告、台账报送"),
        ({"already_added": 3}, "最多添加 3 项自选事项，已添加 3 项"),
    ],
)
def test_an_optional_item_is_refused_with_a_reason(change, refusal):
    _spec, plan = _plan()
    item = {"phase_key": "extra", "department_code": "zj", "deliverable": Deliverable.report}
    item |= {"due_on": D(2025, 9, 30), "already_added": 2}
    item.update(change)
    reason = optional_item_refusal(plan, **item)
    assert reason == refusal if refusal is None else refusal in (reason or "")


# --- size ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["features", *sorted(p.name for p in CAMPAIGNS.glob("*.yaml"))])
def test_the_loader_bounds_exactly_what_launch_creates(name):
    spec = parse_spec(FEATURES_YAML) if name == "features" else load_spec(CAMPAIGNS / name)
    assert plan_size(spec) == len(build_plan(spec, campaign_calendar(spec)).assignments)
