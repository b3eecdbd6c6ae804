"""The loader: the redirect walk alone, the shared columns, and a round trip through the store."""

from __future__ import annotations

import shutil
import sqlite3
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from audit import RULES, graph, load_crawl
from audit.load import ARROW_TEXT, DERIVED_FROM, missing_column, walk_redirects
from crawler import store
from crawler.facts import FactType
from tests.rule_frames import link, make_crawl, page, recheck, skipped, u

# --- the redirect walk, a pure function -----------------------------------------------------

OUTCOME = {"a": "redirect", "b": "redirect", "c": "final", "x": "error", "s": "unfetched"}


@pytest.mark.parametrize("start, next_hop, outcome, chain, end", [
    ("c", {}, OUTCOME, ["c"], "final"),
    ("a", {"a": "b", "b": "c"}, OUTCOME, ["a", "b", "c"], "final"),
    ("a", {"a": "b", "b": "a"}, OUTCOME, ["a", "b", "a"], "loop"),
    ("a", {"a": "a"}, OUTCOME, ["a", "a"], "loop"),
    ("a", {"a": "x"}, OUTCOME, ["a", "x"], "error"),
    ("a", {"a": "s"}, OUTCOME, ["a", "s"], "unfetched"),
    ("a", {"a": "elsewhere"}, OUTCOME, ["a", "elsewhere"], "unfetched"),
])
def test_walk_redirects(start, next_hop, outcome, chain, end):
    assert walk_redirects(start, next_hop, outcome) == (chain, end)


def test_walk_redirects_stops_after_max_hops():
    next_hop = {f"u{i}": f"u{i + 1}" for i in range(50)}
    outcome = {f"u{i}": "redirect" for i in range(50)}
    chain, end = walk_redirects("u0", next_hop, outcome, max_hops=20)
    assert end == "too-long" and len(chain) == 21


def test_a_chain_of_exactly_max_hops_ends_normally():
    next_hop = {f"u{i}": f"u{i + 1}" for i in range(3)}
    outcome = {**{f"u{i}": "redirect" for i in range(3)}, "u3": "final"}
    assert walk_redirects("u0", next_hop, outcome, max_hops=3) == (["u0", "u1", "u2", "u3"], "final")


# --- shared columns -------------------------------------------------------------------------

def row(crawl, path):
    return crawl.pages.set_index("url").loc[u(path)]


def test_status_class_and_kinds():
    crawl = make_crawl(pages=[page("/gone", status=404), page("/err", status=None, error="timeout"),
                              skipped("/private", "robots"), page("/img.png", fetch_kind="resource",
                                                                  content_type="image/png")])
    assert [row(crawl, p)["status_class"] for p in ("/", "/gone", "/err", "/private")] == \
        ["2xx", "4xx", "error", "skipped"]
    assert row(crawl, "/img.png")["is_page"] and not row(crawl, "/img.png")["is_html"]
    assert not row(crawl, "/robots.txt")["is_page"]
    assert row(crawl, "/private")["blocked"] and not row(crawl, "/private")["crawlable"]


def test_crawlable_needs_scope_and_a_way_in():
    crawl = make_crawl(pages=[page("/linked"), page("/unlinked"), page("/listed"),
                              skipped("https://other.test/", "out-of-scope")],
                       links=[link("/", "/linked"), link("/", "https://other.test/")],
                       sitemap=["/listed"], nav=False)
    assert row(crawl, "/linked")["crawlable"] and row(crawl, "/listed")["crawlable"]
    assert row(crawl, "/")["crawlable"]  # the start URL
    assert not row(crawl, "/unlinked")["crawlable"]
    assert not row(crawl, "https://other.test/")["in_scope"]


def test_inlinks_count_distinct_followed_sources():
    crawl = make_crawl(pages=[page("/t"), page("/gone", status=404), page("/nf", meta_robots="nofollow")],
                       links=[link("/shoes", "/t"), link("/shoes", "/t", anchor="again"),
                              link("/hats", "/t", nofollow=1), link("/t", "/t"),
                              link("/gone", "/t"), link("/nf", "/t")], nav=False)
    # only /shoes counts: not the nofollow link, the self-link, nor links on error or nofollow pages
    assert row(crawl, "/t")["inlinks"] == 1


def test_links_on_a_nofollow_page_do_not_make_a_url_crawlable():
    crawl = make_crawl(pages=[page("/nf", meta_robots="noindex, nofollow"), page("/behind")],
                       links=[link("/", "/nf"), link("/nf", "/behind")], nav=False)
    assert row(crawl, "/nf")["crawlable"] and not row(crawl, "/behind")["crawlable"]


@pytest.mark.parametrize("facts, noindex", [
    (dict(meta_robots="noindex, follow"), True),
    (dict(meta_robots="none"), True),
    (dict(x_robots_tag="googlebot: noindex"), True),
    (dict(x_robots_tag="noarchive"), False),
    (dict(meta_robots="index, follow"), False),
])
def test_noindex(facts, noindex):
    assert bool(row(make_crawl(pages=[page("/p", **facts)]), "/p")["noindex"]) is noindex


@pytest.mark.parametrize("facts, indexable", [
    ({}, True),
    (dict(canonical=None), True),
    (dict(canonical="/shoes"), False),
    (dict(link_canonical="/shoes"), False),
    (dict(status=202), False),
    (dict(meta_robots="noindex"), False),
])
def test_indexable(facts, indexable):
    crawl = make_crawl(pages=[page("/p", **facts)])
    assert bool(row(crawl, "/p")["indexable"]) is indexable


def test_redirect_columns():
    crawl = make_crawl(pages=[page("/a", status=301, redirect_target="/b"),
                              page("/b", status=302, redirect_target="/shoes"),
                              page("/x", status=301, redirect_target="https://other.test/")])
    a = row(crawl, "/a")
    assert a["redirect_chain"] == [u("/a"), u("/b"), u("/shoes")]
    assert (a["chain_end"], a["final_url"], a["final_status"]) == ("final", u("/shoes"), 200)
    x = row(crawl, "/x")
    assert x["chain_end"] == "unfetched" and pd.isna(x["final_status"])
    assert row(crawl, "/shoes")["redirect_chain"] == [u("/shoes")]


def test_settled_status_is_the_last_recheck():
    crawl = make_crawl(pages=[page("/sale", status=202), page("/job", status=202)],
                       rechecks=[recheck("/sale", 2, 200), recheck("/sale", 1, 202),
                                 recheck("/job", 1, error="timeout")])
    assert row(crawl, "/sale")["settled_status"] == 200 and row(crawl, "/sale")["rechecks_done"] == 2
    assert pd.isna(row(crawl, "/job")["settled_status"]) and row(crawl, "/job")["settled_error"] == "timeout"
    assert row(crawl, "/shoes")["rechecks_done"] == 0


def test_links_know_what_is_internal():
    crawl = make_crawl(links=[link("/", "https://other.test/x")])
    internal = crawl.links.groupby("target")["internal"].all()
    assert not internal[u("https://other.test/x")] and internal[u("/shoes")]


# --- load_crawl: the notebook API -------------------------------------------------------------

def write_crawl(conn, start_path="/"):
    crawl_id = store.new_crawl(conn, u(start_path), {"max_pages": 10})
    store.insert_pages(conn, crawl_id, [
        store.page_row({"url": u("/"), "fetch_kind": "page", "found_via": "start", "depth": 0,
                        "status": 200, "attempt_statuses": [503, 200], "content_type": "text/html",
                        "hreflang": [["en", u("/")]], "title": "Home"}),
        store.page_row({"url": u("/sale"), "fetch_kind": "page", "found_via": "link", "depth": 1,
                        "status": 202, "attempt_statuses": [202], "content_type": "text/html"}),
    ])
    store.insert_links(conn, crawl_id, [(u("/"), u("/sale"), "a", "Sale", 0)])
    store.insert_sitemap_urls(conn, crawl_id, [(u("/sitemap.xml"), u("/"), None)])
    store.insert_rechecks(conn, crawl_id, [(u("/sale"), 1, 1.0, 200, None, None, 0.0)])
    store.set_probe(conn, crawl_id, {"url": u("/missing"), "status": 404})
    store.finish_crawl(conn, crawl_id, "complete", {"pages": 2})
    conn.commit()
    return crawl_id


def test_load_crawl_reads_the_latest_crawl_from_a_path(tmp_path):
    path = tmp_path / "site.db"
    conn = store.connect(path)
    first = write_crawl(conn)
    second = write_crawl(conn)
    store.replace_findings(conn, second, [("crawlable-202", "critical", "status", u("/sale"), "202")])
    conn.close()

    crawl = load_crawl(path)
    assert crawl.crawl_id == second and crawl.meta["state"] == "complete"
    assert crawl.meta["probe"]["status"] == 404 and crawl.meta["settings"] == {"max_pages": 10}
    home = crawl.pages.set_index("url").loc[u("/")]
    assert home["attempt_statuses"] == [503, 200] and home["hreflang"] == [["en", u("/")]]
    sale = crawl.pages.set_index("url").loc[u("/sale")]
    assert sale["crawlable"] and sale["inlinks"] == 1 and sale["settled_status"] == 200
    assert list(crawl.findings["rule"]) == ["crawlable-202"]
    assert len(crawl.links) == 1 and len(crawl.sitemap_urls) == 1 and len(crawl.rechecks) == 1

    older = load_crawl(path, first)
    assert older.crawl_id == first and older.findings.empty


def test_a_fact_the_crawl_never_filled_is_missing_on_every_page_at_no_cost(tmp_path):
    path = tmp_path / "site.db"
    conn = store.connect(path)
    write_crawl(conn)  # no page rendered, no TTFB, no structured data
    conn.close()
    pages = load_crawl(path).pages
    assert pages["rendered_title"].dtype == "str" and pages["rendered_title"].isna().all()
    assert pages["rendered_bytes"].dtype == "Int64" and pages["rendered_bytes"].isna().all()
    assert pages["ttfb"].dtype == float and pages["ttfb"].isna().all()
    assert pages["structured_types"].tolist() == [[]] * len(pages)
    assert pages["rendered_title"].fillna(pages["url"]).tolist() == pages["url"].tolist()

    tracemalloc.start()
    rows = pd.RangeIndex(10_000_000)
    columns = [missing_column(kind, rows) for kind in FactType]
    assert tracemalloc.get_traced_memory()[1] < 2**20 and all(column.isna().all() for column in columns[:3])
    tracemalloc.stop()


def test_the_texts_of_distinct_facts_load_as_one_arrow_array_with_their_stored_values(tmp_path, monkeypatch):
    monkeypatch.setattr(graph, "BATCH_ROWS", 3)  # the pages come in batches, which make one array
    path = tmp_path / "site.db"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, u("/"), {})
    titles = {u(f"/p{i}"): (None if i % 4 == 0 else "" if i % 4 == 1 else f"Title {i} \u00e9\U0001f600")
              for i in range(10)}
    store.insert_pages(conn, crawl_id, [store.page_row({"url": url, "fetch_kind": "page", "status": 200, "title": title,
                                                        "content_hash": f"h{i % 3}", "h1_count": 1})
                                        for i, (url, title) in enumerate(titles.items())])
    store.finish_crawl(conn, crawl_id, "complete", {"pages": 10})
    conn.commit()
    conn.close()

    pages = load_crawl(path).pages.set_index("url")
    distinct = {fact.name for fact in store.PAGE_FACTS if fact.distinct}
    assert {"title", "meta_description", "content_hash", "rendered_title"} <= distinct
    for name in ("title", "content_hash"):
        assert pages[name].dtype == ARROW_TEXT and pages[name].array.__arrow_array__().num_chunks == 1
    assert pages["title"].fillna("<NULL>").to_dict() == {url: "<NULL>" if title is None else title
                                                         for url, title in titles.items()}
    assert pages["title"].isna().sum() == 3 and pages["title"].eq("").sum() == 3
    assert pages["content_hash"].value_counts().to_dict() == {"h0": 4, "h1": 3, "h2": 3}
    # a fact the crawl never filled is missing at no cost, Arrow's or not
    assert pages["meta_description"].isna().all() and pages["meta_description"].dtype == "str"
    # what pandas does with Python's text it does with these: the same string dtype and missing value
    assert pages["title"].dtype == "str" and pages["title"].str.len().max() == len("Title 9 \u00e9\U0001f600")


def test_load_crawl_accepts_an_open_connection_and_leaves_it_open(tmp_path):
    conn = store.connect(tmp_path / "site.db")
    crawl_id = write_crawl(conn)
    assert load_crawl(conn).crawl_id == crawl_id
    conn.execute("SELECT 1")


def test_load_crawl_names_a_missing_crawl(tmp_path):
    conn = store.connect(tmp_path / "site.db")
    with pytest.raises(LookupError, match="no crawl"):
        load_crawl(conn)
    write_crawl(conn)
    with pytest.raises(LookupError, match="no crawl 99"):
        load_crawl(conn, 99)


def test_links_of_a_crawl_are_read_in_their_order_whatever_other_crawls_hold(tmp_path):
    path = tmp_path / "site.db"
    conn = store.connect(path)
    other = write_crawl(conn)  # another crawl's links sit between this one's rowids
    crawl_id = store.new_crawl(conn, u("/"), {}, job="two-readers")
    store.insert_pages(conn, crawl_id, [(u("/"),) + (None,) * (len(store.PAGE_COLUMNS) - 1),
                                        (u("/a"),) + (None,) * (len(store.PAGE_COLUMNS) - 1)])
    rows = [(u("/"), u("/a"), "a", "A", 0), (u("/a"), u("/gone"), "a", None, 1),  # /gone: no page row
            (u("/"), "https://elsewhere.test/", "a", "out", 0)]
    for i in range(40):
        source, target, kind, anchor, nofollow = rows[i % 3]
        anchor = anchor and f"{anchor}{i // 20}"  # half the anchors only in the second half
        store.insert_links(conn, crawl_id, [(source, target, kind, anchor, nofollow)])
        if i == 20:
            store.insert_links(conn, other, [(u("/x"), u("/y"), "a", "other crawl", 0)])
    store.insert_links(conn, crawl_id, [(u("/late"), u("/a"), "canonical", None, 0)])
    conn.commit()
    conn.close()

    two = load_crawl(path, crawl_id).links
    assert len(two) == 41
    assert two["source"].dtype == two["target"].dtype
    assert "other crawl" not in set(two["anchor"].dropna()) and two["anchor"].isna().sum() == 14
    assert two["target"].astype(object).tolist()[:3] == [u("/a"), u("/gone"), "https://elsewhere.test/"]


def test_links_are_read_as_stored_whatever_their_text(tmp_path):
    """A text holding a line break, an empty anchor and a missing one all come back as they were
    stored, in order."""
    path = tmp_path / "site.db"
    conn = store.connect(path)
    other = write_crawl(conn)
    crawl_id = store.new_crawl(conn, u("/"), {})
    store.insert_pages(conn, crawl_id, [(u("/"),) + (None,) * (len(store.PAGE_COLUMNS) - 1)])
    rows = [(u("/"), u("/a"), "a", "two\nlines", 0), (u("/"), u("/b"), "a", "", 1),
            (u("/"), u("/c"), "img", None, 0), (u("/c"), u("/"), "a", "=1+1", 0),
            (u("/"), "https://elsewhere.test/x\ny", "a", "plain", 1), (u("/"), u("/a"), "a", None, 0),
            (u("/b"), u("/"), "canonical", "", 0)]
    for i, row in enumerate(rows):
        store.insert_links(conn, crawl_id, [row])
        if i % 2:
            store.insert_links(conn, other, [(u("/x"), u("/y"), "a", "other crawl", 0)])
    conn.commit()
    conn.close()
    for index in ("through the index by crawl", "sorted: a store without it"):
        links = load_crawl(path, crawl_id).links
        read = list(zip(*(links[c].astype(object).where(links[c].notna(), None).tolist()
                          for c in ("source", "target", "kind", "anchor"))))
        assert read == [row[:4] for row in rows], index
        assert links["nofollow"].tolist() == [bool(row[4]) for row in rows]
        assert sorted(links["anchor"].cat.categories) == ["", "=1+1", "plain", "two\nlines"]
        with sqlite3.connect(path) as conn:
            conn.execute("DROP INDEX IF EXISTS links_by_crawl_id")


# --- loading only the columns a run reads ---------------------------------------------------

@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """tests/test_engine_outputs' crawl of the demo site (a copy: opening it upgrades it)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copy(Path(__file__).parent / "fixtures" / "engine-demo.sqlite", path)
    return path


@pytest.fixture(scope="module")
def demo_crawl(demo_store):
    return load_crawl(demo_store)


def test_a_load_holds_the_stored_facts_asked_for_and_those_the_derived_columns_need(demo_crawl, demo_store):
    narrow = load_crawl(demo_store, columns=("title", "inlinks", "links.kind", "logs"))
    stored = set(narrow.pages.columns) & set(store.PAGE_COLUMNS)
    assert stored == {"title", *DERIVED_FROM}
    assert list(narrow.pages.columns) == [c for c in demo_crawl.pages.columns if c not in store.PAGE_COLUMNS
                                          or c in stored]
    assert set(demo_crawl.pages.columns) >= set(store.PAGE_COLUMNS)  # no columns: every stored fact
    assert narrow.store == demo_crawl.store == demo_store.resolve()
    pd.testing.assert_frame_equal(narrow.pages, demo_crawl.pages[narrow.pages.columns])


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_a_rule_finds_the_same_on_the_columns_it_reads(rule, demo_crawl, demo_store):
    # a column a rule reads without declaring it is missing here (KeyError)
    narrow = load_crawl(demo_store, columns=rule.reads)
    if rule.off_for(demo_crawl):
        return
    hits, narrow_hits = rule.run(demo_crawl), rule.run(narrow)
    pd.testing.assert_frame_equal(narrow_hits, hits)
    assert rule.touched(narrow, narrow_hits).tolist() == rule.touched(demo_crawl, hits).tolist()
    if rule.applies_to is not None:
        assert rule.applies_to(narrow).tolist() == rule.applies_to(demo_crawl).tolist()


def test_the_budget_and_the_report_read_only_what_they_declare(demo_crawl, demo_store, tmp_path):
    from audit import crawl_budget, run_audit
    from audit.engine import pages_read
    from reports import write_outputs
    from reports.outputs import PAGES_READ

    narrow = load_crawl(demo_store, columns={*pages_read(), *PAGES_READ})
    findings = run_audit(demo_crawl)
    pd.testing.assert_frame_equal(run_audit(narrow), findings)
    budget = crawl_budget(demo_crawl, findings)
    assert crawl_budget(narrow, findings) == budget
    for crawl, out in ((demo_crawl, tmp_path / "all"), (narrow, tmp_path / "narrow")):
        write_outputs(out, crawl, findings, RULES, budget)
    for written in sorted((tmp_path / "all").iterdir()):
        if written.name not in ("report.html", "report.xlsx"):
            assert (tmp_path / "narrow" / written.name).read_bytes() == written.read_bytes(), written.name
