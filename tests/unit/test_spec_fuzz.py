"""A seeded fuzzer over the two example campaigns (issue 11 item 7, the YAML part).

It writes well over a thousand mutated YAMLs: keys deleted, duplicated and retyped, huge and negative
numbers, impossible dates, swapped months, control characters, deep nesting, complex keys, alias bombs,
long strings, broken lines. Every one must end in a CampaignSpec or a SpecInvalid whose every problem reads
`path:line:col: …` — never any other exception — and every file of the classes issue 11 lists as invalid
must be refused. The counts are printed (`pytest -s`)."""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from domain import limits
from services.spec_files import SpecInvalid, load_spec, parse_spec, validate_files

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "config" / "campaigns").glob("*.yaml"))
SEED = 20201111
PER_CLASS = 44  # files per mutation class; 25 classes (its time is printed: speed belongs in bench/)

Data = dict[str, Any]


def _bases() -> list[tuple[str, Data]]:
    return [(p.read_text(encoding="utf-8"), yaml.safe_load(p.read_text(encoding="utf-8"))) for p in EXAMPLES]


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside the YAML data."""
    out: list[tuple[Any, ...]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


# Text fields that reach a column, with their limit and whether a line break is allowed.
def _text_fields(data: Data) -> list[tuple[tuple[Any, ...], int, bool]]:
    fields: list[tuple[tuple[Any, ...], int, bool]] = [
        (("title",), limits.TITLE_MAX, False),
        (("issuer",), limits.TITLE_MAX, False),
    ]
    for i, dept in enumerate(data["departments"]):
        fields.append((("departments", i, "name"), limits.NAME_MAX, False))
        for j, _tag in enumerate(dept.get("tags", [])):
            fields.append((("departments", i, "tags", j), limits.TAG_MAX, False))
        for key, limit in (("name", limits.PERSON_NAME_MAX), ("phone", limits.PHONE_MAX)):
            if key in dept.get("contact", {}):
                fields.append((("departments", i, "contact", key), limit, False))
    for i, phase in enumerate(data["phases"]):
        if "title" in phase:
            fields.append((("phases", i, "title"), limits.NAME_MAX, False))
        for j, task in enumerate(phase.get("tasks", [])):
            fields.append((("phases", i, "tasks", j, "title"), limits.TITLE_MAX, False))
            if "description" in task:
                fields.append((("phases", i, "tasks", j, "description"), limits.DESCRIPTION_MAX, True))
    for i, _report in enumerate(data.get("recurring_reports", [])):
        fields.append((("recurring_reports", i, "title"), limits.TITLE_MAX, False))
    for i, _rung in enumerate(data.get("escalation", [])):
        fields.append((("escalation", i, "name"), limits.ESCALATION_NAME_MAX, False))
    for i, _basis in enumerate(data.get("legal_basis", [])):
        fields.append((("legal_basis", i), limits.LEGAL_BASIS_MAX, False))
    return fields


NAME_FIELDS = re.compile(r"(name|title|issuer|tags|legal_basis)")
CONTROLS = [chr(c) for c in range(32)] + [
    "\x7f",
    "\x9b",
    "\u202e",
    "\u202a",
    "\u2066",
    "\u2028",
    "\u2029",
    "\ud800",
    "\udfff",
]
INVISIBLE = [" ", "\u3000", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\t"]
RANDOM_VALUES: list[Callable[[random.Random], Any]] = [
    lambda r: r.randint(-(10**20), 10**20),
    lambda r: r.choice([0, -1, 1, 2**31, 2**63, 10**100]),
    lambda r: r.random() * 10 ** r.randint(-5, 30),
    lambda r: r.choice([float("nan"), float("inf"), -float("inf")]),
    lambda r: "".join(r.choice("abc字段 -_:#&*!|>'\"%@`") for _ in range(r.randint(0, 30))),
    lambda r: None,
    lambda r: r.choice([True, False]),
    lambda r: [r.randint(0, 9) for _ in range(r.randint(0, 3))],
    lambda r: {"k": r.randint(0, 9)},
    lambda r: dt.date(r.randint(1, 9999), r.randint(1, 12), r.randint(1, 28)),
    lambda r: r.choice(["2020-02-30", "2020-13-01", "0000-01-01", "tomorrow", "2020/06/01", "20200601"]),
    lambda r: dt.datetime(2020, 6, 1, r.randint(0, 23), 30, tzinfo=dt.UTC),
]


# --- the mutation classes ----------------------------------------------------------------------
# Each takes (rng, base text, base data) and returns the YAML text. INVALID classes must all be refused.


def m_delete_key(r: random.Random, text: str, data: Data) -> str:
    path = r.choice(_paths(data))
    container = _get(data, path[:-1])
    del container[path[-1]]
    return _dump(data)


def m_retype(r: random.Random, text: str, data: Data) -> str:
    _set(data, r.choice(_paths(data)), r.choice(RANDOM_VALUES)(r))
    return _dump(data)


def m_numbers(r: random.Random, text: str, data: Data) -> str:
    numeric = [p for p in _paths(data) if type(_get(data, p)) in (int, float)]
    for path in r.sample(numeric, k=min(len(numeric), r.randint(1, 3))):
        _set(data, path, r.choice([-1, 0, -(2**31), 2**31, 2**63, 10**30, -(10**30), 0.5, 1e308, r.randint(-999, 999)]))
    return _dump(data)


def m_dates(r: random.Random, text: str, data: Data) -> str:
    dates = [p for p in _paths(data) if isinstance(_get(data, p), dt.date)]
    for path in r.sample(dates, k=min(len(dates), r.randint(1, 3))):
        _set(data, path, r.choice(RANDOM_VALUES[9:12])(r))
    return _dump(data)


def m_duplicate_line(r: random.Random, text: str, data: Data) -> str:
    lines = text.splitlines(keepends=True)
    i = r.randrange(len(lines))
    lines.insert(i, lines[i])
    return "".join(lines)


def m_break_lines(r: random.Random, text: str, data: Data) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(r.randint(1, 4)):
        i, j = r.randrange(len(lines)), r.randrange(len(lines))
        op = r.randrange(4)
        if op == 0:
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 1:
            del lines[i]
        elif op == 2:
            lines[i] = " " * r.randint(1, 5) + lines[i]
        else:
            k = r.randrange(len(lines[i]) + 1)
            junk = r.choice([":", "- ", "{", "[", "&x ", "*x", "!!str ", "? ", "|", "'", '"', "\t"])
            lines[i] = lines[i][:k] + junk + lines[i][k:]
    return "".join(lines)


def m_truncate(r: random.Random, text: str, data: Data) -> str:
    return text[: r.randrange(len(text))]


def m_long_strings(r: random.Random, text: str, data: Data) -> str:
    for path, limit, _multi in r.sample(_text_fields(data), k=3):
        _set(data, path, r.choice("字ab𠮷") * r.randint(1, limit))
    return _dump(data)


def m_random_keys(r: random.Random, text: str, data: Data) -> str:
    maps = [p for p in _paths(data) if isinstance(_get(data, p), dict)] + [()]
    target = _get(data, r.choice(maps))
    target[r.choice(["titel", "Start", "end ", "deu", "tasks", "x" * 100, "字段", "due"])] = r.choice(RANDOM_VALUES)(r)
    return _dump(data)


def m_valid_aliases(r: random.Random, text: str, data: Data) -> str:
    # A few legitimate anchors and aliases (a reused assignees block): validation decides, not the loader.
    return text.replace("assignees: {tags: [行业监管]}", "assignees: &regs {tags: [行业监管]}", 1).replace(
        "assignees: {tags: [行业监管]}", "assignees: *regs"
    )


# The invalid classes issue 11 lists: each generated file must be refused.
def x_swapped_months(r: random.Random, text: str, data: Data) -> str:
    start, end = data["start"], data["end"]
    months = [
        dt.date(y, m, 1)
        for y in range(start.year, end.year + 1)
        for m in range(1, 13)
        if (start.year, start.month) <= (y, m) <= (end.year, end.month)
    ]
    late, early = sorted(r.sample(months, 2), reverse=True)
    if not data.get("recurring_reports"):
        data["recurring_reports"] = [
            {"key": "monthly", "title": "月报", "assignees": {"all_members": True}, "day_of_month": 20}
        ]
    report = r.choice(data["recurring_reports"])
    report["first_month"], report["last_month"] = late, early
    return _dump(data)


def x_anchor_outside(r: random.Random, text: str, data: Data) -> str:
    task = r.choice([t for p in data["phases"] for t in p.get("tasks", [])])
    before = data["start"] - dt.timedelta(days=r.randint(1, 4000))
    after = data["end"] + dt.timedelta(days=r.randint(1, 4000))
    task["due"] = {"working_days_after": r.choice([before, after]), "days": r.randint(0, 250)}
    return _dump(data)


def x_seed(r: random.Random, text: str, data: Data) -> str:
    data["sampling"] = data.get("sampling") or {"phase": data["phases"][0]["key"], "min_ratio": 0.2}
    data["sampling"]["seed"] = r.choice([2**31, 2**31 + r.randint(0, 10**9), 2**63, 10**30, -1, -r.randint(1, 10**9)])
    return _dump(data)


def x_control_char(r: random.Random, text: str, data: Data) -> str:
    path, _limit, multiline = r.choice(_text_fields(data))
    value = str(_get(data, path))
    char = r.choice([c for c in CONTROLS if not (multiline and c in "\n\t")])
    k = r.randint(0, len(value))
    _set(data, path, value[:k] + char + value[k:])
    return _dump(data)


def x_raw_control_byte(r: random.Random, text: str, data: Data) -> str:
    k = r.randrange(len(text))
    # Characters no YAML stream may hold anywhere, comments included (bidi and separators are text there).
    raw = [c for c in CONTROLS if c not in "\n\t\r" and not "\u2000" <= c <= "\u2fff"]
    return text[:k] + r.choice(raw) + text[k:]


def x_too_long(r: random.Random, text: str, data: Data) -> str:
    path, limit, _multi = r.choice(_text_fields(data))
    _set(data, path, r.choice("字a𠮷") * (limit + r.randint(1, 1000)))
    return _dump(data)


def x_blank_name(r: random.Random, text: str, data: Data) -> str:
    names = [
        (p, lim)
        for p, lim, _m in _text_fields(data)
        if NAME_FIELDS.search(str(p[-1] if isinstance(p[-1], str) else p[-2]))
    ]
    path, _limit = r.choice(names)
    _set(data, path, "".join(r.choice(INVISIBLE) for _ in range(r.randint(0, 6))))
    return _dump(data)


def x_declared_years(r: random.Random, text: str, data: Data) -> str:
    bad = r.choice([-1, 0, 1, 1999, data["start"].year - 2, data["end"].year + 2, 3000, 10**12, -(10**12)])
    data["calendar"] = {"declared_years": [data["start"].year, bad][:: r.choice([1, -1])]}
    return _dump(data)


def x_dates_out_of_window(r: random.Random, text: str, data: Data) -> str:
    choice = r.randrange(3)
    if choice == 0:
        data["start"] = data["start"].replace(year=r.randint(1, limits.YEAR_MIN - 1))
    elif choice == 1:
        data["end"] = data["end"].replace(year=r.randint(limits.YEAR_MAX + 1, 9999))
    else:
        data["end"] = data["end"].replace(year=data["start"].year + limits.CAMPAIGN_YEARS_MAX + r.randint(0, 50))
    return _dump(data)


def x_deep_nesting(r: random.Random, text: str, data: Data) -> str:
    depth = r.randint(limits.SPEC_NESTING_MAX + 1, 3000)
    style = r.randrange(3)
    if style == 0:
        value = "[" * depth + "1" + "]" * depth
    elif style == 1:
        value = "{a: " * depth + "1" + "}" * depth
    else:
        depth = min(depth, 300)
        value = "\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "x: 1"
    key = r.choice(["legal_basis", "phases", "zzz", "title"])
    return re.sub(rf"(?m)^{key}:.*$", "", text, count=1) + f"\n{key}: {value}\n"


def x_complex_key(r: random.Random, text: str, data: Data) -> str:
    key = r.choice(["? [a, b]\n: 1\n", "? {a: 1}\n: 1\n", "[a, b]: 1\n", "{a: 1}: 2\n", "? - x\n  - y\n: z\n"])
    lines = text.splitlines(keepends=True)
    tops = [i for i, line in enumerate(lines) if re.match(r"^[a-z_]+:", line)]
    i = r.choice(tops)
    return "".join(lines[:i]) + key + "".join(lines[i:])


def x_alias_bomb(r: random.Random, text: str, data: Data) -> str:
    fan = r.randint(5, 12)
    levels = 1
    while fan**levels <= limits.SPEC_NODES_MAX * 2:
        levels += 1
    levels += r.randint(0, 3)
    bomb = f"lol0: &a0 [{', '.join(['lol'] * fan)}]\n"
    bomb += "".join(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]\n" for i in range(1, levels + 1))
    where = r.randrange(2)
    return bomb + text if where == 0 else text + bomb + f"legal_extra: *a{levels}\n"


def x_self_alias(r: random.Random, text: str, data: Data) -> str:
    return text + r.choice(["loop: &l [*l]\n", "loop: &l {a: *l}\n", "loop: &l [1, [2, *l]]\n"])


def x_oversize(r: random.Random, text: str, data: Data) -> str:
    return text + "#" + "长" * (limits.SPEC_FILE_MAX_BYTES // 3 + r.randint(1, 1000)) + "\n"


MUTATIONS: list[Callable[[random.Random, str, Data], str]] = [
    m_delete_key,
    m_retype,
    m_numbers,
    m_dates,
    m_duplicate_line,
    m_break_lines,
    m_truncate,
    m_long_strings,
    m_random_keys,
    m_valid_aliases,
]
INVALID: list[Callable[[random.Random, str, Data], str]] = [
    x_swapped_months,
    x_anchor_outside,
    x_seed,
    x_control_char,
    x_raw_control_byte,
    x_too_long,
    x_blank_name,
    x_declared_years,
    x_dates_out_of_window,
    x_deep_nesting,
    x_complex_key,
    x_alias_bomb,
    x_self_alias,
]
OVERSIZE_FILES = 3  # each is a megabyte; refused before parsing, so a few prove it


POSITIONED = re.compile(r"^(?P<path>[^\n]+?):(?P<line>[1-9]\d*):(?P<col>[1-9]\d*): \S")


def _outcome(text: str, name: str) -> tuple[str, list[str]]:
    """'accepted' or 'refused' with every problem line; anything else propagates and fails the test."""
    try:
        parse_spec(text, name)
    except SpecInvalid as exc:
        return "refused", [str(p) for p in exc.problems]
    return "accepted", []


def test_fuzzed_yamls_validate_or_are_refused_with_positions(capsys):
    rng = random.Random(SEED)
    bases = _bases()
    counts: Counter[str] = Counter()
    accepted_invalid: list[tuple[str, str]] = []
    started = time.perf_counter()
    plan = [(m, PER_CLASS) for m in MUTATIONS] + [(x, PER_CLASS) for x in INVALID] + [(x_oversize, OVERSIZE_FILES)]
    n = 0
    for mutation, times in plan:
        for _ in range(times):
            base_text, base_data = rng.choice(bases)
            text = mutation(rng, base_text, copy.deepcopy(base_data))
            name = f"fuzz/{mutation.__name__}-{n}.yaml"
            n += 1
            outcome, problems = _outcome(text, name)
            counts[outcome] += 1
            for problem in problems:
                assert POSITIONED.match(problem) and problem.startswith(name + ":"), problem
            if mutation in INVALID or mutation is x_oversize:
                counts["invalid-class"] += 1
                if outcome == "accepted":
                    accepted_invalid.append((mutation.__name__, text[:300]))
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nfuzz: {n} files, {counts['accepted']} accepted, {counts['refused']} refused, "
            f"{counts['invalid-class']} in invalid classes, {len(accepted_invalid)} of those accepted, "
            f"0 internal errors, {elapsed:.1f} s"
        )
    assert n >= 1000
    assert accepted_invalid == []
    assert counts["accepted"] > 0 and counts["refused"] > 0  # the mutations really exercise both outcomes


def test_unreadable_files_are_named_without_a_position(tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "gbk.yaml").write_bytes("title: 专项行动\n".encode("gbk"))
    for name in ("missing.yaml", "dir.yaml", "gbk.yaml"):
        path = tmp_path / name
        try:
            load_spec(path)
        except SpecInvalid as exc:
            [problem] = exc.problems
            assert re.match(rf"^{re.escape(str(path))}(:1:1)?: \S", str(problem)), str(problem)
        else:
            raise AssertionError(f"{name} accepted")


def test_a_multi_file_validate_reports_every_file(tmp_path):
    rng = random.Random(SEED + 1)
    paths = []
    for i, (text, data) in enumerate((_bases() * 2)[:4]):
        broken = [text, x_deep_nesting(rng, text, data), x_complex_key(rng, text, data), text][i]
        path = tmp_path / f"c{i}.yaml"
        path.write_text(broken, encoding="utf-8")
        paths.append(path)
    paths.insert(2, tmp_path / "missing.yaml")
    results = validate_files(paths)
    assert [r.path for r in results] == [str(p) for p in paths]
    assert [r.spec is not None for r in results] == [True, False, False, False, True]
    for result in results:
        assert all(str(p).startswith(result.path + ":") for p in result.problems)
        assert (result.spec is None) == bool(result.problems)
