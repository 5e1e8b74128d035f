"""``multiexpr``'s modules import each other without a cycle, counting imports inside functions too: a cycle
works only as long as nobody reorders the imports, and an import hidden in a function is still one."""

from __future__ import annotations

import ast
from pathlib import Path

import multiexpr

PACKAGE = Path(multiexpr.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The ``multiexpr`` modules ``path`` imports anywhere in its body (``from pkg import submodule`` names
    the submodule)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found & modules


def test_multiexpr_has_no_import_cycle() -> None:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: _imports(path, set(files)) - {name} for name, path in files.items()}
    graph.pop("multiexpr.__main__")  # runs the CLI; nothing imports it
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(name):] + [name]))
        if name in done:
            return
        for target in sorted(graph.get(name, ())):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert graph["multiexpr.output"].isdisjoint({"multiexpr.pipeline", "multiexpr.build"})  # layout comes from layout
