"""Layers import downwards only: crawler < audit < reports < seo_audit (ARCHITECTURE.md). Every
import is counted, those inside functions too: a lazy import up the layers is still a cycle."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("crawler", "audit", "reports", "seo_audit")


def imported_packages(path: Path) -> set[str]:
    """Top-level packages of this project a module imports (relative imports resolved)."""
    package = path.relative_to(ROOT).parts[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(package if node.level else (node.module or "").split(".")[0])
    return found & set(LAYERS)


def upward_imports() -> list[str]:
    upward = []
    for rank, layer in enumerate(LAYERS):
        for path in sorted((ROOT / layer).rglob("*.py")):
            for other in imported_packages(path):
                if LAYERS.index(other) > rank:
                    upward.append(f"{path.relative_to(ROOT)} imports {other}")
    return upward


def test_layers_import_downwards_only():
    assert upward_imports() == []


def module_imports(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of ``package`` it imports, lazily or not."""
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
               for path in (ROOT / package).rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here.split(".")[: len(here.split(".")) - node.level + 1]) if node.level else ""
                source = ".".join(filter(None, (base, node.module)))
                imported.update(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                                for alias in node.names)
        graph[name] = (imported & modules.keys()) - {name}
    return graph


def test_the_command_modules_import_without_cycles():
    """seo_audit.cli assembles the commands; they share flags, output and run, never cli."""
    graph = module_imports("seo_audit")
    assert "seo_audit.commands.crawl" in graph["seo_audit.cli"]
    tuple(graphlib.TopologicalSorter(graph).static_order())  # CycleError names the cycle


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_has_an_import_cycle(package):
    graph = module_imports(package)
    assert len(graph) > 3
    tuple(graphlib.TopologicalSorter(graph).static_order())  # CycleError names the cycle


def test_the_check_sees_relative_and_lazy_imports(tmp_path, monkeypatch):
    fake = tmp_path / "crawler"
    fake.mkdir()
    (fake / "x.py").write_text("def f():\n    from audit import load\n    from . import store\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert imported_packages(fake / "x.py") == {"audit", "crawler"}
    (fake / "store.py").write_text("from .x import f\n")
    assert module_imports("crawler") == {"crawler.x": {"crawler.store"}, "crawler.store": {"crawler.x"}}
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter(module_imports("crawler")).static_order())
