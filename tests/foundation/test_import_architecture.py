"""The import architecture, read from the source with ``ast`` (imports inside functions count too).

Layers, bottom up: ``exprbench`` (benchmark, metrics, eval, leaderboard); ``baselines``, ``multiexpr`` and
``fantasy_model`` on top of it; ``exprbench_app`` (demo, generate, anchors, validate) on top of all.
A module may import its own layer and the layers below, never above, and no modules may import each other
in a circle. Why from the source: a function-level import is a real dependency, and a module that is
never imported by a test would escape a check made by importing.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("exprbench", "exprbench_app", "baselines", "multiexpr", "fantasy_model")
ABOVE = {  # what each package must not import
    "exprbench": {"baselines", "multiexpr", "fantasy_model", "exprbench_app"},
    "baselines": {"exprbench_app"},
    "multiexpr": {"exprbench_app"},
    "fantasy_model": {"exprbench_app"},
}


def _module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = _module_files()


def _imported(module: str, path: Path) -> set[str]:
    """Every module name ``module`` imports, anywhere in its body; names imported from a package resolve to
    its submodule when there is one (``from exprbench_app.validate import ladders``)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return found


def _known(name: str) -> str | None:
    """The project module ``name`` is, or lies in (``import a.b.c`` of a function ``c``: ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


IMPORTS = {module: _imported(module, path) for module, path in MODULES.items()}
GRAPH = {module: {target for name in names if (target := _known(name)) and target != module}
         for module, names in IMPORTS.items()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's components with more than one module: each holds at least one import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _shortest_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest import cycle through the component's first module, for the failure message."""
    start = min(component)
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node] & component):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if target not in parent:
                parent[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")


def _cycles() -> list[tuple[set[str], str]]:
    """(modules in a circle, a description naming them all and one shortest cycle among them)."""
    return [(component, f"{len(component)} modules ({', '.join(sorted(component))}), e.g. "
                        + " -> ".join(_shortest_cycle(GRAPH, component)))
            for component in _strongly_connected(GRAPH)]


def test_the_walk_sees_every_package_and_function_level_imports():
    assert {m.split(".")[0] for m in MODULES} == set(PACKAGES)
    assert "exprbench.cli.plugins" in GRAPH["exprbench.cli.main"]
    # a function-level import (validate's warp rungs are generated through the baselines harness)
    assert "baselines" in GRAPH["exprbench_app.validate.ladders"]


def test_no_import_cycle():
    cycles = [cycle for _, cycle in _cycles()]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_no_module_imports_a_layer_above_its_own(package):
    upward = sorted(f"{module} imports {name}" for module, names in IMPORTS.items()
                    if module.split(".")[0] == package for name in names if name.split(".")[0] in ABOVE[package])
    assert not upward, "\n".join(upward)
