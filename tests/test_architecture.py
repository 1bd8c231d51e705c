"""Rooms with one job each: no import cycle between capability packages, and an engine that knows none of them.

Every module under bot/ is parsed (ast, nothing is imported); imports inside functions and under TYPE_CHECKING
count too, since they tie the rooms together just the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

CORE = "engine"  # bot/engine: events in, effects out; every capability builds on it, it builds on none


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of this tree it imports (``from bot.x import y`` names module bot.x.y if it is one)."""
    top = root.name
    paths = sorted(root.rglob("*.py"))
    known = {module_name(root, p) for p in paths}
    out: dict[str, set[str]] = {}
    for path in paths:
        name = module_name(root, path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base
                                                                                                       else []))
                found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
        out[name] = {m for m in found if m == top or m.startswith(top + ".")}
    return out


def packages(root: Path) -> set[str]:
    return {p.parent.name for p in root.glob("*/__init__.py")}


def room(module: str, rooms: set[str]) -> str | None:
    """The package a module belongs to (bot.learning.points -> learning); None for top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in rooms else None


def package_graph(root: Path) -> dict[str, dict[str, set[str]]]:
    """Package -> package it imports -> the module-level imports that make that edge (for the message)."""
    rooms = packages(root)
    graph: dict[str, dict[str, set[str]]] = {r: {} for r in rooms}
    for module, targets in imports(root).items():
        src = room(module, rooms)
        for target in targets:
            dst = room(target, rooms)
            if src and dst and src != dst:
                graph[src].setdefault(dst, set()).add(f"{module} -> {target}")
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Strongly connected groups of more than one package (Tarjan), each sorted; sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def problems(root: Path) -> list[str]:
    graph = package_graph(root)
    out = []
    for group in cycles(graph):
        edges = sorted(e for a in group for b in group if b in graph[a] for e in graph[a][b])
        out.append(f"import cycle between {', '.join(group)}: " + "; ".join(edges))
    for dst, edges in sorted(graph.get(CORE, {}).items()):
        out.append(f"{CORE} imports the capability {dst}: " + "; ".join(sorted(edges)))
    return out


def test_no_cycles_between_capabilities_and_an_engine_that_imports_none() -> None:
    assert problems(ROOT / "bot") == []


def test_the_check_finds_a_cycle_and_an_engine_that_imports_a_capability(tmp_path: Path) -> None:
    files = {
        "engine/__init__.py": "",
        "engine/core.py": "from bot.nudges.rules import RuleSet\n",
        "nudges/__init__.py": "",
        "nudges/rules.py": "class RuleSet: ...\n",
        "flows/__init__.py": "",
        "flows/runner.py": "def f() -> None:\n    from bot.learning import points\n",
        "learning/__init__.py": "",
        "learning/points.py": "",
        "learning/handlers.py": "from .points import x\nfrom bot.flows.runner import f\n",
        "app.py": "import bot.flows.runner\nimport bot.learning.handlers\n",
    }
    for name, text in files.items():
        path = tmp_path / "bot" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert problems(tmp_path / "bot") == [
        "import cycle between flows, learning: bot.flows.runner -> bot.learning.points; "
        "bot.learning.handlers -> bot.flows.runner",
        "engine imports the capability nudges: bot.engine.core -> bot.nudges.rules",
    ]
