"""The outputs of an audit and report are the same bytes whatever engine computes them.

``tests/fixtures/engine-golden.json`` holds the SHA-256 of findings.csv, findings-<rule>.csv,
pages.csv and links.csv as the code of issue 16 wrote them (pandas in one process, a
hand-written CSV writer) for two stores: a crawl of the demo site (``engine-demo.sqlite``,
crawled once and kept, so timings do not change) and a synthetic store with hostile links
(formulas, credentials, quotes, line breaks, non-ASCII). Masks are keyed by a fixed key here, so
a masked credential is the same text in every run.

Regenerate only when an output is meant to change: ``python -m tests.test_engine_outputs``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "engine-golden.json"
DEMO_STORE = FIXTURES / "engine-demo.sqlite"
SYNTHETIC_URLS = 3_000
MASK_KEY = b"engine-outputs-test-key"

#: links planted in the synthetic store: every kind of text CSV writers and masking get wrong
HOSTILE_LINKS = [
    ("=HYPERLINK(\"http://evil/\")", "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "q\"uote", "a,b",
     "line\nbreak", "crlf\r\nend", "héllo wörld ✓", "", None, " lead space", "'quoted", "=", "-"),
    ("https://user:p%40ss@example.com/x", "https://example.com/?token=abc&x=1", "https://example.com/?x=1&api_key=K#f",
     "https://a:b@example.com/?sig=zz", "=cmd|' /C calc'!A0", "https://example.com/a,b", "https://example.com/\"q\"",
     "https://example.com/ünï", "http://plain.example.com/page"),
]


def hostile_store(path: Path) -> Path:
    """bench/scale_bench's synthetic store of SYNTHETIC_URLS URLs, plus HOSTILE_LINKS on its
    first pages (every anchor with every target, of each kind, raw, rendered and both)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    import scale_bench

    from crawler import store as crawl_store

    scale_bench.write_synthetic_store(str(path), SYNTHETIC_URLS, seed=7)
    conn = crawl_store.connect(path)
    try:
        (crawl_id,) = conn.execute("SELECT max(id) FROM crawls").fetchone()
        sources = [url for (url,) in conn.execute(
            "SELECT url FROM pages WHERE crawl_id = ? AND status = 200 ORDER BY url LIMIT 6", (crawl_id,))]
        anchors, targets = HOSTILE_LINKS
        kinds = ("a", "img", "canonical", "status-url", "script", "hreflang")
        rows = []
        for i, (source, kind) in enumerate(zip(sources, kinds)):
            for j, target in enumerate([*targets, *sources]):
                rows.append((source, target, kind, anchors[(i + j) % len(anchors)], (i + j) % 3 == 0))
        crawl_store.insert_links(conn, crawl_id, rows)
        conn.execute("UPDATE links SET seen_in = CASE rowid % 3 WHEN 0 THEN 'rendered' WHEN 1 THEN 'both' "
                     "ELSE seen_in END WHERE crawl_id = ? AND rowid % 7 = 0", (crawl_id,))
        conn.execute("UPDATE pages SET title = '=1+1', meta_description = 'https://u:pw@example.com/?token=t' "
                     "WHERE crawl_id = ? AND url = ?", (crawl_id, sources[0]))
        conn.commit()
    finally:
        conn.close()
    return path


def report_hashes(store: Path, out: Path) -> dict[str, str]:
    """SHA-256 of the CSVs `seo-audit report` writes of ``store``'s latest crawl."""
    from seo_audit.cli import main

    code = main(["report", "--store", str(store), "--out", str(out), "--quiet"])
    assert code in (0, 1), code
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(out.glob("*.csv"))}


@pytest.fixture
def fixed_masks(monkeypatch):
    from reports import safe

    monkeypatch.setattr(safe, "_mask", safe.Masks(hashlib.sha256(MASK_KEY).digest()))


def stores(tmp_path: Path) -> dict[str, Path]:
    demo = tmp_path / "demo.sqlite"
    shutil.copy(DEMO_STORE, demo)  # the report stores its findings: never in the fixture
    return {"demo": demo, "synthetic": hostile_store(tmp_path / "synthetic.sqlite")}


@pytest.mark.parametrize("name", ["demo", "synthetic"])
def test_outputs_are_the_recorded_bytes(name, tmp_path, fixed_masks):
    expected = json.loads(GOLDEN.read_text())[name]
    got = report_hashes(stores(tmp_path)[name], tmp_path / "out")
    assert sorted(got) == sorted(expected)
    assert {file: digest for file, digest in got.items() if expected[file] != digest} == {}


def record(work: Path) -> None:
    from reports import safe

    safe._mask = safe.Masks(hashlib.sha256(MASK_KEY).digest())
    golden = {name: report_hashes(store, work / f"out-{name}") for name, store in stores(work).items()}
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        record(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(work))
