"""Load campaign YAML into a CampaignSpec with errors that point at file:line:col in plain words."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from domain.errors import SpecInvalid, SpecProblem
from pydantic import ValidationError

from domain.spec import CampaignSpec


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
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

_TRANSLATIONS = [
    (r"^Extra inputs are not permitted$", "未知的键（拼写错误？可用 `campaign schema` 查看允许的键）"),
    (r"^Field required$", "缺少必填项"),
    (r"^Input should be a valid date.*", "不是有效日期（格式 YYYY-MM-DD）"),
    (r"^Input should be a valid integer.*", "应为整数"),
    (r"^Input should be a valid number.*", "应为数字"),
    (r"^Input should be a valid boolean.*", "应为 true 或 false"),
    (r"^Input should be a valid (list|tuple).*", "应为列表"),
    (r"^Input should be a valid dictionary.*", "应为键值映射"),
    (r"^Input should be a valid string.*", "应为文本"),
    (r"^String should match pattern.*", "代码只能用字母开头，由字母、数字、_、- 组成，最长 40 个字符"),
    (r"^String should have at least 1 character.*", "不能为空"),
    (r"^List should have at least 1 item.*", "至少需要一项"),
    (r"^Tuple should have at least 1 item.*", "至少需要一项"),
    (r"^Input should be (greater than or equal to|greater than) (.*)$", r"应不小于 \2"),
    (r"^Input should be less than or equal to (.*)$", r"应不大于 \1"),
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
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
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
        elif not isinstance(part, str) or part in {"date", "RelativeDue"}:
            continue  # pydantic's union-branch labels are noise to a YAML author
        else:
            out += ("." if out else "") + part
    return out


def parse_spec(text: str, path: str = "<campaign>") -> CampaignSpec:
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecInvalid([SpecProblem(path, line, col, "", f"YAML 语法错误: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise SpecInvalid([SpecProblem(path, 1, 1, "", f"YAML 语法错误: {exc}")]) from None
    if not isinstance(data, dict):
        raise SpecInvalid([SpecProblem(path, 1, 1, "", "文件内容应为一个专项行动（键值映射），而不是空文件或列表")])
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecInvalid(_problems(exc, root, path)) from None
    _check_calendar_known(spec, root, path)
    return spec


def _check_calendar_known(spec: CampaignSpec, root: yaml.Node | None, path: str) -> None:
    """Every year the campaign runs in must be known to chinese-calendar or declared in `calendar`,
    so that a campaign is refused here, with its line, rather than failing at its first tick."""
    import datetime as dt

    from domain.calendar import CalendarUnknown
    from services.holidays import campaign_calendar

    cal = campaign_calendar(spec)
    for year in range(spec.start.year, spec.end.year + 1):
        try:
            cal.is_workday(max(spec.start, dt.date(year, 1, 1)))
        except CalendarUnknown as exc:
            field = "start" if year == spec.start.year else "end"
            node = _locate(root, (field,), at_key=False)
            line, col = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)
            raise SpecInvalid([SpecProblem(path, line, col, field, str(exc))]) from None


def _problems(exc: ValidationError, root: yaml.Node | None, path: str) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = _plain(err["msg"])
        m = _PATH_PREFIX.match(message)
        if m and _parse_path(m.group(1)):  # model-level checks name their own field
            loc = loc + _parse_path(m.group(1))
            message = m.group(2)
        node = _locate(root, loc, at_key=err["type"] == "extra_forbidden")
        line, col = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)
        field = _field_name(loc)
        if (field, message) in seen:
            continue
        seen.add((field, message))
        problems.append(SpecProblem(path, line, col, field, message))
    return sorted(problems, key=lambda p: (p.line, p.column))


def load_spec(path: str | Path) -> CampaignSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecInvalid([SpecProblem(str(p), 0, 0, "", "文件不存在")]) from None
    except UnicodeDecodeError:
        raise SpecInvalid([SpecProblem(str(p), 1, 1, "", "文件不是 UTF-8 编码，请另存为 UTF-8")]) from None
    except OSError as exc:
        raise SpecInvalid([SpecProblem(str(p), 0, 0, "", f"无法读取: {exc.strerror}")]) from None
    return parse_spec(text, str(p))


def json_schema() -> str:
    return json.dumps(CampaignSpec.model_json_schema(), ensure_ascii=False, indent=2)


# --- writing a spec back as YAML (departments imported from a spreadsheet) ----------------------

plain_message = _plain  # pydantic's English message in the plain Chinese words used above


def _yaml_value(value: Any) -> Any:
    """model_dump(mode='json') output with ISO dates turned back into dates (unquoted in YAML)."""
    import datetime as dt

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

    from services.campaigns import spec_digest

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
        except Exception:  # noqa: BLE001 - any surprise in the old file: fall back to a plain dump
            pass
    header = f"# {spec.title}\n# 由系统根据导入的部门表生成（原文件中的注释未能保留）。\n"
    return header + _dump(yaml, _yaml_value(spec.model_dump(mode="json", exclude_defaults=True)))


def _plain_data(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v) for v in value]
    return value
