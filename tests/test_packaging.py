"""The wheel holds everything the product reads at run time, not only its modules.

An install from the wheel (`pip install .`, or from git) has no checkout beside it: a file
the code reads that is not package data is missing there. .ci/run installs the wheel in a
fresh venv and runs the demo; this is the quick check of what the wheel lists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what a build of a checkout never ships: caches and earlier builds' leftovers
_NOT_SOURCE = shutil.ignore_patterns(".git", "__pycache__", "build", "dist", "*.egg-info", "*.sqlite*",
                                     "demo-output", "audit-output", "results")


def _wheel(tmp_path: Path) -> zipfile.ZipFile:
    # built from a copy: setuptools reuses build/ of an earlier build, which could hold files
    # no longer in the checkout; no build isolation, so no index is asked for setuptools
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True, timeout=240)
    (wheel,) = (tmp_path / "dist").glob("seo_audit-*.whl")
    return zipfile.ZipFile(wheel)


def test_the_wheel_ships_every_template_and_the_report_loads_them_from_the_package(tmp_path):
    with _wheel(tmp_path) as wheel:
        names = set(wheel.namelist())
        templates = {f"templates/{path.name}" for path in (ROOT / "templates").iterdir() if path.is_file()}
        assert {"templates/report.html.j2", "templates/macros.html.j2", "templates/report.css",
                "templates/explorer.js", "templates/__init__.py"} <= templates
        assert templates <= names, sorted(templates - names)
        assert {"seo_audit/cli.py", "seo_audit/demo_site.py", "reports/html.py"} <= names
        ranges = {f"audit/logs/ranges/{path.name}" for path in (ROOT / "audit" / "logs" / "ranges").glob("*.json")}
        assert "audit/logs/ranges/googlebot.json" in ranges and ranges <= names, sorted(ranges - names)
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "seo-audit = seo_audit.cli:main" in wheel.read(entry_points).decode()
        wheel.extractall(tmp_path / "installed")
    # the report's loader, run from the wheel's files alone (outside the checkout), finds the
    # template and what it includes there
    found = subprocess.run(
        [sys.executable, "-c", "from reports.html import _environment\n"
         "env = _environment()\n"
         "print(env.get_template('report.html.j2').filename, len(env.list_templates()))"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path / "installed")},
        check=True, capture_output=True, text=True, timeout=60).stdout.split()
    assert found == [str(tmp_path / "installed" / "templates" / "report.html.j2"), str(len(templates))]
    # the snapshot of Google's crawler ranges, read from the wheel's files
    shipped = subprocess.run(
        [sys.executable, "-c", "from audit.logs.bots import shipped_ranges\n"
         "print(sorted((r.name, r.path.startswith(__import__('sys').argv[1])) for r in shipped_ranges()))",
         str(tmp_path / "installed")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path / "installed")},
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    assert shipped == str([(name, True) for name in ("googlebot", "special-crawlers", "user-triggered-fetchers")])
