"""Every text field of the campaign spec at its domain.limits maximum validates; one character more is
refused at its file:line:col. Also the other bounds issue 11 named: control characters, blank names,
seeds, date windows, months, anchors, declared years, file size and nesting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain import limits
from services.spec_files import SpecInvalid, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
YANJIANG = ROOT / "config" / "campaigns" / "yanjiang-2020.yaml"
WIDE = "𠮷"  # outside the BMP: four bytes in UTF-8, one character to pydantic and to PostgreSQL's varchar


def _code(n: int, first: str) -> str:
    return first + "x" * (n - 1)


OFFICE = _code(limits.CODE_MAX, "o")
MEMBER = _code(limits.CODE_MAX - 1, "m")
PHASE = _code(limits.CODE_MAX, "p")
TASK = _code(limits.CODE_MAX, "t")
REPORT = _code(limits.CODE_MAX, "r")
TAGS = [chr(0x4E00 + i) * limits.TAG_MAX for i in range(limits.TAGS_JOINED_MAX // (limits.TAG_MAX + 1))]


def _email(n: int, letter: str) -> str:
    return letter * (n - len("@x.cn")) + "@x.cn"


# Every text field that reaches a column (or the stored spec), as a path into the YAML data,
# its maximum, and how to write a value of a given length there.
TEXT_FIELDS: list[tuple[tuple[Any, ...], int, Any]] = [
    (("id",), limits.CODE_MAX, lambda n: _code(n, "c")),
    (("title",), limits.TITLE_MAX, lambda n: "题" * n),
    (("issuer",), limits.TITLE_MAX, lambda n: "发" * n),
    (("legal_basis", 0), limits.LEGAL_BASIS_MAX, lambda n: "号" * n),
    (("departments", 0, "name"), limits.NAME_MAX, lambda n: WIDE * n),
    (("departments", 1, "name"), limits.NAME_MAX, lambda n: "局" * n),
    (("departments", 1, "contact", "name"), limits.PERSON_NAME_MAX, lambda n: "张" * n),
    (("departments", 1, "contact", "phone"), limits.PHONE_MAX, lambda n: "1" * n),
    (("departments", 1, "contact", "email"), limits.EMAIL_MAX, lambda n: _email(n, "e")),
    (("departments", 1, "tags", 0), limits.TAG_MAX, lambda n: "签" * n),
    (("phases", 0, "title"), limits.NAME_MAX, lambda n: "段" * n),
    (("phases", 0, "tasks", 0, "title"), limits.TITLE_MAX, lambda n: "任" * n),
    (("phases", 0, "tasks", 0, "description"), limits.DESCRIPTION_MAX, lambda n: ("说明\n" * n)[:n]),
    (("recurring_reports", 0, "title"), limits.TITLE_MAX, lambda n: "月" * n),
    (("escalation", 0, "name"), limits.ESCALATION_NAME_MAX, lambda n: "警" * n),
    (("calendar", "extra_holidays", 0, "name"), limits.NAME_MAX, lambda n: "节" * n),
]


def max_spec_data() -> dict[str, Any]:
    """A small campaign whose every text field, code and seed sits exactly at its limit."""
    data: dict[str, Any] = {
        "id": None,
        "title": None,
        "issuer": None,
        "legal_basis": [None],
        "start": dt.date(2020, 5, 11),
        "end": dt.date(2020, 10, 31),
        "office": OFFICE,
        "departments": [
            {"code": OFFICE, "name": None, "kind": "office"},
            {
                "code": MEMBER,
                "name": None,
                "kind": "industry_regulator",
                "contact": {"name": None, "phone": None, "email": None},
                "tags": [None, *TAGS[1:]],
            },
        ],
        "phases": [
            {
                "key": PHASE,
                "kind": "verification",
                "title": None,
                "start": dt.date(2020, 5, 11),
                "end": dt.date(2020, 10, 31),
                "tasks": [
                    {
                        "key": TASK,
                        "title": None,
                        "deliverable": "report",
                        "description": None,
                        "assignees": {"departments": [MEMBER], "tags": [TAGS[1]], "lead": MEMBER},
                        "due": {"working_days_after": dt.date(2020, 6, 1), "days": 10},
                    }
                ],
            },
        ],
        "recurring_reports": [
            {
                "key": REPORT,
                "title": None,
                "assignees": {"departments": [MEMBER]},
                "day_of_month": 20,
                "first_month": dt.date(2020, 6, 1),
                "last_month": dt.date(2020, 10, 1),
            }
        ],
        "escalation": [{"level": 1, "name": None, "after_overdue_working_days": 3}],
        "sampling": {"phase": PHASE, "min_ratio": 0.2, "seed": limits.SEED_LIMIT - 1},
        "calendar": {"extra_holidays": [{"date": dt.date(2020, 10, 9), "name": None}]},
    }
    for path, maximum, make in TEXT_FIELDS:
        _put(data, path, make(maximum))
    return data


def _put(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _field(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)


def max_spec_yaml() -> str:
    return to_yaml(max_spec_data())


def _refused(text: str, name: str = "c.yaml") -> list[Any]:
    with pytest.raises(SpecInvalid) as info:
        parse_spec(text, name)
    problems = info.value.problems
    assert problems and all(str(p).startswith(f"{name}:{p.line}:{p.column}: ") and p.line >= 1 for p in problems)
    return problems


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_every_text_field_at_its_maximum_validates():
    spec = parse_spec(max_spec_yaml(), "max.yaml")
    assert len(spec.id) == limits.CODE_MAX and len(spec.title) == limits.TITLE_MAX
    assert spec.departments[0].name == WIDE * limits.NAME_MAX
    assert len("、".join(spec.departments[1].tags)) <= limits.TAGS_JOINED_MAX
    assert spec.sampling is not None and spec.sampling.seed == limits.SEED_LIMIT - 1


@pytest.mark.parametrize(("path", "maximum", "make"), TEXT_FIELDS, ids=[_field(f[0]) for f in TEXT_FIELDS])
def test_one_character_over_is_refused_at_its_line(path, maximum, make):
    data = max_spec_data()
    value = make(maximum + 1)
    _put(data, path, value)
    text = to_yaml(data)
    problems = _refused(text)
    mine = [p for p in problems if p.field == _field(path)]
    assert mine, problems
    first_line = value.splitlines()[0]
    assert mine[0].line == _line_of(text, first_line[:20])
    assert ("过长" in mine[0].message and str(maximum) in mine[0].message) or "最长" in mine[0].message


def test_tags_that_do_not_fit_the_joined_column_are_refused():
    data = max_spec_data()
    data["departments"][1]["tags"] = [*TAGS, "多" * limits.TAG_MAX]
    problems = _refused(to_yaml(data))
    assert any(p.field == "departments[1].tags" and str(limits.TAGS_JOINED_MAX) in p.message for p in problems)


@pytest.mark.parametrize(
    ("seed", "ok"), [(0, True), (limits.SEED_LIMIT - 1, True), (limits.SEED_LIMIT, False), (2**63, False), (-1, False)]
)
def test_seed_is_bounded(seed, ok):
    data = max_spec_data()
    data["sampling"]["seed"] = seed
    if ok:
        assert parse_spec(to_yaml(data)).sampling.seed == seed
    else:
        [problem] = _refused(to_yaml(data))
        assert problem.field == "sampling.seed"


def _yanjiang(old: str, new: str) -> str:
    text = YANJIANG.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "value",
    [
        '"区\\0住建局"',
        '"区\\x07住建局"',
        '"区\\n住建局"',
        '"区\\u202e住建局"',
        '"区\\ud800"',
        '"区\\x1b[31m"',
        '"区\\u2028"',
    ],
)
def test_control_characters_are_refused(value):
    text = _yanjiang("name: 区住建局", f"name: {value}")
    problems = _refused(text)
    # libyaml already refuses a lone surrogate escape as a syntax error, at the same line
    assert problems[0].line == _line_of(text, value) and problems[0].field in {"departments[1].name", ""}


def test_a_raw_nul_byte_in_the_file_is_refused_at_its_position():
    text = _yanjiang("name: 区住建局", "name: 区\x00住建局")
    [problem] = _refused(text)
    assert (problem.line, problem.column) == (_line_of(text, "区\x00"), len("    name: 区") + 1)
    assert "U+0000" in problem.message


@pytest.mark.parametrize("value", ['""', '"   "', '"\\u200b\\u200b"', '"\\u3000\\ufeff"', '"\\u200d "'])
def test_blank_and_zero_width_names_are_refused(value):
    text = _yanjiang("name: 区住建局", f"name: {value}")
    problems = _refused(text)
    assert problems[0].field == "departments[1].name" and problems[0].line == _line_of(text, f"name: {value}")


@pytest.mark.parametrize(
    ("old", "new", "field", "needle"),
    [
        ("start: 2020-05-11", "start: 1999-05-11", "start", "start: 1999"),
        ("end: 2020-10-31", "end: 2100-10-31", "end", "end: 2100"),
        ("end: 2020-10-31", "end: 2031-10-31", "end", "end: 2031"),
        (
            "first_month: 2020-06-01\n  - key: office_rollup",
            "first_month: 2020-09-01\n    last_month: 2020-07-01\n  - key: office_rollup",
            "recurring_reports[0].last_month",
            "last_month: 2020-07-01",
        ),
        (
            "due: {working_days_after: phase_start, days: 10}",
            "due: {working_days_after: 2015-01-01, days: 10}",
            "phases[0].tasks[0].due.working_days_after",
            "2015-01-01",
        ),
        (
            "due: {working_days_after: phase_start, days: 10}",
            "due: {working_days_after: phase_end, days: 250}",
            "phases[0].tasks[0].due",
            "days: 250",
        ),
        ("seed: 2020", "seed: 2147483648", "sampling.seed", "seed: 2147483648"),
    ],
)
def test_out_of_window_values_are_refused_with_their_field(old, new, field, needle):
    text = _yanjiang(old, new)
    problems = _refused(text)
    assert any(p.field == field for p in problems), problems
    problem = next(p for p in problems if p.field == field)
    assert problem.line == _line_of(text, needle)


@pytest.mark.parametrize(
    ("calendar", "field"),
    [
        ("  declared_years: [-1]", "calendar.declared_years[0]"),
        ("  declared_years: [2020, 3000]", "calendar.declared_years[1]"),
        ("  extra_workdays: [1900-01-01]", "calendar.extra_workdays[0]"),
        ("  extra_holidays: [{date: 2080-01-01, name: 元旦}]", "calendar.extra_holidays[0].date"),
    ],
)
def test_calendar_overrides_stay_near_the_campaign(calendar, field):
    text = YANJIANG.read_text(encoding="utf-8") + f"\ncalendar:\n{calendar}\n"
    problems = _refused(text)
    assert problems[0].field == field and problems[0].line == len(text.splitlines())


def test_an_oversize_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * limits.SPEC_FILE_MAX_BYTES + "\n", encoding="utf-8")
    with pytest.raises(SpecInvalid) as info:
        load_spec(path)
    [problem] = info.value.problems
    assert str(problem).startswith(f"{path}:1:1: ") and "文件过大" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "id: " + "[" * 5000 + "]" * 5000,
        "id: " + "{a: " * 2000 + "1" + "}" * 2000,
        "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "x: 1\n",
        "".join("  " * i + "-\n" for i in range(200)) + "  " * 200 + "x\n",
    ],
)
def test_deep_nesting_is_refused_with_a_message(text):
    [problem] = _refused(text)
    assert "嵌套过深" in problem.message and str(limits.SPEC_NESTING_MAX) in problem.message


def test_billion_laughs_is_refused_without_expanding():
    text = "lol0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    text += "".join(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))
    [problem] = _refused(text)
    assert "展开后内容过多" in problem.message and problem.line == 2


def test_a_self_referring_alias_is_refused():
    [problem] = _refused("id: &a [*a]\n")
    assert "循环引用" in problem.message


@pytest.mark.parametrize(
    "extra",
    [
        "? [a, b]\n: 1\n",
        "? {a: 1}\n: 1\n",
        "1: x\n",
        "null: x\n",
        "2020-01-01: x\n",
        "base: &b {a: 1}\nmerged:\n  <<: *b\n",
    ],
)
def test_complex_and_non_text_keys_are_refused(extra):
    text = YANJIANG.read_text(encoding="utf-8") + extra
    problems = _refused(text)
    assert problems[0].line > len(YANJIANG.read_text(encoding="utf-8").splitlines())


def test_thousands_of_bad_entries_are_listed_up_to_a_bound():
    data = max_spec_data()
    data["legal_basis"] = [""] * 5000
    problems = _refused(to_yaml(data))
    assert len(problems) == 101 and "另有 4900 处问题" in problems[-1].message


def test_the_limits_equal_the_columns():
    from store import models

    expected = {
        (models.Campaign, "code"): limits.CODE_MAX,
        (models.Campaign, "title"): limits.TITLE_MAX,
        (models.Campaign, "issuer"): limits.TITLE_MAX,
        (models.Department, "code"): limits.CODE_MAX,
        (models.Department, "name"): limits.NAME_MAX,
        (models.Department, "tags"): limits.TAGS_JOINED_MAX,
        (models.Department, "contact_name"): limits.PERSON_NAME_MAX,
        (models.Department, "contact_phone"): limits.PHONE_MAX,
        (models.Department, "contact_email"): limits.EMAIL_MAX,
        (models.Phase, "key"): limits.CODE_MAX,
        (models.Phase, "title"): limits.NAME_MAX,
        (models.TaskTemplate, "key"): limits.CODE_MAX,
        (models.TaskTemplate, "title"): limits.TITLE_MAX,
        (models.Escalation, "name"): limits.ESCALATION_NAME_MAX,
        (models.Assignment, "period"): limits.PROJECT_CODE_MAX,
        (models.Project, "code"): limits.PROJECT_CODE_MAX,
        (models.User, "username"): limits.USERNAME_MAX,
        (models.Lead, "code"): limits.LEDGER_CODE_MAX,
    }
    for (model, column), width in expected.items():
        assert model.__table__.c[column].type.length == width, (model.__name__, column)
