"""Structural rules that keep "one way to do each thing" true (issue 10).

Pure `ast` over the source files: nothing of the project is imported, so a rule that breaks is reported
even while the module that breaks it cannot be imported. Each test names the file and line to fix.
An allow-list entry needs a reason; an empty allow-list is the goal.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase as fnmatch
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "store", "services", "tasks", "flows", "cli", "dashboard", "notify", "exchange", "settings")
NOT_SOURCE_DIRS = {".venv", ".git", "__pycache__", "node_modules", "build", "dist"}

USER_ERROR = ("domain.errors", "UserError")
ERROR_SUFFIXES = ("Error", "Invalid", "NotFound", "Forbidden")

# Function-local imports of project modules that are allowed, as (importing module, imported module): reason;
# both are fnmatch patterns, e.g. ("cli.*", "flows.*"). A local import hides a cycle or an import-time cost from
# the reader: an entry says which cost it avoids and for whom.
LOCAL_IMPORT_ALLOWED: dict[tuple[str, str], str] = {
    ("cli.*", "flows.*"): "flows import the tick's services and Prefect (2-3 s): only the commands that run "
    "a flow pay for it, so validate, plan, status and the user commands start at once",
    ("flows.entries", "flows.campaign_flows"): "Prefect (about 2 s) is loaded only when a flow runs: a "
    "refused day or an unchanged re-tick is settled without it, and the dashboard's pages import the entries",
    ("cli.entry", "cli.main"): "the console script starts the engine's API server before it loads the CLI "
    "(a second the server's start overlaps)",
}

# Exceptions (or *Error-named classes) that are deliberately not user errors, as "module.Class": reason.
NOT_USER_ERRORS: dict[str, str] = {
    "notify.channels.ChannelError": "a channel could not deliver: the send protocol records it and retries, "
    "the recipient did nothing wrong",
    "tasks.delivery_tasks.RetryableDeliveryFailure": "the signal that makes Prefect retry a delivery task; "
    "never reaches a user",
    "services.spec_files._Refused": "internal to the YAML loader (a MarkedYAMLError so PyYAML attaches the "
    "line and column); spec_files turns it into SpecInvalid before it leaves the module",
    "exchange.figures.ChartUnavailable": "no browser installed to draw the report's charts: an incomplete "
    "installation, which the edge reports like any other fault (incident id), not the user's input",
    "exchange.errors.RowError": "not an exception: the record of one rejected row that RowsRejected carries",
}

# Dicts named *_LABELS outside domain/ that are not vocabulary labels, as "path:NAME": reason. Column headers
# and similar maps are better named for what they are (COLUMNS, HEADERS) than listed here.
LABELS_ALLOWED: dict[str, str] = {}


@dataclass(frozen=True)
class Source:
    path: str  # relative to the project root, with forward slashes
    module: str | None  # dotted name for a module of one of PACKAGES, else None (tests, bench, docs)
    tree: ast.Module

    @property
    def is_test(self) -> bool:
        return self.path.startswith("tests/")

    def under(self, *prefixes: str) -> bool:
        return any(self.path == p or self.path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _is_source_dir(name: str) -> bool:
    return name not in NOT_SOURCE_DIRS and not name.startswith(".") and not name.endswith(".egg-info")


def _python_files() -> Iterator[Path]:
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = sorted(d for d in subdirectories if _is_source_dir(d))
        yield from (Path(directory) / f for f in sorted(files) if f.endswith(".py"))


def _module_name(rel: Path) -> str | None:
    if rel.parts[0] not in PACKAGES:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def sources() -> tuple[Source, ...]:
    found = []
    for path in _python_files():
        rel = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
        found.append(Source(rel.as_posix(), _module_name(rel), tree))
    return tuple(found)


@cache
def nodes(source: Source) -> tuple[ast.AST, ...]:
    """Every node of a file, walked once for all the checks."""
    return tuple(ast.walk(source.tree))


@cache
def project_modules() -> dict[str, Source]:
    return {s.module: s for s in sources() if s.module is not None}


# --- imports -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    source: Source
    target: str  # absolute dotted module name (the longest prefix that is a project module, when there is one)
    line: int
    local: bool  # inside a function body


def _package_of(source: Source) -> str:
    assert source.module is not None
    return source.module if source.path.endswith("__init__.py") else source.module.rpartition(".")[0]


def _resolve(name: str) -> str:
    """The project module a dotted name refers to: the name itself, or its longest prefix that is a module."""
    modules = project_modules()
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return name


def _absolute_base(source: Source, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    # A relative import in a script (no module name) is resolved against its directory.
    base = ".".join(Path(source.path).parent.parts) if source.module is None else _package_of(source)
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{node.module}" if node.module else base


def _statements_with_scope(tree: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Every statement with whether it sits inside a function. An import is a statement, so expressions
    (where most of a tree's nodes are) are not entered."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, local = stack.pop()
        yield node, local
        inner = local or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        stack.extend(
            (child, inner)
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case)
        )


@cache
def imports_of(source: Source) -> tuple[Import, ...]:
    found: list[Import] = []
    for node, local in _statements_with_scope(source.tree):
        if isinstance(node, ast.Import):
            found.extend(Import(source, _resolve(alias.name), node.lineno, local) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute_base(source, node)
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") if alias.name != "*" else _resolve(base)
                found.append(Import(source, target, node.lineno, local))
    return tuple(found)


def _is_project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


@cache
def import_graph() -> dict[str, dict[str, Import]]:
    """module -> {imported project module: the first import statement that makes the edge}."""
    modules = project_modules()
    graph: dict[str, dict[str, Import]] = {m: {} for m in modules}
    for module, source in modules.items():
        for imp in imports_of(source):
            if imp.target in modules and imp.target != module:
                graph[module].setdefault(imp.target, imp)
    return graph


def _strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is small, but recursion depth is not ours to spend)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _cycle_through(start: str, members: set[str], graph: dict[str, dict[str, Import]]) -> list[str]:
    """A shortest cycle start -> ... -> start inside one strongly connected component."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no cycle")


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = []
    for component in _strongly_connected(graph):
        cycle = _cycle_through(component[0], set(component), graph)
        steps = [
            f"    {a} -> {b}  ({graph[a][b].source.path}:{graph[a][b].line}"
            f"{', inside a function' if graph[a][b].local else ''})"
            for a, b in itertools.pairwise(cycle)
        ]
        cycles.append(f"cycle among {len(component)} modules {component}:\n" + "\n".join(steps))
    assert not cycles, "import cycles (function-local and TYPE_CHECKING imports count too):\n" + "\n".join(cycles)


def test_cycle_finder_reports_a_known_cycle() -> None:
    """The cycle test is only as good as its finder: a hand-made graph with one 3-cycle and a tail."""
    here = Source("tests/unit/test_structure.py", None, ast.Module(body=[], type_ignores=[]))

    def edges(*targets: str) -> dict[str, Import]:
        return {t: Import(here, t, 1, False) for t in targets}

    graph = {"a": edges("b"), "b": edges("c", "d"), "c": edges("a"), "d": edges(), "e": edges("a")}
    components = _strongly_connected(graph)
    assert components == [["a", "b", "c"]]
    assert _cycle_through("a", set(components[0]), graph) == ["a", "b", "c", "a"]
    assert _strongly_connected({"a": edges("b"), "b": edges()}) == []


def _local_import_allowed(module: str, target: str) -> bool:
    return any(fnmatch(module, m) and fnmatch(target, t) for m, t in LOCAL_IMPORT_ALLOWED)


def test_no_function_local_imports_of_project_modules() -> None:
    found = {
        (imp.source.path, imp.line, imp.target)
        for module, source in project_modules().items()
        for imp in imports_of(source)
        if imp.local and _is_project(imp.target) and not _local_import_allowed(module, imp.target)
    }
    assert not found, "import project modules at the top of the module:\n" + "\n".join(
        f"{path}:{line}: imports {target} inside a function" for path, line, target in sorted(found)
    )


def test_domain_imports_only_stdlib_pydantic_and_domain() -> None:
    allowed = set(sys.stdlib_module_names) | {"__future__", "pydantic", "domain"}
    found = {
        f"{imp.source.path}:{imp.line}: imports {imp.target}"
        for source in sources()
        if source.under("domain")
        for imp in imports_of(source)
        if imp.target.split(".")[0] not in allowed
    }
    assert not found, "domain/ is pure (standard library and pydantic only):\n" + "\n".join(sorted(found))


def test_only_store_sql_writes_dialect_specific_statements() -> None:
    """One way to write a row that may exist already: store.sql.insert_ignoring. A service that built
    its own dialect INSERT forked the SQLite/PostgreSQL choice again and lost the statement cache."""
    found = {
        f"{imp.source.path}:{imp.line}: imports {imp.target}"
        for source in sources()
        if not source.is_test and source.path != "store/sql.py"
        for imp in imports_of(source)
        if imp.target.startswith("sqlalchemy.dialects")
    }
    assert not found, "dialect-specific SQL lives in store/sql.py:\n" + "\n".join(sorted(found))


# --- process environment and time zone -----------------------------------------------------------------------


def _os_names(source: Source) -> tuple[set[str], set[str], set[str]]:
    """Names bound to the os module, to os.environ, and to os.putenv/os.unsetenv in one file."""
    os_names, environ_names, putenv_names = set(), set(), set()
    for node in nodes(source):
        if isinstance(node, ast.Import):
            os_names |= {alias.asname or alias.name for alias in node.names if alias.name == "os"}
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and not node.level:
            for alias in node.names:
                if alias.name == "environ":
                    environ_names.add(alias.asname or alias.name)
                elif alias.name in ("putenv", "unsetenv"):
                    putenv_names.add(alias.asname or alias.name)
    return os_names, environ_names, putenv_names


def _environ_writes(source: Source) -> Iterator[str]:
    os_names, environ_names, putenv_names = _os_names(source)

    def is_environ(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in environ_names
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        )

    for node in nodes(source):
        where = f"{source.path}:{getattr(node, 'lineno', 0)}"
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            if isinstance(target, ast.Subscript) and is_environ(target.value):
                yield f"{where}: writes os.environ[...]"
            elif is_environ(target):
                yield f"{where}: rebinds os.environ"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and is_environ(func.value):
                if func.attr in ("setdefault", "update", "pop", "popitem", "clear", "__setitem__", "__delitem__"):
                    yield f"{where}: os.environ.{func.attr}(...)"
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in ("putenv", "unsetenv")
                and isinstance(func.value, ast.Name)
                and func.value.id in os_names
            ) or (isinstance(func, ast.Name) and func.id in putenv_names):
                yield f"{where}: os.putenv/os.unsetenv(...)"


def test_nothing_writes_the_process_environment_outside_settings() -> None:
    found = [line for s in sources() if not s.is_test and not s.under("settings") for line in _environ_writes(s)]
    assert not found, (
        "settings are built at the edge and passed in (settings.Settings; child processes get "
        "Settings.child_environment()); nothing writes os.environ:\n" + "\n".join(sorted(found))
    )


def _campaign_variable_reads(source: Source) -> Iterator[str]:
    os_names, environ_names, _ = _os_names(source)

    def environ_expr(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in environ_names) or (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        )

    def names_campaign_variable(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("CAMPAIGN_")

    for node in nodes(source):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and environ_expr(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and (
                (func.attr == "get" and environ_expr(func.value))
                or (func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id in os_names)
            ):
                key = node.args[0]
        if names_campaign_variable(key):
            assert isinstance(key, ast.Constant)
            yield f"{source.path}:{getattr(node, 'lineno', 0)}: reads {key.value!s}"


def test_only_settings_reads_campaign_variables() -> None:
    found = [
        line for s in sources() if not s.is_test and not s.under("settings") for line in _campaign_variable_reads(s)
    ]
    assert not found, "CAMPAIGN_* variables are read by settings.load_settings only:\n" + "\n".join(sorted(found))


def test_one_time_zone_constant() -> None:
    found = []
    for source in sources():
        if source.path == "domain/localtime.py":
            continue
        for node in nodes(source):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name == "ZoneInfo":
                    found.append(f"{source.path}:{node.lineno}: ZoneInfo(...)")
    assert not found, "use domain.localtime.LOCAL_TZ (and its helpers), the one time zone:\n" + "\n".join(found)


# --- errors --------------------------------------------------------------------------------------------------

BUILTIN_EXCEPTIONS = {
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
}


@dataclass(frozen=True)
class ClassInfo:
    source: Source
    node: ast.ClassDef

    @property
    def qualified(self) -> str:
        return f"{self.source.module}.{self.node.name}"


@cache
def _bindings(module: str) -> dict[str, str]:
    """Top-level names a module binds by importing: local name -> absolute dotted name."""
    source = project_modules()[module]
    bound: dict[str, str] = {}
    for node in source.tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    bound[head] = head
        elif isinstance(node, ast.ImportFrom):
            base = _absolute_base(source, node)
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    return bound


@cache
def _classes() -> dict[tuple[str, str], ClassInfo]:
    found = {}
    for module, source in project_modules().items():
        for node in nodes(source):
            if isinstance(node, ast.ClassDef):
                found[(module, node.name)] = ClassInfo(source, node)
    return found


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    if isinstance(node, ast.Subscript):  # Generic[T] and the like
        return _dotted(node.value)
    return None


def _locate(dotted: str, seen: frozenset[str] = frozenset()) -> tuple[str, str]:
    """(module, name) where a dotted name is defined, following re-exports; ("builtins", name) for builtins."""
    module, _, name = dotted.rpartition(".")
    if not module:
        return ("builtins", name)
    module = _resolve(module)
    if (module, name) in _classes() or module not in project_modules() or dotted in seen:
        return (module, name)
    reexported = _bindings(module).get(name)
    return _locate(reexported, seen | {dotted}) if reexported else (module, name)


def _bases(info: ClassInfo) -> list[tuple[str, str]]:
    assert info.source.module is not None
    bound = _bindings(info.source.module)
    result = []
    for base in info.node.bases:
        dotted = _dotted(base)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        if head in bound:
            result.append(_locate(f"{bound[head]}.{rest}" if rest else bound[head]))
        elif (info.source.module, head) in _classes() and not rest:
            result.append((info.source.module, head))
        else:
            result.append(("builtins", dotted) if not rest else _locate(dotted))
    return result


def _ancestry(key: tuple[str, str], seen: frozenset[tuple[str, str]] = frozenset()) -> set[tuple[str, str]]:
    """Every class a class derives from, itself included (only as far as we can see: project and builtins)."""
    if key in seen:
        return set()
    found = {key}
    info = _classes().get(key)
    if info is not None:
        for base in _bases(info):
            found |= _ancestry(base, seen | {key})
    return found


def _is_exception(ancestry: set[tuple[str, str]]) -> bool:
    for module, name in ancestry:
        if module == "builtins" and name in BUILTIN_EXCEPTIONS:
            return True
        if module not in project_modules() and name.endswith(("Error", "Exception")):
            return True  # a third-party exception base (yaml.YAMLError, httpx.HTTPError, ...)
    return False


def test_one_error_family() -> None:
    found = []
    if (ROOT / "services" / "errors.py").exists():
        found.append("services/errors.py exists: the one error family is domain.errors")
    for key, info in sorted(_classes().items()):
        ancestry = _ancestry(key)
        named_like_error = info.node.name.endswith(ERROR_SUFFIXES)
        if not (named_like_error or _is_exception(ancestry)) or USER_ERROR in ancestry:
            continue
        if info.qualified in NOT_USER_ERRORS:
            continue
        found.append(
            f"{info.source.path}:{info.node.lineno}: {info.node.name} does not derive from domain.errors.UserError"
        )
    assert not found, (
        "a user's mistake derives from domain.errors.UserError (NotFound, Conflict, Invalid, Forbidden); "
        "anything else is a bug, or belongs in NOT_USER_ERRORS with a reason:\n" + "\n".join(found)
    )


def test_allow_lists_are_not_stale() -> None:
    """An allow-list entry that no longer matches anything would silently allow the next offender."""
    known = {info.qualified for info in _classes().values()}
    stale = [f"NOT_USER_ERRORS: {name}" for name in sorted(set(NOT_USER_ERRORS) - known)]
    local_imports = [
        (module, imp.target)
        for module, source in project_modules().items()
        for imp in imports_of(source)
        if imp.local and _is_project(imp.target)
    ]
    stale += [
        f"LOCAL_IMPORT_ALLOWED: {pattern}"
        for pattern in LOCAL_IMPORT_ALLOWED
        if not any(fnmatch(m, pattern[0]) and fnmatch(t, pattern[1]) for m, t in local_imports)
    ]
    assert not stale, "allow-list entries that match nothing any more (remove them):\n" + "\n".join(stale)


# --- vocabularies --------------------------------------------------------------------------------------------


def _assigned_names(node: ast.AST) -> Iterator[tuple[str, ast.expr | None]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value
            elif isinstance(target, ast.Attribute):
                yield target.attr, node.value
    elif isinstance(node, ast.AnnAssign):
        target = node.target
        name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
        yield name, node.value


def _is_dict_literal(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Dict | ast.DictComp) or (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
    )


def test_labels_live_in_domain_vocabularies() -> None:
    found = []
    for source in sources():
        if source.is_test or source.under("domain"):
            continue
        for node in nodes(source):
            for name, value in _assigned_names(node):
                allowed = f"{source.path}:{name}" in LABELS_ALLOWED
                if name.endswith("_LABELS") and _is_dict_literal(value) and not allowed:
                    found.append(f"{source.path}:{getattr(node, 'lineno', 0)}: {name}")
    assert not found, (
        "labels are defined once, in a domain vocabulary (domain.vocabulary.Vocabulary); a map of column "
        "headers is named for what it is (COLUMNS):\n" + "\n".join(found)
    )


def test_store_models_define_no_enums() -> None:
    models = project_modules().get("store.models")
    assert models is not None, "store/models.py is missing"
    found = []
    for node in nodes(models):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                dotted = _dotted(base) or ""
                if dotted.rpartition(".")[2] in ("Enum", "StrEnum", "IntEnum", "Flag", "IntFlag"):
                    found.append(f"store/models.py:{node.lineno}: {node.name}({dotted})")
    assert not found, "vocabularies are StrEnums in domain/ (store.models only stores their values):\n" + "\n".join(
        found
    )


def _status_labels() -> dict[str, set[str]]:
    """Chinese label -> the domain modules whose state/status vocabularies define it."""
    labels: dict[str, set[str]] = defaultdict(set)
    for source in sources():
        if not source.under("domain"):
            continue
        for node in nodes(source):
            if not (isinstance(node, ast.Call) and _dotted(node.func) in ("Vocabulary", "vocabulary.Vocabulary")):
                continue
            if len(node.args) < 2 or not isinstance(node.args[1], ast.Dict):
                continue
            enum_name = _dotted(node.args[0]) or ""
            if not enum_name.endswith(("Status", "State")):
                continue
            for value in node.args[1].values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    labels[value.value].add(source.path)
    return labels


def test_each_status_label_is_written_in_one_module() -> None:
    labels = _status_labels()
    assert labels, "found no state/status vocabulary in domain/: the test no longer sees them"
    written: dict[str, set[str]] = defaultdict(set)
    for source in sources():
        if source.is_test:
            continue
        for node in nodes(source):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in labels:
                written[node.value].add(source.path)
    found = [
        f"{label}: {', '.join(sorted(paths))}"
        for label, paths in sorted(written.items())
        if len(paths) > 1 or paths != labels[label]
    ]
    assert not found, (
        "a status label is written once, in its domain vocabulary; everything else calls VOCABULARY.label(...):\n"
        + "\n".join(found)
    )


# --- transactions --------------------------------------------------------------------------------------------

# The send protocol commits per message and owns its units of work (store/uow.py says so).
OWNS_ITS_TRANSACTIONS = {"services/delivery/sending.py"}
OPENS_A_SESSION = {"Session", "sessionmaker", "scoped_session", "UnitOfWork"}


def test_services_never_commit_roll_back_or_open_sessions() -> None:
    found = []
    for source in sources():
        if not source.under("services") or source.path in OWNS_ITS_TRANSACTIONS:
            continue
        for node in nodes(source):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if isinstance(func, ast.Attribute) and name in ("commit", "rollback"):
                found.append(f"{source.path}:{node.lineno}: .{name}()")
            elif name in OPENS_A_SESSION:
                found.append(f"{source.path}:{node.lineno}: {name}(...)")
    assert not found, (
        "services change the session they are given; the edge commits once (store/uow.py); a racing insert uses "
        "session.begin_nested():\n" + "\n".join(found)
    )


def test_no_commit_flags() -> None:
    found = [
        f"{source.path}:{node.lineno}: commit=..."
        for source in sources()
        if source.module is not None
        for node in nodes(source)
        if isinstance(node, ast.Call) and any(k.arg == "commit" for k in node.keywords)
    ]
    assert not found, "whoever opened the unit of work commits it; no `commit=` flags:\n" + "\n".join(found)


# --- the postgres marker -------------------------------------------------------------------------------------


def _is_postgres_mark(node: ast.AST) -> bool:
    return _dotted(node) == "pytest.mark.postgres" if isinstance(node, ast.expr) else False


def test_engine_fixture_marks_its_postgres_variant() -> None:
    """`-m postgres` selects the PostgreSQL variants and `-m "not postgres"` the SQLite ones, because the shared
    `engine` fixture's PostgreSQL parameter carries the mark."""
    conftest = next(s for s in sources() if s.path == "tests/conftest.py")
    engine = next(
        (n for n in conftest.tree.body if isinstance(n, ast.FunctionDef) and n.name == "engine"),
        None,
    )
    assert engine is not None, "tests/conftest.py defines no `engine` fixture"
    marked = [
        param
        for decorator in engine.decorator_list
        if isinstance(decorator, ast.Call)
        for keyword in decorator.keywords
        if keyword.arg == "params"
        for param in ast.walk(keyword.value)
        if isinstance(param, ast.Call)
        and _dotted(param.func) == "pytest.param"
        and any(_is_postgres_mark(k.value) or any(map(_is_postgres_mark, ast.walk(k.value))) for k in param.keywords)
    ]
    assert marked, "the engine fixture's PostgreSQL parameter is not marked pytest.mark.postgres"


# What a test module that uses the local PostgreSQL server contains (a URL to an unreachable port does not count).
REACHES_POSTGRESQL = (":5432", "psycopg.connect(", "_pg_database", "PG_ADMIN_URL")


def test_tests_that_reach_postgresql_directly_are_marked() -> None:
    this_file = Path(__file__).resolve().relative_to(ROOT).as_posix()
    found = []
    for source in sources():
        if not (source.is_test and Path(source.path).name.startswith("test_")) or source.path == this_file:
            continue
        text = (ROOT / source.path).read_text(encoding="utf-8")
        if not any(word in text for word in REACHES_POSTGRESQL):
            continue
        if not any(_is_postgres_mark(n) for n in nodes(source)):
            found.append(source.path)
    assert not found, "these tests talk to PostgreSQL without the `postgres` marker:\n" + "\n".join(found)
