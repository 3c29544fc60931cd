"""Load campaign YAML into a CampaignSpec with errors that point at file:line:col in plain words.

Whatever the file holds, loading ends in a CampaignSpec or a SpecInvalid listing every problem found:
the size is checked before reading, nesting while composing, aliases before constructing (a
billion-laughs file is refused, not expanded), and the plan is built so that a spec that validates
also launches (every deadline's year known, relative deadlines inside the campaign, a bounded size).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domain import limits
from domain.calendar import CalendarUnknown
from domain.errors import SpecInvalid, SpecProblem
from domain.plan import build_plan, plan_size, resolve_batches, resolve_due
from domain.spec import CODE_HINT, CampaignSpec, RelativeDue
from services.campaigns import spec_digest
from services.holidays import campaign_calendar

PROBLEMS_SHOWN = 100  # a file with thousands of bad entries lists the first hundred and counts the rest

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(yaml.MarkedYAMLError):
    """A YAML document this loader will not build (too deep, complex keys, alias bombs); `problem` is Chinese."""


# libyaml's parser and composer (when PyYAML has it) are some thirty times faster than the pure-Python ones;
# both are safe here because nesting is measured on the event stream before any node is composed.
_FastSafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What YAML refuses in a stream (PyYAML's reader rule), found here with its exact line and column.
_NOT_YAML_TEXT = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Loader(_FastSafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that refuses duplicate keys, complex keys and merge keys (see _construct_mapping)."""


def _scan(text: str) -> Any:
    """Measure nesting on the event stream (iterative, so no RecursionError) before composing any node;
    returns where the first alias is, to point at it if expanding aliases is refused."""
    depth, first_alias = 0, None  # libyaml's marks are its own Mark type: typed Any
    for event in yaml.parse(text, Loader=_FastSafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > limits.SPEC_NESTING_MAX:
                message = f"嵌套过深：映射和列表最多嵌套 {limits.SPEC_NESTING_MAX} 层"
                raise _Refused(None, None, message, event.start_mark)  # type: ignore[arg-type]  # libyaml Mark
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent) and first_alias is None:
            first_alias = event.start_mark
    return first_alias


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            raise _Refused(None, None, "不支持合并键 <<：请把内容直接写出", key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Refused(None, None, "键必须是简单的文本，不能是列表或映射（“? ”复杂键）", key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str):
            raise _Refused(
                None,
                None,
                f"键 {key_node.value!r} 应为文本（不能是数字、日期、true/false 或 null）",
                key_node.start_mark,
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"键 {key!r} 重复（第 {seen[key].start_mark.line + 1} 行已出现）", key_node.start_mark
            )
        seen[key] = key_node
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    # 2020-06-31 looks like a date but is none: keep the text so validation names the field.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _check_expansion(root: yaml.Node, first_alias: Any) -> None:
    """Refuse before constructing when aliases would multiply the document (billion laughs), nest it
    beyond the limit or make it refer to itself: construction shares aliased objects, but validation
    walks every copy."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes when expanded, depth)
    open_nodes: set[int] = set()
    where = first_alias or root.start_mark

    def expand(node: yaml.Node) -> tuple[int, int]:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in open_nodes:
            raise _Refused(None, None, "别名引用了包含它自身的内容（循环引用）", where)
        if isinstance(node, yaml.ScalarNode):
            return 1, 0
        open_nodes.add(id(node))
        count, depth = 1, 0
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
        for child in children:
            child_count, child_depth = expand(child)
            count, depth = count + child_count, max(depth, child_depth + 1)
            if depth > limits.SPEC_NESTING_MAX:
                message = f"别名展开后嵌套过深：映射和列表最多嵌套 {limits.SPEC_NESTING_MAX} 层"
                raise _Refused(None, None, message, where)
            if count > limits.SPEC_NODES_MAX:
                raise _Refused(
                    None,
                    None,
                    f"别名（*）展开后内容过多：超过 {limits.SPEC_NODES_MAX} 个节点，疑似“十亿笑声”攻击，请直接写出内容",
                    where,
                )
        open_nodes.discard(id(node))
        sizes[id(node)] = count, depth
        return count, depth

    expand(root)


def _load(text: str, path: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for positions) and the plain data of one YAML document, or SpecInvalid."""
    bad = _NOT_YAML_TEXT.search(text)
    if bad:
        line, col = _position(text, bad.start())
        raise SpecInvalid(
            [
                SpecProblem(
                    path, line, col, "", f"文件含有不允许的字符 U+{ord(bad.group()):04X}（控制字符或无效字符），请删除"
                )
            ]
        )
    loader: _Loader | None = None
    try:
        first_alias = _scan(text)
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_expansion(root, first_alias)
        return root, loader.construct_document(root)
    except _Refused as exc:
        raise SpecInvalid([_at_mark(path, exc.problem_mark, "", str(exc.problem))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML 语法错误: {exc.problem or exc}"
        if "nesting depth" in str(exc.problem):  # libyaml's own stop, reached while reading ahead
            message = f"嵌套过深：映射和列表最多嵌套 {limits.SPEC_NESTING_MAX} 层"
        raise SpecInvalid([_at_mark(path, mark, "", message)]) from None
    except yaml.YAMLError as exc:
        raise SpecInvalid([SpecProblem(path, 1, 1, "", f"YAML 语法错误: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _at_mark(path: str, mark: Any, field: str, message: str) -> SpecProblem:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return SpecProblem(path, line, col, field, message)


_TRANSLATIONS = [
    (r"^Extra inputs are not permitted$", "未知的键（拼写错误？可用 `campaign schema` 查看允许的键）"),
    (r"^Field required$", "缺少必填项"),
    (r"^Datetimes provided to dates should have zero time.*", "应为日期（YYYY-MM-DD），不能带时间"),
    (r"^Input should be a valid date.*", "不是有效日期（格式 YYYY-MM-DD）"),
    (r"^Input should be a valid integer.*", "应为整数"),
    (r"^Input should be a finite number.*", "应为有限的数字"),
    (r"^Input should be a valid number.*", "应为数字"),
    (r"^Input should be a valid boolean.*", "应为 true 或 false"),
    (r"^Input should be a valid (list|tuple).*", "应为列表"),
    (r"^Input should be a valid dictionary.*", "应为键值映射"),
    (r"^Input should be an object.*", "应为键值映射"),
    (r"^Input should be a valid string.*", "应为文本"),
    (r"^String should match pattern.*", CODE_HINT),
    (r"^String should have at least 1 character.*", "不能为空"),
    (r"^String should have at most (\d+) characters?$", r"过长：最多 \1 个字符"),
    (r"^(List|Tuple) should have at least 1 item.*", "至少需要一项"),
    (r"^(List|Tuple) should have at most (\d+) items?.*", r"项数过多：最多 \2 项"),
    (r"^Input should be (greater than or equal to|greater than) (.*)$", r"应不小于 \2"),
    (r"^Input should be (less than or equal to) (.*)$", r"应不大于 \2"),
    (r"^Input should be less than (.*)$", r"应小于 \1"),
    (r"^Recursion error - cyclic reference detected$", "内容引用了自身（循环引用）"),
    (r"^Input should be (.*)$", r"取值应为 \1"),
    (r"^Value error, ", ""),
]


def _plain(message: str) -> str:
    for pattern, repl in _TRANSLATIONS:
        if re.search(pattern, message):
            return re.sub(pattern, repl, message)
    return message


def _locate(root: yaml.Node | None, loc: tuple[Any, ...], at_key: bool = False) -> yaml.Node | None:
    """Follow a pydantic error location through the YAML node tree (to the key for unknown keys)."""
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if pair is None:
                return node
            if at_key and i == len(loc) - 1:
                return pair[0]
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


_PATH_PREFIX = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.*)$", re.S)


def _parse_path(text: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for piece in text.split("."):
        m = re.match(r"^([a-z_]+)(?:\[(\d+)\])?$", piece)
        if not m:
            return ()
        parts.append(m.group(1))
        if m.group(2) is not None:
            parts.append(int(m.group(2)))
    return tuple(parts)


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not isinstance(part, str) or part in {"date", "RelativeDue"} or part.startswith("literal["):
            continue  # pydantic's union-branch labels are noise to a YAML author
        else:
            out += ("." if out else "") + part
    return out


def _too_big(size: int, path: str) -> SpecInvalid:
    megabytes = limits.SPEC_FILE_MAX_BYTES // 1024 // 1024
    message = f"文件过大（{size / 1024 / 1024:.1f} MB），专项行动 YAML 最大 {megabytes} MB"
    return SpecInvalid([SpecProblem(path, 1, 1, "", message)])


def parse_spec(text: str, path: str = "<campaign>") -> CampaignSpec:
    size = len(text) if len(text) > limits.SPEC_FILE_MAX_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > limits.SPEC_FILE_MAX_BYTES:
        raise _too_big(size, path)
    root, data = _load(text, path)
    if not isinstance(data, dict):
        raise SpecInvalid([SpecProblem(path, 1, 1, "", "文件内容应为一个专项行动（键值映射），而不是空文件或列表")])
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecInvalid(_problems(exc, root, path)) from None
    _check_calendar_known(spec, root, path)
    _check_plan(spec, root, path)
    return spec


def _check_calendar_known(spec: CampaignSpec, root: yaml.Node | None, path: str) -> None:
    """Every year the campaign runs in must be known to chinese-calendar or declared in `calendar`,
    so that a campaign is refused here, with its line, rather than failing at its first tick."""
    cal = campaign_calendar(spec)
    for year in range(spec.start.year, spec.end.year + 1):
        try:
            cal.is_workday(max(spec.start, dt.date(year, 1, 1)))
        except CalendarUnknown as exc:
            field = "start" if year == spec.start.year else "end"
            raise SpecInvalid([_at_node(path, root, (field,), str(exc))]) from None


def _check_plan(spec: CampaignSpec, root: yaml.Node | None, path: str) -> None:
    """What launch would build must be buildable: every deadline resolves in a known calendar year,
    a relative deadline lands inside the campaign, and the plan has a bounded number of assignments."""
    cal = campaign_calendar(spec)
    problems: list[SpecProblem] = []
    for i, phase in enumerate(spec.phases):
        for j, task in enumerate(phase.tasks):
            loc = ("phases", i, "tasks", j, "due")
            try:
                due, _nominal = resolve_due(task, phase, spec, cal)
                resolve_batches(task, phase, spec, cal)
            except CalendarUnknown as exc:
                problems.append(_at_node(path, root, loc, str(exc)))
                continue
            if isinstance(task.due, RelativeDue) and due > spec.end:
                late = f"按工作日推算的截止日期 {due} 晚于专项行动结束日期 {spec.end}"
                problems.append(_at_node(path, root, loc, late))
            if isinstance(task.due, RelativeDue) and task.batches and task.batches[-1] > due:
                last = len(task.batches) - 1
                late = f"批次日期 {task.batches[-1]} 晚于按工作日推算的整体截止日期 {due}"
                problems.append(_at_node(path, root, ("phases", i, "tasks", j, "batches", last), late))
    planned = plan_size(spec)
    if planned > limits.PLANNED_ASSIGNMENTS_MAX:
        problems.append(
            _at_node(
                path,
                root,
                ("departments",),
                f"计划派发任务 {planned} 项，超过单个专项行动的上限 {limits.PLANNED_ASSIGNMENTS_MAX} 项，请拆分",
            )
        )
    if problems:
        raise SpecInvalid(problems)
    try:
        build_plan(spec, cal)
    except CalendarUnknown as exc:  # a monthly report whose due date rolls into an undeclared year
        raise SpecInvalid([_at_node(path, root, ("recurring_reports",), str(exc))]) from None


def _at_node(path: str, root: yaml.Node | None, loc: tuple[Any, ...], message: str) -> SpecProblem:
    node = _locate(root, loc)
    return _at_mark(path, node.start_mark if node is not None else None, _field_name(loc), message)


def _problems(exc: ValidationError, root: yaml.Node | None, path: str) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = _plain(err["msg"])
        field = _field_name(loc)
        m = _PATH_PREFIX.match(message)
        if m and _parse_path(m.group(1)):  # model-level checks name their own field
            loc = loc + _parse_path(m.group(1))
            field = f"{field}.{m.group(1)}" if field else m.group(1)
            message = m.group(2)
        node = _locate(root, loc, at_key=err["type"] == "extra_forbidden")
        if (field, message) in seen:
            continue
        seen.add((field, message))
        problems.append(_at_mark(path, node.start_mark if node is not None else None, field, message))
    problems.sort(key=lambda p: (p.line, p.column))
    if len(problems) > PROBLEMS_SHOWN:
        rest = len(problems) - PROBLEMS_SHOWN
        first_hidden = problems[PROBLEMS_SHOWN]
        more = SpecProblem(path, first_hidden.line, first_hidden.column, "", f"……另有 {rest} 处问题未列出")
        problems = [*problems[:PROBLEMS_SHOWN], more]
    return problems


def load_spec(path: str | Path) -> CampaignSpec:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.SPEC_FILE_MAX_BYTES:  # refused before reading: a huge file costs nothing
            raise _too_big(size, str(p))
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecInvalid([SpecProblem(str(p), 0, 0, "", "文件不存在")]) from None
    except IsADirectoryError:
        raise SpecInvalid([SpecProblem(str(p), 0, 0, "", "这是一个目录，不是 YAML 文件")]) from None
    except UnicodeDecodeError:
        raise SpecInvalid([SpecProblem(str(p), 1, 1, "", "文件不是 UTF-8 编码，请另存为 UTF-8")]) from None
    except OSError as exc:
        raise SpecInvalid([SpecProblem(str(p), 0, 0, "", f"无法读取: {exc.strerror}")]) from None
    return parse_spec(text, str(p))


@dataclass(frozen=True)
class FileCheck:
    """The outcome of validating one file: its spec, or the problems that refused it."""

    path: str
    spec: CampaignSpec | None
    problems: tuple[SpecProblem, ...] = ()


def validate_files(paths: list[str] | list[Path]) -> list[FileCheck]:
    """Validate every file, one broken file never hiding the others (`campaign validate a.yaml b.yaml`)."""
    results: list[FileCheck] = []
    for path in paths:
        try:
            results.append(FileCheck(str(path), load_spec(path)))
        except SpecInvalid as exc:
            results.append(FileCheck(str(path), None, tuple(exc.problems)))
    return results


def json_schema() -> str:
    return json.dumps(CampaignSpec.model_json_schema(), ensure_ascii=False, indent=2)


# --- writing a spec back as YAML (departments imported from a spreadsheet) ----------------------

plain_message = _plain  # pydantic's English message in the plain Chinese words used above


def _yaml_value(value: Any) -> Any:
    """model_dump(mode='json') output with ISO dates turned back into dates (unquoted in YAML)."""
    if isinstance(value, dict):
        return {k: _yaml_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_value(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _department_yaml(department: Any) -> dict[str, Any]:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    data = department.model_dump(mode="json", exclude_defaults=True)
    out = CommentedMap()
    for key in ("code", "name", "kind"):
        out[key] = data[key]
    if data.get("contact"):
        contact = CommentedMap(data["contact"])
        contact.fa.set_flow_style()
        out["contact"] = contact
    if data.get("tags"):
        tags = CommentedSeq(data["tags"])
        tags.fa.set_flow_style()
        out["tags"] = tags
    return out


def _dump(yaml: Any, data: Any) -> str:
    import io

    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def spec_to_yaml(spec: CampaignSpec, base_text: str | None = None) -> str:
    """The campaign YAML for `spec`, to save back to the campaign's file.

    Given `base_text` — the file the campaign was launched from, whose other parts still match
    `spec` — only its `departments` list changes (entries updated in place, new ones appended), so
    every other key keeps its comments and layout. Without it, or if the edit would not read back
    as exactly `spec`, the whole spec is written out plainly (comments cannot be kept then).
    The result always parses back to `spec`.
    """
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    if base_text is not None:
        try:
            data = yaml.load(base_text)
            items = data["departments"]
            by_code = {str(item["code"]): item for item in items}
            for department in spec.departments:
                fresh = _department_yaml(department)
                item = by_code.get(department.code)
                if item is None:
                    items.append(fresh)
                    continue
                for key in [k for k in item if k not in fresh]:
                    del item[key]
                for key, value in fresh.items():
                    if _yaml_value(_plain_data(item.get(key))) != _yaml_value(_plain_data(value)):
                        item[key] = value
            text = _dump(yaml, data)
            if spec_digest(parse_spec(text)) == spec_digest(spec):
                return text
        except Exception:  # noqa: BLE001 - any surprise in the old file (ruamel error, changed layout, SpecInvalid): the plain dump below always round-trips
            pass
    header = f"# {spec.title}\n# 由系统根据导入的部门表生成（原文件中的注释未能保留）。\n"
    return header + _dump(yaml, _yaml_value(spec.model_dump(mode="json", exclude_defaults=True)))


def _plain_data(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v) for v in value]
    return value
