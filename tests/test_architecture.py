"""The layout keeps its promises (docs/architecture.md): no import circle,
imports inside functions included; no module over 600 lines; no module
reaching into another's private names; one source of "now"; and the apps
import each other only as the architecture allows.

These read the source with ``ast``; nothing is imported or run."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("incidents", "treebeard_ir", "statuspage", "postmortems")
CHECKED = (*APPS, "tests", "bench")
MAX_LINES = 600
# The one place that may ask the system for the time.
CLOCK = "incidents.clock"


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int
    # Imported module -> line, in the body or inside functions alike.
    imports: dict[str, int] = field(default_factory=dict)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def type_checking_nodes(tree: ast.Module) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    return skipped


def imported_names(module: Module, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Every dotted name an import statement may load: the module and, for
    ``from x import y``, ``x.y`` (a submodule or a name of ``x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.name.split(".")
        if module.path.name != "__init__.py":
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    return [prefix, *(f"{prefix}.{alias.name}" for alias in node.names)]


def load_modules() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            name = module_name(path)
            modules[name] = Module(name, path, ast.parse(source), source.count("\n") + 1)
    for module in modules.values():
        skipped = type_checking_nodes(module.tree)
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in skipped:
                continue
            for name in imported_names(module, node):
                # The longest prefix that is one of our modules.
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module.name:
                    module.imports.setdefault(name, node.lineno)
    return modules


MODULES = load_modules()


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_checks_see_the_code():
    # Guards the guards: an empty or mis-rooted walk would pass everything.
    assert {"incidents.services.incidents", "incidents.engine.sla", "tests.conftest"} <= set(
        MODULES
    )
    assert "incidents.engine.deadlines" in MODULES["incidents.services.incidents"].imports


def test_no_import_circle_not_even_inside_functions():
    graph = {name: set(module.imports) for name, module in MODULES.items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_600_lines(name):
    assert MODULES[name].lines <= MAX_LINES, f"{MODULES[name].path}: {MODULES[name].lines} lines"


def private_uses(module: Module) -> list[str]:
    """``from x import _name`` and ``x._name`` where ``x`` is another module
    of ours that this one imported."""
    found = []
    aliases: dict[str, str] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            source, *targets = imported_names(module, node)
            for alias, target in zip(node.names, targets, strict=True):
                if target in MODULES:
                    aliases[alias.asname or alias.name] = target
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"line {node.lineno}: from {source} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"line {node.lineno}: {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    offenders = {name: uses for name, module in MODULES.items() if (uses := private_uses(module))}
    assert offenders == {}


def test_the_private_name_check_catches_both_forms(tmp_path):
    source = "from incidents import clock\nfrom incidents.clock import _frozen\nclock._frozen\n"
    fake = Module("tests.fake", ROOT / "tests" / "fake.py", ast.parse(source), 3)
    assert private_uses(fake) == [
        "line 2: from incidents.clock import _frozen",
        "line 3: incidents.clock._frozen",
    ]


SYSTEM_TIME = ("timezone.now", "datetime.now", "datetime.utcnow", "time.time", "date.today")


def system_time_calls(module: Module) -> list[str]:
    return [
        f"line {node.lineno}: {ast.unparse(node.func)}()"
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(SYSTEM_TIME)
    ]


def test_every_now_in_the_product_comes_from_the_clock():
    offenders = {
        name: calls
        for name, module in MODULES.items()
        if name.startswith(APPS) and name != CLOCK and (calls := system_time_calls(module))
    }
    assert offenders == {}


# What each app may import of the others (docs/architecture.md, "Apps").
INCIDENTS_OPEN_TO_APPS = (
    "incidents.models",
    "incidents.selectors",
    "incidents.services",
    "incidents.access",
    "incidents.errors",
    "incidents.clock",
    "incidents.engine.sla",
    # The registries other apps plug into, and what every app's changes use:
    "incidents.engine.deadlines",
    "incidents.publication",
    "incidents.lifecycle",
    "incidents.audit",
    "incidents.people",
    "incidents.durations",
    "incidents.ical_text",
    # The API's shared rules: token scopes and groups (permissions), one way
    # to read a body (parsers), one page shape (pagination).
    "incidents.api.permissions",
    "incidents.api.parsers",
    "incidents.api.pagination",
    # The admin's one way of saving through services (ServiceAdminMixin).
    "incidents.admin.common",
    # The one outbox and the one guarded HTTP client (DESIGN.md: all
    # outbound requests go through it).
    "incidents.notify.outbox",
    "incidents.notify.transports",
    "incidents.notify.http",
    "incidents.notify.errors",
)


def test_apps_import_each_other_only_as_the_architecture_allows():
    wrong = []
    for name, module in MODULES.items():
        app = name.partition(".")[0]
        for target in module.imports:
            other = target.partition(".")[0]
            if app == "incidents" and other in ("statuspage", "postmortems"):
                wrong.append(f"{name} imports {target}: incidents reaches them by registries")
            if (
                app in ("statuspage", "postmortems")
                and other == "incidents"
                and target != "incidents"
                and not target.startswith(INCIDENTS_OPEN_TO_APPS)
                # ``from incidents.engine import sla`` also names the package
                # it loads on the way; the module it reaches is checked itself.
                and not any(open_.startswith(f"{target}.") for open_ in INCIDENTS_OPEN_TO_APPS)
            ):
                wrong.append(f"{name} imports {target}: not open to other apps")
    assert wrong == []
