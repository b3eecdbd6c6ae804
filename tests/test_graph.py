"""A crawl's links in DuckDB (audit.graph): bounded by the memory budget, queried by SQL."""

from __future__ import annotations

import sqlite3

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import audit
import audit.graph as graph_module
from audit.graph import (BYTES_PER_LINK, MEMORY_AFTER_LOAD, MEMORY_FLOOR, LinkGraph, _links_span, memory_limit,
                         parse_size)
from crawler import store

SITE = "https://shop.test"


def _store(tmp_path):
    path = tmp_path / "site.db"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, f"{SITE}/", {})
    pages = [{**dict.fromkeys(store.PAGE_COLUMNS), "url": f"{SITE}/{p}", "status": 200, "fetch_kind": "page",
              "content_type": "text/html"} for p in ("", "a", "b")]
    store.insert_pages(conn, crawl_id, [tuple(page[c] for c in store.PAGE_COLUMNS) for page in pages])
    store.insert_links(conn, crawl_id, [(f"{SITE}/", f"{SITE}/a", "a", "A", 0), (f"{SITE}/", f"{SITE}/b", "a", None, 1),
                                        (f"{SITE}/a", f"{SITE}/b", "img", "", 0), (f"{SITE}/b", f"{SITE}/a", "a", "x", 0)])
    store.finish_crawl(conn, crawl_id, "complete")
    conn.close()
    return path


def test_duckdb_gets_memory_by_the_crawls_links_within_its_share_of_the_budget_and_a_folder_to_spill_into(tmp_path):
    budget = parse_size("512MB")
    assert memory_limit(budget, None) == 256 * 2**20  # links not known: the whole share
    assert memory_limit(budget, 10**7) == 256 * 2**20  # many links: no more than the share
    assert memory_limit(parse_size("2GB"), 3 * 10**6) == 3 * 10**6 * BYTES_PER_LINK
    assert memory_limit(budget, 4) == MEMORY_FLOOR
    with sqlite3.connect(_store(tmp_path)) as conn:  # a second crawl after it: its own links counted
        crawl_id = store.new_crawl(conn, f"{SITE}/", {})
        store.insert_links(conn, crawl_id, [(f"{SITE}/", f"{SITE}/{n}", "a", "", 0) for n in range(3 * 10**6 // BYTES_PER_LINK)])
        assert _links_span(conn, crawl_id) == 3 * 10**6 // BYTES_PER_LINK
        assert _links_span(conn, crawl_id + 1) == 0
    graph = LinkGraph.from_store(sqlite3.connect(tmp_path / "site.db"), crawl_id, memory_budget=budget)
    (limit,), = graph.con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert limit == f"{MEMORY_FLOOR / 2**20:.1f} MiB"  # the floor: 3M / BYTES_PER_LINK links need 3 MB
    graph.close()
    graph = LinkGraph.from_frame(None, memory_budget=budget)
    (spill,), = graph.con.execute("SELECT current_setting('temp_directory')").fetchall()
    folder = graph.folder
    assert spill.startswith(str(folder))
    graph.close()
    assert not folder.exists()


def test_after_the_load_duckdb_keeps_less_memory_but_never_gets_more():
    graph = LinkGraph.from_frame(None)
    setting = lambda: graph.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]  # noqa: E731
    graph.con.execute("SET memory_limit = '1GiB'")
    graph.keep_less()
    assert parse_size(setting()) == MEMORY_AFTER_LOAD  # DuckDB's own text of it, e.g. "128.0 MiB"
    graph.con.execute("SET memory_limit = '96MiB'")
    graph.keep_less()
    assert setting() == "96.0 MiB"
    graph.close()


def test_a_query_that_needs_more_than_keep_less_left_gets_the_load_limit_back(monkeypatch):
    monkeypatch.setattr(graph_module, "MEMORY_AFTER_LOAD", 64 * 2**20)
    graph = LinkGraph.from_frame(None)
    graph.con.execute("SET memory_limit = '1GiB'")
    graph.keep_less()
    setting = lambda: graph.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]  # noqa: E731
    assert parse_size(setting()) == 64 * 2**20
    whole = "SELECT length(string_agg(repeat('x', 100), '')) AS n FROM range(1000000)"  # held whole: no spill
    with pytest.raises(duckdb.OutOfMemoryException):
        graph.con.execute(whole).fetchall()
    assert graph.query(whole)["n"].tolist() == [100_000_000]
    assert setting() == "1.0 GiB"
    graph.close()


@pytest.mark.parametrize("text, size", [("2GB", 2 * 2**30), ("512 MB", 512 * 2**20), ("1.5G", int(1.5 * 2**30)),
                                        ("3GiB", 3 * 2**30), (2**30, 2**30), ("1073741824", 2**30),
                                        ("953.6 MiB", int(953.6 * 2**20)), ("1.5 GiB", int(1.5 * 2**30))])
def test_sizes(text, size):
    assert parse_size(text) == size


def test_a_crawl_too_large_for_dataframes_is_queried_in_sql(tmp_path):
    path = _store(tmp_path)
    relation = audit.query(path, "SELECT target, count(*) AS n FROM links WHERE kind = 'a' GROUP BY target ORDER BY target")
    assert relation.fetchall() == [(f"{SITE}/a", 2), (f"{SITE}/b", 1)]
    joined = audit.query(path, "SELECT p.url, count(l.row) AS out FROM pages p LEFT JOIN links l ON l.source = p.url "
                               "GROUP BY p.url ORDER BY p.url").df()
    assert joined["out"].tolist() == [2, 1, 1]


def test_notebook_links_are_a_dataframe_as_stored(tmp_path):
    crawl = audit.load_crawl(_store(tmp_path))
    links = crawl.links
    assert list(links.columns) == ["source", "target", "kind", "anchor", "nofollow", "seen_in", "followed", "internal"]
    assert links["anchor"].astype(object).where(links["anchor"].notna(), None).tolist() == ["A", None, "", "x"]
    assert links["nofollow"].tolist() == [False, True, False, False]
    assert links["followed"].tolist() == [True, False, False, True]
    assert crawl.pages.set_index("url")["inlinks"].to_dict() == {f"{SITE}/": 0, f"{SITE}/a": 2, f"{SITE}/b": 0}
    # links replaced from a frame: the graph and its facts follow
    crawl.links = pd.DataFrame([(f"{SITE}/a", f"{SITE}/b", "a", "new", 0)], columns=store.LINK_COLUMNS[:5])
    assert crawl.graph.select()["anchor"].tolist() == ["new"] and crawl.links["followed"].tolist() == [True]


def test_links_are_held_once_a_view_of_link_facts_in_the_stores_order():
    # more rows than DuckDB's row groups (122,880): on two threads their join would come out of order
    n = 300_000
    pages = pd.DataFrame({"url": [f"{SITE}/{i}" for i in range(1000)], "passes": True, "in_scope": True})
    links = pd.DataFrame({"source": pages["url"].to_numpy()[pd.RangeIndex(n) % 1000],
                          "target": pages["url"].to_numpy()[(pd.RangeIndex(n) * 7) % 1000], "kind": "a"})
    graph = LinkGraph.from_frame(links)
    for _ in range(2):  # made again on the same graph
        graph.add_page_facts(pages, [SITE])
        assert graph.con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name IN ('links', 'link_facts')").fetchall() \
            == [("link_facts",)]
        rows = graph.query("SELECT row, source FROM links")
        assert rows["row"].tolist() == list(range(n)) and rows["source"].tolist() == links["source"].tolist()
    graph.close()


def test_pages_and_links_read_ahead_come_in_the_stores_order(tmp_path, monkeypatch):
    # many small batches, each read while the one before is decoded or joined by DuckDB's thread
    monkeypatch.setattr(graph_module, "BATCH_ROWS", 7)
    path = _store(tmp_path)
    targets = [f"{SITE}/{n % 5}" for n in range(2000)]
    with sqlite3.connect(path) as conn:
        more = [{**dict.fromkeys(store.PAGE_COLUMNS), "url": f"{SITE}/p{n}", "status": n} for n in range(50)]
        store.insert_pages(conn, 1, [tuple(page[c] for c in store.PAGE_COLUMNS) for page in more])
        store.insert_links(conn, 1, [(f"{SITE}/a", target, "a", str(n), 0) for n, target in enumerate(targets)])
        stored_pages = conn.execute("SELECT url, status FROM pages WHERE crawl_id = 1").fetchall()
    crawl = audit.load_crawl(path)
    assert list(zip(crawl.pages["url"], crawl.pages["status"].astype(object))) == stored_pages
    written = crawl.graph.con.execute("SELECT anchor FROM links").fetchall()  # the table's own order
    assert [anchor for (anchor,) in written][4:] == [str(n) for n in range(2000)]
    assert crawl.graph.select("kind = 'a' AND target = ?", (f"{SITE}/3",))["anchor"].tolist()[-1] == "1998"


def test_a_failing_store_read_fails_the_read_ahead():
    schema = pa.schema([("n", pa.int64())])

    def batches():
        yield pa.record_batch([pa.array([1, 2])], schema=schema)
        raise OSError("disk gone")

    with graph_module._read_ahead(pa.RecordBatchReader.from_batches(schema, batches())) as reader:
        assert reader.read_next_batch().column(0).to_pylist() == [1, 2]
        with pytest.raises(OSError, match="disk gone"):
            reader.read_next_batch()
    full = pa.RecordBatchReader.from_batches(schema, (pa.record_batch([pa.array([n])], schema=schema) for n in range(50)))
    with graph_module._read_ahead(full) as reader:  # left early: the thread reading ahead stops
        assert reader.read_next_batch().column(0).to_pylist() == [0]


def test_inlinks_counted_in_shares_of_the_targets_as_in_one(monkeypatch):
    # distinct sources per target, duplicates and self-links among them, counted in one aggregate
    # and in shares of the targets (what a crawl of more than PAIRS_PER_AGGREGATE links gets)
    pages = pd.DataFrame({"url": [f"{SITE}/{i}" for i in range(50)], "passes": True, "in_scope": True})
    sources = [f"{SITE}/{i % 50}" for i in range(2000)]
    targets = [f"{SITE}/{(i * i) % 37}" for i in range(2000)]
    graph = LinkGraph.from_frame(pd.DataFrame({"source": sources, "target": targets, "kind": "a"}))
    graph.add_page_facts(pages, [SITE])
    expected = {t: len({s for s, u in zip(sources, targets) if u == t and s != t}) for t in pages["url"]}
    by_share = []
    for pairs in (10**9, 300, 7):
        monkeypatch.setattr(graph_module, "PAIRS_PER_AGGREGATE", pairs)
        inlinks, _ = graph.per_page(pages["url"], ["a"])
        by_share.append(dict(zip(pages["url"], inlinks.tolist())))
    graph.close()
    assert by_share == [expected] * 3 and max(expected.values()) > 1
