"""The apps' import graph, counting imports inside functions: no new cycle may appear.

A function-level import that only hides a cycle still couples the two modules; this
test reads every import with ``ast`` and finds the strongly connected groups of
modules. KNOWN lists the groups that exist today and are being taken apart; a group
that grows, or a new one, fails here, and a group that disappears must be struck off.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "bookings",
    "displays",
    "integrations",
    "ops",
    "orders",
    "privacy",
    "raumfuerraum",
    "reports",
    "visitors",
)

# Cycles still to untie (each a sorted tuple of modules). Shrink it; never grow it.
KNOWN: set[tuple[str, ...]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            stem = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            candidates = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            # The deepest module the import names (``from .x import f`` -> x, not x.f).
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), set()

    def visit(node):
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
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.add(tuple(sorted(group)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    # A package's __init__ re-exporting its modules is not a dependency of theirs on it.
    return {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}


def test_the_finder_sees_a_cycle_it_is_given():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {("a", "b", "c")}
    assert cycles({"a": {"b"}, "b": set()}) == set()


def test_the_import_graph_has_no_cycle_but_the_known_ones():
    found = cycles(import_graph())

    assert found - KNOWN == set(), f"new import cycle: {sorted(found - KNOWN)}"
    assert KNOWN - found == set(), f"untied, strike it from KNOWN: {sorted(KNOWN - found)}"


def test_the_bottom_layer_imports_nothing_above_the_models():
    graph = import_graph()
    allowed = {"bookings.errors", "bookings.models", "bookings.spans", "bookings.combinations"}
    for bottom in ("bookings.spans", "bookings.combinations", "bookings.conflicts"):
        above = {t for t in graph[bottom] if not t.startswith("bookings.models")} - allowed
        assert above == set(), f"{bottom} imports {sorted(above)}"


def test_the_settings_import_no_app_but_the_runtime_below_everything():
    graph = import_graph()

    assert graph["raumfuerraum.settings"] - {"ops", "ops.runtime", "raumfuerraum.env"} == set()
    # Settings load before Django is set up: the runtime they ask must import nothing of ours.
    assert graph["ops.runtime"] == set()
