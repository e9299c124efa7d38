"""Imports run one way: every module's imports read from its source (ast), checked against
the layers of ARCHITECTURE.md. Lazy imports inside functions count; TYPE_CHECKING ones don't."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "streams"
# bottom to top: a module imports from its own layer or lower ones only
LAYERS: tuple[tuple[str, ...], ...] = (
    ("streams", "streams.codec", "streams.masking", "streams.settings", "streams.topics",
     "streams.text", "streams.events"),
    ("streams.watches",),
    ("streams.aggregate",),
    ("streams.detectors",),
    ("streams.alerts",),
    ("streams.engine",),
    ("streams.metrics", "streams.outputs"),
    ("streams.worker", "streams.sources"),
    ("streams.dev", "streams.cli"),
)
PURE = ("streams.engine", "streams.detectors", "streams.alerts", "streams.aggregate",
        "streams.events", "streams.watches", "streams.text", "streams.codec")
SERVICES = ("faust", "mode", "redis", "prometheus_client", "aiokafka")
# Kafka's default partitioner (a pure function) says which internal partition owns a watch
ALLOWED = ("aiokafka.partitioner",)


def _name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_module(name: str) -> bool:
    p = ROOT.parent / Path(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                pkg = module.split(".")[: len(module.split(".")) - node.level + (
                    1 if (ROOT.parent / Path(*module.split("."))).is_dir() else 0)]
                base = ".".join([*pkg, base] if base else pkg)
            for a in node.names:  # "from streams.x import y": y may be a module
                full = f"{base}.{a.name}"
                yield full if base.startswith("streams") and _is_module(full) else base
        else:
            yield from _imports(node, module)


@cache
def graph() -> dict[str, set[str]]:
    """Module -> every module or package it imports (streams modules, and third parties)."""
    out: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = _name(path)
        out[name] = set(_imports(ast.parse(path.read_text(), str(path)), name))
    return out


def _layer(module: str) -> int:
    best, level = -1, -1
    for i, group in enumerate(LAYERS):
        for prefix in group:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), i
    assert level >= 0, f"{module} is in no layer: add it to LAYERS and ARCHITECTURE.md"
    return level


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _closure(module: str) -> set[str]:
    g, seen, todo = graph(), set(), [module]
    while todo:
        for dep in g.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_every_import_goes_down_the_layers() -> None:
    bad = [f"{m} (layer {_layer(m)}) imports {d} (layer {_layer(d)})"
           for m, deps in graph().items() for d in deps
           if d.startswith("streams") and _layer(d) > _layer(m)]
    assert bad == []


def test_only_the_worker_imports_faust() -> None:
    bad = [f"{m} imports {d}" for m, deps in graph().items() for d in deps
           if d.split(".")[0] in ("faust", "mode") and not _within(m, ("streams.worker",))]
    assert bad == []


def test_the_pure_core_never_reaches_a_service_client_even_indirectly() -> None:
    bad = []
    for m in graph():
        if _within(m, PURE):
            reached = sorted(d for d in _closure(m)
                             if d.split(".")[0] in SERVICES and d not in ALLOWED)
            if reached:
                bad.append(f"{m} reaches {reached}")
    assert bad == []


def test_the_engine_never_imports_the_worker_outputs_or_dev_tooling() -> None:
    bad = [f"{m} imports {d}" for m, deps in graph().items() if _within(m, ("streams.engine",))
           for d in deps if _within(d, ("streams.worker", "streams.outputs", "streams.dev"))]
    assert bad == []


def test_no_module_imports_itself_back() -> None:
    g = {m: {d for d in deps if d in graph()} for m, deps in graph().items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(g[m]):
            if state.get(d) == 1:
                cycles.append([*path[path.index(d):], d])
            elif d not in state:
                visit(d, [*path, d])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_rules_see_the_imports() -> None:
    # a test that cannot fail is a defect: the graph holds what the code imports
    g = graph()
    assert "streams.engine.loop" in g["streams.engine.per_watch"]
    assert "faust" in g["streams.worker.app"]
    assert "streams.dev.scenarios" in g["streams.dev.replay_offline"]  # a lazy import
    assert "prometheus_client" in _closure("streams.worker.context")
    assert _layer("streams.detectors.volume") == 3 and _layer("streams.cli") == 8
