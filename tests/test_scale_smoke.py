"""Smoke test of the scale bench: the generated site is whole, and a synthetic store loads."""

import http.client
import os
import sqlite3
import sys
from collections import deque

from lxml import html as lxml_html

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import pagegen_server  # noqa: E402
import scale_bench  # noqa: E402

from audit import load_crawl  # noqa: E402

PAGES = 300


def test_every_page_answers_200_and_is_reachable_from_root():
    with pagegen_server.PagegenServer(PAGES) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)  # one keep-alive connection
        try:
            def get(path: str) -> tuple[int, str, bytes]:
                conn.request("GET", path)
                answer = conn.getresponse()
                return answer.status, answer.getheader("Content-Type"), answer.read()

            status, _, robots = get("/robots.txt")
            assert status == 200 and b"Allow: /" in robots
            assert get(f"/p/{PAGES}")[0] == 404 and get("/p/0")[0] == 404 and get("/nothing")[0] == 404

            seen, queue = {"/"}, deque(["/"])
            while queue:
                path = queue.popleft()
                status, content_type, body = get(path)
                assert status == 200 and content_type.startswith("text/html"), path
                assert 1000 < len(body) < 3200, (path, len(body))
                doc = lxml_html.fromstring(body)
                assert doc.findtext(".//title") and doc.xpath("//meta[@name='description']/@content")
                assert doc.xpath("//link[@rel='canonical']/@href") == [server.origin + path]
                hrefs = doc.xpath("//a/@href")
                assert 7 <= len(hrefs) <= 12, path  # leaves: no children, the last page: no next
                for href in hrefs:
                    if href not in seen:
                        seen.add(href)
                        queue.append(href)
        finally:
            conn.close()
    assert seen == {pagegen_server.page_path(i) for i in range(PAGES)}


def test_synthetic_store_loads(tmp_path):
    store = tmp_path / "synthetic.sqlite"
    facts = scale_bench.write_synthetic_store(str(store), 2000)
    crawl = load_crawl(store)
    pages, links = crawl.pages, crawl.links
    assert len(pages) == 2000 and pages["url"].is_unique
    assert len(links) == facts["links"]
    html_ok = pages["is_html"] & pages["status"].eq(200).fillna(False)
    per_page = links[links["kind"].eq("a")].groupby("source").size()
    assert per_page.between(scale_bench.LINKS_MIN, scale_bench.LINKS_MAX).all()
    assert per_page.index.isin(pages.loc[html_ok, "url"]).all()
    assert {301, 404, 202, 500} <= set(pages["status"].dropna())
    assert pages["noindex"].any() and (~pages["canonical_self_or_absent"] & html_ok).any()
    assert pages["status_class"].eq("skipped").any() and pages["error"].eq("timeout").any()
    assert pages["in_sitemap"].any() and pages["inlinks"].gt(0).any()
    assert crawl.rechecks["url"].isin(pages.loc[pages["status"].eq(202).fillna(False), "url"]).all()


def test_report_of_a_large_store_writes_what_a_small_one_does(tmp_path, monkeypatch):
    """The process a large store's report starts (the workbook) changes nothing in the files; the
    findings stored by Arrow ingest are those of the audit, once, in its order."""
    from seo_audit.cli import main

    store = tmp_path / "synthetic.sqlite"
    scale_bench.write_synthetic_store(str(store), 600)
    assert main(["report", "--store", str(store), "--out", str(tmp_path / "small"), "--quiet"]) == 0
    monkeypatch.setattr("reports.outputs.FINDINGS_FOR_A_PROCESS", 0)
    monkeypatch.setattr("audit.engine.FINDINGS_BATCH_ROWS", 7)  # many batches
    with sqlite3.connect(store) as conn:
        stored = conn.execute("SELECT rule, url, evidence FROM findings ORDER BY rowid").fetchall()
        conn.execute("DELETE FROM findings")
    assert main(["report", "--store", str(store), "--out", str(tmp_path / "large"), "--quiet"]) == 0
    # saved anew: the same findings, once, in the same order
    assert sqlite3.connect(store).execute("SELECT rule, url, evidence FROM findings ORDER BY rowid").fetchall() == stored
    small = sorted(p.name for p in (tmp_path / "small").glob("*.csv"))
    assert len(small) > 5 and small == sorted(p.name for p in (tmp_path / "large").glob("*.csv"))
    for name in small:
        assert (tmp_path / "large" / name).read_bytes() == (tmp_path / "small" / name).read_bytes(), name
