from pathlib import Path

import pytest

from domain.plan import build_plan, diff_plan
from services.holidays import campaign_calendar
from services.spec_files import SpecInvalid, load_spec, parse_spec

EXAMPLES = sorted(Path("config/campaigns").glob("*.yaml"))
YANJIANG = Path("config/campaigns/yanjiang-2020.yaml")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_campaign_validates_and_plans(path):
    spec = load_spec(path)
    plan = build_plan(spec, campaign_calendar(spec))
    assert plan.assignments
    keys = [a.natural_key for a in plan.assignments]
    assert len(keys) == len(set(keys))


def test_yanjiang_follows_the_seed_document():
    spec = load_spec(YANJIANG)
    plan = build_plan(spec, campaign_calendar(spec))
    by_key = {a.natural_key: a for a in plan.assignments}
    # 6月20日前报送自查报告: a Saturday in 2020, so the binding deadline is Monday 6-22
    report = by_key[("self_check_report", "zjj", "")]
    assert (report.nominal_due_on.isoformat(), report.due_on.isoformat()) == ("2020-06-20", "2020-06-22")
    assert by_key[("petition_table", "gafj", "")].due_on.isoformat() == "2020-10-20"
    assert by_key[("office_rollup", "fgj", "2020-07")].due_on.isoformat() == "2020-07-27"  # 25th is Saturday
    assert spec.sampling and spec.sampling.min_ratio == 0.2
    assert "fgj" not in {a.department_code for a in plan.assignments if a.template_key == "monthly_report"}


def _yaml_with(old: str, new: str) -> str:
    text = YANJIANG.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def test_unknown_key_is_reported_with_line_and_column():
    text = _yaml_with(
        "title: 报送自查报告\n        deliverable: report", "title: 报送自查报告\n        deliverabel: report"
    )
    with pytest.raises(SpecInvalid) as exc:
        parse_spec(text, "c.yaml")
    messages = [str(p) for p in exc.value.problems]
    line = next(i for i, line_text in enumerate(text.splitlines(), 1) if "deliverabel" in line_text)
    assert any(m.startswith(f"c.yaml:{line}:") and "deliverabel" in m and "未知的键" in m for m in messages)


def test_bad_date_names_the_field():
    text = _yaml_with("end: 2020-06-30", "end: 2020-06-31")
    with pytest.raises(SpecInvalid) as exc:
        parse_spec(text, "c.yaml")
    assert any(p.field == "phases[1].end" and "日期" in p.message for p in exc.value.problems)


def test_unknown_department_in_assignees_is_located():
    text = _yaml_with("assignees: {departments: [fgj]}", "assignees: {departments: [nosuch]}")
    with pytest.raises(SpecInvalid) as exc:
        parse_spec(text, "c.yaml")
    problem = exc.value.problems[0]
    assert "nosuch" in problem.message and problem.field.startswith("recurring_reports[1].assignees")
    assert problem.line > 1


def test_duplicate_yaml_key_is_an_error():
    with pytest.raises(SpecInvalid, match="重复"):
        parse_spec("id: a\nid: b\n", "c.yaml")


def test_yaml_syntax_error_has_position():
    with pytest.raises(SpecInvalid) as exc:
        parse_spec("id: x\n title: y\n", "c.yaml")
    assert str(exc.value.problems[0]).startswith("c.yaml:2:")


def test_moved_deadline_and_new_department_show_in_the_diff():
    spec = load_spec(YANJIANG)
    cal = campaign_calendar(spec)
    old = build_plan(spec, cal)
    changed = parse_spec(_yaml_with("due: 2020-10-20          # 10月20日前", "due: 2020-10-23"), "c.yaml")
    change = diff_plan({a.natural_key: a.due_on for a in old.assignments}, build_plan(changed, cal))
    assert not change.added and not change.removed
    assert {k[0] for k, _, _ in change.moved} == {"petition_table"}


YANJIANG = Path(__file__).resolve().parents[2] / "config" / "campaigns" / "yanjiang-2020.yaml"


def test_a_year_the_holiday_tables_do_not_know_is_refused_at_validation():
    text = YANJIANG.read_text(encoding="utf-8").replace("2020-", "2027-")
    with pytest.raises(SpecInvalid) as info:
        parse_spec(text, "y2027.yaml")
    [problem] = info.value.problems
    start_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("start:"))
    assert (problem.path, problem.line, problem.field) == ("y2027.yaml", start_line, "start")
    assert "2027" in problem.message and "declared_years" in problem.message


def test_a_year_declared_in_the_yaml_is_accepted():
    text = YANJIANG.read_text(encoding="utf-8").replace("2020-", "2027-")
    text += "calendar:\n  declared_years: [2027]\n  extra_holidays:\n    - {date: 2027-10-01, name: 国庆节}\n"
    assert parse_spec(text, "y2027.yaml").start.year == 2027


@pytest.mark.parametrize("due", ["2019-12-31", "2021-03-01"])
def test_a_deadline_outside_the_campaign_is_refused_with_its_line(due):
    text = YANJIANG.read_text(encoding="utf-8").replace("due: 2020-06-20          #", f"due: {due}          #", 1)
    with pytest.raises(SpecInvalid) as info:
        parse_spec(text, "late.yaml")
    [problem] = info.value.problems
    assert problem.field == "phases[1].tasks[0].due" and "不在专项行动起止日期" in problem.message
    assert problem.line == next(i for i, line in enumerate(text.splitlines(), 1) if f"due: {due}" in line)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_the_loader_and_its_limits_leave_every_example_meaning_the_same(path):
    # The guarded loader (libyaml, nesting, aliases, key and plan checks) must read each example exactly as
    # a plain YAML load + the pydantic model does, and plan it the same way.
    import yaml

    from domain.spec import CampaignSpec

    plain = CampaignSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    guarded = load_spec(path)
    assert guarded == plain
    cal = campaign_calendar(plain)
    assert build_plan(guarded, cal) == build_plan(plain, cal)


def test_validate_files_reports_every_file_past_a_broken_one(tmp_path):
    from services.spec_files import validate_files

    good = YANJIANG.read_text(encoding="utf-8")
    paths = []
    for name, text in [
        ("a.yaml", good),
        ("b.yaml", "id: [" * 60),
        ("c.yaml", good.replace("seed: 2020", "seed: -5")),
        ("d.yaml", good),
    ]:
        paths.append(tmp_path / name)
        paths[-1].write_text(text, encoding="utf-8")
    results = validate_files(paths)
    assert [(r.path, r.spec is not None) for r in results] == [
        (str(p), ok) for p, ok in zip(paths, [True, False, False, True], strict=True)
    ]
    assert "嵌套过深" in results[1].problems[0].message
    assert [p.field for p in results[2].problems] == ["sampling.seed"]
