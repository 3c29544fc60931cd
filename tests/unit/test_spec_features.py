"""Issue 16, the spec side: phase kinds as labels, counted tasks, ongoing duties, periods beyond months,
自选事项 — each accepted in YAML and each mistake refused at its file:line:col."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from domain.spec import PHASE_KIND, PhaseKind
from services.spec_files import SpecInvalid, json_schema, load_spec, parse_spec
from tests.unit.feature_spec import FEATURES_YAML, features_with, line_of

ROOT = Path(__file__).resolve().parents[2]
SUIZHOU = ROOT / "config" / "campaigns" / "suizhou-2024.yaml"
WUCHENG = ROOT / "config" / "campaigns" / "wucheng-2025.yaml"


def refused(text: str, name: str = "f.yaml") -> list[str]:
    with pytest.raises(SpecInvalid) as info:
        parse_spec(text, name)
    return [str(p) for p in info.value.problems]


def assert_refused_at(text: str, line: int, field: str, words: str) -> None:
    problems = refused(text)
    pattern = re.compile(rf"^f\.yaml:{line}:\d+: {re.escape(field)}: .*{re.escape(words)}")
    assert any(pattern.match(p) for p in problems), problems


def test_the_features_yaml_validates():
    spec = parse_spec(FEATURES_YAML, "f.yaml")
    assert spec.phase("build").kind is PhaseKind.implementation
    assert spec.phase("extra").kind is PhaseKind.custom and spec.phase("extra").label == "自选与巩固"
    raids = spec.phase("build").tasks[0]
    assert (raids.count, len(raids.batches)) == (3, 2)
    assert spec.phase("build").tasks[1].ongoing and spec.phase("build").tasks[1].reported_in == ("monthly",)
    assert [r.every.value for r in spec.recurring_reports] == ["month", "week", "quarter", "year"]


# --- 1. phase kinds are labels ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "label"), [("implementation", "组织实施"), ("consolidation", "巩固提升")])
def test_new_phase_kinds_read_as_their_label(kind, label):
    spec = parse_spec(features_with("    kind: implementation\n    title: 组织实施\n", f"    kind: {kind}\n"))
    assert spec.phase("build").label == label == PHASE_KIND.label(kind)


def test_a_phase_without_kind_or_title_is_refused_at_the_phase():
    text = features_with("  - key: extra\n    title: 自选与巩固\n", "  - key: extra\n")
    assert_refused_at(text, line_of(text, "key: extra"), "phases[1].title", "须写 title")


def test_an_unknown_phase_kind_lists_the_known_ones():
    text = features_with("kind: implementation", "kind: rectification")
    assert_refused_at(text, line_of(text, "kind: rectification"), "phases[0].kind", "'consolidation'")


def test_sampling_is_switched_on_by_its_key_not_by_the_kind():
    spec = parse_spec(FEATURES_YAML)  # samples in an 组织实施 phase: the YAML says so
    assert spec.sampling_phase_key == "build"
    assert spec.draws_samples("build") and not spec.draws_samples("extra")
    yanjiang = load_spec(ROOT / "config" / "campaigns" / "yanjiang-2020.yaml")
    assert [p.key for p in yanjiang.phases if yanjiang.draws_samples(p.key)] == ["verify"]
    text = features_with("  phase: build\n", "  phase: nosuch\n")
    assert_refused_at(text, line_of(text, "phase: nosuch"), "sampling.phase", "没有 key 为 'nosuch' 的阶段")


# --- 2. counted tasks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "fragment", "field", "words"),
    [
        ("count: 3", "count: 0", "count: 0", "phases[0].tasks[0].count", "应不小于 1"),
        ("count: 3", "count: 51", "count: 51", "phases[0].tasks[0].count", "应不大于 50"),
        ("count: 3", "count: 1", "batches:", "phases[0].tasks[0].batches", "count 不少于 2"),
        (
            "count: 3",
            "count: 2\n        # three dates for two",
            "batches:",
            "phases[0].tasks[0].batches",
            "多于 count 2",
        ),
        ("[2025-04-30, 2025-05-30]", "[2025-05-30, 2025-04-30]", "batches:", "phases[0].tasks[0].batches[1]", "早于"),
        (
            "[2025-04-30, 2025-05-30]",
            "[2025-04-30, 2025-07-30]",
            "batches:",
            "phases[0].tasks[0].batches[1]",
            "晚于整体",
        ),
        ("[2025-04-30, 2025-05-30]", "[2025-01-30]", "batches:", "phases[0].tasks[0].batches[0]", "不在专项行动起止"),
    ],
)
def test_count_mistakes_are_refused_at_their_line(old, new, fragment, field, words):
    text = features_with(old, new)
    if "three dates" in new:
        text = text.replace("[2025-04-30, 2025-05-30]", "[2025-04-10, 2025-04-30, 2025-05-30]")
    assert_refused_at(text, line_of(text, fragment, after="key: raids"), field, words)


def test_a_batch_after_a_relative_deadline_is_refused_at_the_batch():
    text = features_with(
        "        due: {working_days_after: phase_start, days: 10}\n",
        "        due: {working_days_after: phase_start, days: 10}\n        count: 2\n        batches: [2025-08-29]\n",
    )
    assert_refused_at(text, line_of(text, "batches: [2025-08-29]"), "phases[1].tasks[0].batches[0]", "晚于按工作日推算")


# --- 3. ongoing duties -----------------------------------------------------------------------------------


def test_an_ongoing_duty_needs_a_report_to_go_through():
    text = features_with("        reported_in: [monthly]\n", "")
    assert_refused_at(text, line_of(text, "key: duty"), "phases[0].tasks[1].reported_in", "须写明通过哪个定期报告")


def test_an_ongoing_duty_names_a_report_that_exists():
    text = features_with("reported_in: [monthly]", "reported_in: [monthy]")
    assert_refused_at(text, line_of(text, "reported_in:"), "phases[0].tasks[1].reported_in[0]", "没有 key 为 'monthy'")


def test_every_department_of_an_ongoing_duty_has_a_report():
    text = features_with("reported_in: [monthly]", "reported_in: [weekly]")  # the weekly report is zj's only
    assert_refused_at(text, line_of(text, "reported_in:"), "phases[0].tasks[1].reported_in", "ga、jt")
    assert parse_spec(features_with("reported_in: [monthly]", "reported_in: [weekly, monthly]"))


def test_a_dated_task_is_not_reported_in_a_recurring_report():
    text = features_with("count: 3\n", "count: 3\n        reported_in: [monthly]\n")
    assert_refused_at(
        text, line_of(text, "reported_in", after="key: raids"), "phases[0].tasks[0].reported_in", "ongoing"
    )


def test_a_misspelt_ongoing_is_refused_at_the_due():
    text = features_with("due: ongoing", "due: ongoin")
    problems = refused(text)
    line = line_of(text, "due: ongoin")
    assert any(
        p.startswith(f"f.yaml:{line}:") and "phases[0].tasks[1].due: " in p and "'ongoing'" in p for p in problems
    )


# --- 4. periods beyond months ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "fragment", "field", "words"),
    [
        ("weekday: 5", "day_of_month: 5", "key: weekly", "recurring_reports[1].weekday", "须写 weekday"),
        (
            "weekday: 5",
            "weekday: 5\n    day_of_month: 5",
            "day_of_month: 5",
            "recurring_reports[1].day_of_month",
            "weekday",
        ),
        ("weekday: 5", "weekday: 8", "weekday: 8", "recurring_reports[1].weekday", "应不大于 7"),
        (
            "every: quarter\n    day_of_month: 10",
            "every: quarter",
            "key: quarterly",
            "recurring_reports[2].day_of_month",
            "每季度的报告须写",
        ),
        (
            "every: year\n    day_of_month: 15",
            "every: year\n    day_of_month: 15\n    weekday: 1",
            "weekday: 1",
            "recurring_reports[3].weekday",
            "every: week",
        ),
        ("every: week", "every: fortnight", "every: fortnight", "recurring_reports[1].every", "'quarter'"),
        (
            "every: quarter\n    day_of_month: 10",
            "every: quarter\n    day_of_month: 10\n    first_month: 2025-09-01\n    last_month: 2025-07-01",
            "last_month: 2025-07-01",
            "recurring_reports[2].last_month",
            "末期 2025-07-01 早于首期 2025-09-01",
        ),
        (
            "first_month: 2025-11-01",
            "first_month: 2026-03-02",
            "first_month: 2026-03-02",
            "recurring_reports[1].first_month",
            "不在专项行动起止日期",
        ),
    ],
)
def test_period_mistakes_are_refused_at_their_line(old, new, fragment, field, words):
    text = features_with(old, new)
    assert_refused_at(text, line_of(text, fragment), field, words)


def test_a_multi_year_program_needs_its_later_years_declared():
    text = WUCHENG.read_text(encoding="utf-8")
    without = text[: text.index("calendar:")]
    problems = refused(without)
    assert problems == [next(p for p in problems if p.startswith(f"f.yaml:{line_of(without, 'end: 2027-12-31')}:"))]
    assert "end: " in problems[0] and "2027" in problems[0] and "declared_years" in problems[0]


# --- 5. 自选事项 -----------------------------------------------------------------------------------------


def test_optional_items_say_who_may_add_them():
    spec = parse_spec(FEATURES_YAML)
    assert [code for code in ("bgs", "ga", "zj", "jt") if spec.may_add_items("extra", code)] == ["zj", "jt"]
    assert not spec.may_add_items("build", "zj")  # the 组织实施 phase does not allow them
    everyone = parse_spec(
        features_with("      assignees: {tags: [行业]}\n      max_per_department", "      max_per_department")
    )
    assert [code for code in ("bgs", "ga", "zj", "jt") if everyone.may_add_items("extra", code)] == ["ga", "zj", "jt"]


@pytest.mark.parametrize(
    ("old", "new", "fragment", "field", "words"),
    [
        (
            "max_per_department: 3",
            "max_per_departement: 3",
            "max_per_departement",
            "phases[1].optional_items.max_per_departement",
            "未知的键",
        ),
        (
            "assignees: {tags: [行业]}\n      max",
            "assignees: {departments: [nosuch]}\n      max",
            "nosuch",
            "phases[1].optional_items.assignees.departments",
            "未定义的部门代码",
        ),
        (
            "deliverables: [report, ledger]",
            "deliverables: [report, memo]",
            "memo",
            "phases[1].optional_items.deliverables[1]",
            "'ledger'",
        ),
        (
            "      - key: wrapup",
            "      - key: optional-1",
            "optional-1",
            "phases[1].tasks[0].key",
            "留给部门的自选事项",
        ),
    ],
)
def test_optional_item_mistakes_are_refused_at_their_line(old, new, fragment, field, words):
    text = features_with(old, new)
    assert_refused_at(text, line_of(text, fragment), field, words)


def test_meeting_decisions_need_nothing_in_the_yaml():
    # 会商 / 例会 and their decisions are records the office keeps while the campaign runs; a regular meeting's
    # minutes can be a recurring report (suizhou-2024's joint_meeting), so the spec has no meeting key.
    assert "meeting" not in json.loads(json_schema())["properties"]


# --- the schema and the examples -------------------------------------------------------------------------


def test_the_json_schema_shows_the_new_keys():
    schema = json.loads(json_schema())
    defs = schema["$defs"]
    assert {"count", "batches", "reported_in"} <= set(defs["TaskTemplate"]["properties"])
    assert "ongoing" in json.dumps(defs["TaskTemplate"]["properties"]["due"])
    assert {"every", "weekday", "day_of_month"} <= set(defs["RecurringReport"]["properties"])
    assert set(defs["Period"]["enum"]) == {"week", "month", "quarter", "year"}
    assert {"implementation", "consolidation", "custom"} <= set(defs["PhaseKind"]["enum"])
    assert "kind" not in defs["Phase"].get("required", []) and "optional_items" in defs["Phase"]["properties"]
    assert {"assignees", "max_per_department", "deliverables", "note"} <= set(defs["OptionalItems"]["properties"])
    assert "1 = 周一" in defs["RecurringReport"]["properties"]["weekday"]["description"]


def test_the_suizhou_example_keeps_its_stages_as_written():
    spec = load_spec(SUIZHOU)
    assert [p.label for p in spec.phases] == [
        "启动部署",
        "组织实施",
        "日常监管与会商（贯穿创建全过程）",
        "总结完善",
        "巩固提升",
    ]
    assert [p.kind for p in spec.phases] == [
        PhaseKind.mobilization,
        PhaseKind.implementation,
        PhaseKind.custom,
        PhaseKind.summary,
        PhaseKind.consolidation,
    ]
    assert {t.key for p in spec.phases for t in p.tasks if t.ongoing} == {
        "lifecycle_supervision",
        "lenient_enforcement",
    }
    assert {r.key: r.every.value for r in spec.recurring_reports} == {
        "joint_meeting": "week",
        "data_meeting": "month",
        "monthly_progress": "month",
        "leading_group_review": "quarter",
    }


def test_the_wucheng_example_is_a_three_year_program():
    spec = load_spec(WUCHENG)
    assert (spec.start.isoformat(), spec.end.isoformat()) == ("2025-06-04", "2027-12-31")
    yearly = [p for p in spec.phases if p.key.startswith("y")]
    assert [(p.start.year, p.end.year) for p in yearly] == [(2025, 2025), (2026, 2026), (2027, 2027)]
    raids = next(t for p in spec.phases for t in p.tasks if t.key == "bid_rigging_raids")
    assert raids.count == 2 and raids.due.isoformat() == "2025-11-30"  # type: ignore[union-attr]
    assert spec.calendar.declared_years == (2027,)
