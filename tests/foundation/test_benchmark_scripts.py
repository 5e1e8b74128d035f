"""The scripts in ``benchmarks/`` import what exists: they run by hand, so nothing else notices when a
refactor moves a name they use (``benchmarks/memory.py`` still imported ``exprbench.evaluate``'s old
private helpers after eval was split into ``exprbench.scoring``)."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("exprbench", "exprbench_app", "multiexpr", "baselines", "fantasy_model")


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import of our packages in ``path``, including code passed as strings to a
    child interpreter (``python -c``)."""
    sources = [path.read_text()]
    for node in ast.walk(ast.parse(sources[0])):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "import " in node.value:
            try:
                ast.parse(node.value)
            except SyntaxError:
                continue
            sources.append(node.value)
    found = []
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS:
                found += [(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] in OURS]
    return found


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")))
def test_benchmark_script_imports_resolve(script):
    imports = _imports(ROOT / "benchmarks" / script)
    for module, name in imports:
        loaded = importlib.import_module(module)
        if name is not None and not hasattr(loaded, name):
            importlib.import_module(f"{module}.{name}")  # a submodule; raises if it is not one either
