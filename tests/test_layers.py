"""Layers import downwards only: crawler < audit < reports < seo_audit (ARCHITECTURE.md). Every
import is counted, those inside functions too: a lazy import up the layers is still a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_the_check_sees_relative_and_lazy_imports(tmp_path, monkeypatch):
    fake = tmp_path / "crawler"
    fake.mkdir()
    (fake / "x.py").write_text("def f():\n    from audit import load\n    from . import store\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert imported_packages(fake / "x.py") == {"audit", "crawler"}
