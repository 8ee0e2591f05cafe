"""The layering of docs/architecture.md, read from the source: every import points down."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EDGE = ("contact_center/web/", "contact_center/cli", "contact_center/__main__.py")  # cli.py, cli_*.py: the CLI


def imports(path: Path) -> set[str]:
    """The top-level packages and modules a file imports (``from x.y import z`` gives ``x.y``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def named(modules: set[str], *prefixes: str) -> set[str]:
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)}


@pytest.mark.parametrize("package", ["routing", "templates_responses"])
def test_the_pure_libraries_import_nothing_of_ours_and_no_io(package: str):
    for path in files(package):
        wrong = named(imports(path), "contact_center", "channels", "asyncio", "aiohttp", "redis", "websockets")
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_the_core_imports_no_channel_no_edge_and_no_aiohttp():
    for path in files("contact_center"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(EDGE):
            continue
        wrong = named(imports(path), "channels", "contact_center.web", "contact_center.cli", "aiohttp")
        assert not wrong, f"{rel} imports {sorted(wrong)}"


def test_channels_do_not_import_the_composition_root():
    for path in files("channels"):
        wrong = named(imports(path), "contact_center.web", "contact_center.cli")
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


# What the Engine façade was built with; the composition root hands each adapter the port it needs.
_THROUGH_ENGINE = re.compile(r"(\bengine|\[ENGINE\])\.(store|bus|clock|metrics|config)\b")


def test_no_adapter_reaches_through_the_engine():
    for package in ("contact_center", "channels"):
        for path in files(package):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                assert not _THROUGH_ENGINE.search(line), f"{path.relative_to(ROOT)}:{n} reaches through: {line.strip()}"


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("contact_center", "channels", "routing", "templates_responses"):
        for path in files(package):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _runtime_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules a file imports when it runs (``from a import b`` names ``a.b`` if that is a module)."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                      for a in node.names}  # fmt: skip
    return {m for m in found if m in modules}


def test_no_import_cycle():
    """Following imports from any module of ours never leads back to it."""
    modules = _modules()
    graph = {name: _runtime_imports(path, modules) - {name} for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join((*path[path.index(name) :], name)))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
