"""The import graph: one direction of flow, from the engine up to the CLI, and no cycle.

Every ``import`` in the package (also those inside functions) is read with ``ast`` and
checked against the layer order: a module may import its own layer and those below,
never above. A cycle between modules, even through a function-level import, fails too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dlquiz"

# Lowest first. A module's layer is the first prefix that matches its dotted name.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("engine", ("dlquiz.engine",)),
    ("kernel", ("dlquiz.core", "dlquiz.status")),
    ("notation", ("dlquiz.notation",)),
    ("judge and symbolic", ("dlquiz.judge", "dlquiz.symbolic")),
    ("bank", ("dlquiz.bank",)),
    ("jobs", ("dlquiz.practice", "dlquiz.sets", "dlquiz.steps")),
    ("cli", ("dlquiz.cli", "dlquiz.__main__")),
]


def layer_of(module: str) -> int:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"module {module} belongs to no layer: add it to LAYERS")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """The dlquiz modules ``path`` imports (``from dlquiz.x import y`` counts y if a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("dlquiz")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("dlquiz"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {m for m in found if m != here}


MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) & MODULES for p in PACKAGE.rglob("*.py")}


def test_every_import_goes_down_the_layers() -> None:
    upward = []
    for module, targets in graph().items():
        if module == "dlquiz":
            continue
        for target in targets:
            if target == "dlquiz":
                continue
            if layer_of(target) > layer_of(module):
                upward.append(
                    f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                    f"({LAYERS[layer_of(target)][0]})"
                )
    assert not upward, "imports against the layer order:\n" + "\n".join(sorted(upward))


def test_the_kernel_imports_only_itself_and_the_engine() -> None:
    for module, targets in graph().items():
        if module.startswith("dlquiz.core"):
            outside = {t for t in targets if not t.startswith(("dlquiz.core", "dlquiz.engine"))}
            assert not outside, f"{module} imports {sorted(outside)}"


def test_no_import_cycle() -> None:
    edges = graph()
    # Package __init__ modules re-export their children; an edge into a package's own
    # __init__ from inside it is not a cycle of ideas, so only module files count.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own modules
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_layers_cover_every_module() -> None:
    for module in MODULES:
        if module != "dlquiz":
            layer_of(module)
