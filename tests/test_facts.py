"""Page facts are declared once (crawler.facts): every list of page columns, the store's schema,
an older store's upgrade, the audit's dtypes and pages.csv follow from that declaration."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd

from audit import load
from audit.load import load_crawl
from crawler import facts, store
from crawler.extract import EXTRACTORS, PageFacts, extract
from crawler.facts import BLOB, INTEGER, JSON, PAGE_FACTS, REAL, TEXT
from crawler.records import html_fields
from crawler.render import rendered_fields

ROOT = Path(__file__).resolve().parent.parent
OLD_STORE = Path(__file__).parent / "fixtures" / "store-6281866.sqlite"
URL = "http://x.com/"


def names(kind) -> tuple[str, ...]:
    return tuple(fact.name for fact in PAGE_FACTS if fact.type is kind)


def test_every_list_of_page_columns_is_the_declaration():
    declared = [fact.name for fact in PAGE_FACTS]
    assert len(set(declared)) == len(declared) and all(name.isidentifier() for name in declared)
    assert all(fact.doc.strip() for fact in PAGE_FACTS)
    assert store.PAGE_COLUMNS == {fact.name: fact.doc for fact in PAGE_FACTS}
    assert (store.PAGE_INTEGER_COLUMNS, store.PAGE_REAL_COLUMNS, store.PAGE_JSON_COLUMNS,
            store.PAGE_BLOB_COLUMNS) == (names(INTEGER), names(REAL), names(JSON), names(BLOB))
    assert (load._INT_COLUMNS, load._FLOAT_COLUMNS) == (names(INTEGER), names(REAL))
    sql = {TEXT: "TEXT", JSON: "TEXT", INTEGER: "INTEGER", REAL: "REAL", BLOB: "BLOB"}
    conn = sqlite3.connect(":memory:")
    conn.executescript(store.SCHEMA)
    columns = [row[1:3] for row in conn.execute("PRAGMA table_info(pages)")]
    assert columns == [("crawl_id", "INTEGER")] + [(fact.name, sql[fact.type]) for fact in PAGE_FACTS]


def test_a_crawl_loads_each_fact_as_its_type(tmp_path):
    values = {TEXT: "text", INTEGER: 3, REAL: 0.5, JSON: ["a", 1], BLOB: b"\x00\x01"}
    row = {fact.name: values[fact.type] for fact in PAGE_FACTS} | {"url": URL}
    conn = store.connect(tmp_path / "store.sqlite")
    crawl_id = store.new_crawl(conn, URL, {})
    store.insert_pages(conn, crawl_id, [store.page_row(row)])
    conn.commit()
    pages = load_crawl(conn, crawl_id).pages
    conn.close()
    dtypes = {TEXT: "str", INTEGER: "Int64", REAL: "float64", JSON: "object", BLOB: "object"}
    for fact in PAGE_FACTS:
        assert str(pages[fact.name].dtype) == dtypes[fact.type], fact.name
        if fact.name != "url":
            assert pages[fact.name].iloc[0] == values[fact.type], fact.name


def test_the_extractors_read_every_page_fact_once():
    read = [name for fields, _ in EXTRACTORS for name in fields]
    assert sorted(read) == sorted(f.name for f in dataclasses.fields(PageFacts))
    assert len(read) == len(set(read))
    assert EXTRACTORS[-1][0] == ("word_count", "content_hash", "minhash"), "last: it strips scripts and styles"


def test_a_page_fact_named_as_a_column_reaches_the_row_raw_and_rendered():
    page = extract("<title>T</title><meta name=description content=D><h1>H</h1><p>some words</p>", URL)
    raw = html_fields(page)
    assert set(raw) <= set(store.PAGE_COLUMNS)
    rendered = rendered_fields(page, type("Probe", (), {"metrics": {}, "console_errors": [], "js_errors": [],
                                                        "failed_requests": [], "xhr": [], "blocked": []})(), URL)
    assert set(rendered) <= set(store.PAGE_COLUMNS)
    for field in dataclasses.fields(PageFacts):
        if field.name in store.PAGE_COLUMNS and field.name != "hreflang":  # hreflang: NULL if none
            assert raw[field.name] == getattr(page, field.name), field.name
        if f"rendered_{field.name}" in store.PAGE_COLUMNS:
            assert rendered[f"rendered_{field.name}"] == getattr(page, field.name), field.name
    assert (raw["title"], rendered["rendered_h1"], raw["outlinks"]) == ("T", "H", 0)


NEW_FACT = '    PageFact("h2_count", INTEGER, "number of <h2>"),\n'

ADDED_FACT_SCRIPT = textwrap.dedent("""
    import sqlite3, sys
    from pathlib import Path
    from audit.load import load_crawl
    from crawler import facts, store
    from reports.exports import export_pages_csv

    folder = Path(sys.argv[1])
    assert facts.__file__.startswith(str(folder)), facts.__file__
    old = folder / "old.sqlite"
    store.connect(old).close()  # an older store gains the column on open
    with sqlite3.connect(old) as conn:
        assert ("h2_count", "INTEGER") in [row[1:3] for row in conn.execute("PRAGMA table_info(pages)")]
        assert conn.execute("SELECT count(*), count(h2_count) FROM pages").fetchone() == (14, 0)
    conn = store.connect(folder / "new.sqlite")
    crawl_id = store.new_crawl(conn, "http://x.com/", {})
    store.insert_pages(conn, crawl_id, [store.page_row({"url": "http://x.com/", "status": 200, "h2_count": 4})])
    conn.commit()
    pages = load_crawl(conn, crawl_id).pages
    assert str(pages["h2_count"].dtype) == "Int64" and pages["h2_count"].tolist() == [4]
    text = export_pages_csv(folder / "pages.csv", pages).read_text(encoding="utf-8")
    header, row = text.splitlines()[:2]
    at = header.split(",").index("h2_count")
    assert row.split(",")[at] == "4", (header, row)
    print("ok")
""")


def test_a_fact_added_to_the_declaration_alone_is_stored_upgraded_loaded_and_exported(tmp_path):
    """The one edit a new fact needs besides its extraction: its line in crawler/facts.py (made
    here in a copy of the crawler package that the child process imports first)."""
    shutil.copytree(ROOT / "crawler", tmp_path / "crawler", ignore=shutil.ignore_patterns("__pycache__"))
    declaration = tmp_path / "crawler" / "facts.py"
    anchor = '    PageFact("word_count", '
    source = declaration.read_text(encoding="utf-8")
    assert source.count(anchor) == 1
    declaration.write_text(source.replace(anchor, NEW_FACT + anchor), encoding="utf-8")
    shutil.copy(OLD_STORE, tmp_path / "old.sqlite")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", ADDED_FACT_SCRIPT, str(tmp_path)], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    assert "h2_count" not in store.PAGE_COLUMNS and "h2_count" not in facts.PAGE_COLUMNS
    assert pd.read_csv(tmp_path / "pages.csv")["h2_count"].tolist() == [4]
