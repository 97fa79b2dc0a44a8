"""The layers of DESIGN-shaped code, read from the import graph (README: Architecture).

Every ``import`` in ``src/tierstock`` is read with :mod:`ast` — at module level and
inside functions (a lazy import is still a dependency), but not under
``if TYPE_CHECKING:`` (annotations only, never run). Each rule below names the layer,
what it may not import, and why a reader can rely on it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "tierstock"
WEB_FRAMEWORKS = ("fastapi", "starlette", "typer", "click", "rich", "jinja2", "uvicorn")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _under_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> Iterator[str]:
    """Every module ``path`` imports when it runs (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    is_package = path.name == "__init__.py"

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _under_type_checking(child):
                for other in child.orelse:
                    yield from walk(other)
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = here if is_package else here[:-1]
                    base = base[: len(base) - child.level + 1]
                    prefix = ".".join(base + ([child.module] if child.module else []))
                else:
                    prefix = child.module or ""
                yield prefix
                for alias in child.names:  # `from pkg import module` depends on the module
                    yield f"{prefix}.{alias.name}"
            yield from walk(child)

    yield from walk(tree)


def modules() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic revisions: frozen snapshots, store-owned
        graph[module_name(path)] = set(imports_of(path))
    return graph


GRAPH = modules()
OURS = set(GRAPH)


def top(name: str) -> str:
    return name.split(".")[0]


def in_layer(layer: str) -> dict[str, set[str]]:
    prefix = f"tierstock.{layer}"
    return {m: deps for m, deps in GRAPH.items() if m == prefix or m.startswith(prefix + ".")}


def offenders(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{m} imports {dep}"
        for m, deps in in_layer(layer).items()
        for dep in deps
        if any(dep == f or dep.startswith(f + ".") for f in forbidden)
    )


def test_the_graph_was_read() -> None:
    """A rule over an empty graph passes for nothing: make sure the walk found code."""
    assert len(in_layer("domain")) > 10 and len(in_layer("services")) > 20
    assert "tierstock.store.uow" in GRAPH["tierstock.services.runtime"]


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    bad = sorted(
        f"{m} imports {dep}"
        for m, deps in in_layer("domain").items()
        for dep in deps
        if top(dep) not in sys.stdlib_module_names
        and not (dep == "tierstock.domain" or dep.startswith("tierstock.domain."))
    )
    assert bad == []


def test_only_the_store_imports_sqlalchemy_or_alembic() -> None:
    bad = sorted(
        f"{m} imports {dep}"
        for m, deps in GRAPH.items()
        if not m.startswith("tierstock.store")
        for dep in deps
        if top(dep) in ("sqlalchemy", "alembic")
    )
    assert bad == []


def test_services_import_no_web_or_cli_framework() -> None:
    assert offenders("services", WEB_FRAMEWORKS) == []


@pytest.mark.parametrize("entry_point", ["api", "cli", "web"])
def test_entry_points_do_not_reach_into_the_store(entry_point: str) -> None:
    """Entry points call services; only services hold units of work."""
    assert offenders(entry_point, ("tierstock.store",)) == []


@pytest.mark.parametrize("entry_point", ["api", "cli", "web"])
def test_entry_points_do_not_import_each_other(entry_point: str) -> None:
    """Each entry point stands on the services alone (serve starts the app by name)."""
    others = tuple(f"tierstock.{e}" for e in ("api", "cli", "web") if e != entry_point)
    composition = {"tierstock.api.main imports tierstock.web.app"}  # the app mounts /web/
    found = [o for o in offenders(entry_point, others) if not o.startswith(tuple(composition))]
    assert found == []


def test_no_layer_below_imports_an_entry_point() -> None:
    entry_points = ("tierstock.api", "tierstock.cli", "tierstock.web")
    for layer in ("domain", "services", "store", "policies"):
        assert offenders(layer, entry_points) == []


def test_order_paths_never_import_the_runtime() -> None:
    """The runtime picks a path; a path that imported the runtime would make a circle."""
    assert offenders("services.placing", ("tierstock.services.runtime",)) == []


def _cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_services_import_each_other_without_a_circle() -> None:
    services = in_layer("services")
    graph = {
        m: {
            d
            for d in deps
            if d in services and d != m and not m.startswith(d + ".")  # a parent package
        }
        for m, deps in services.items()
    }
    assert _cycle_in(graph) is None


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle_in({"a": {"b"}, "b": set()}) is None


def test_every_package_says_what_lives_there() -> None:
    missing = [
        str(init.relative_to(SRC))
        for init in PACKAGE.rglob("__init__.py")
        if "migrations" not in init.parts and not ast.get_docstring(ast.parse(init.read_text()))
    ]
    assert missing == []
