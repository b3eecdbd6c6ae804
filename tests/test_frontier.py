"""The frontier: breadth-first order, de-duplication, spilling to the store, resuming."""

from __future__ import annotations

from crawler import store
from crawler.frontier import Frontier
from crawler.records import retry_after_seconds, says_nofollow
from crawler.writer import StoreWriter


def test_fifo_and_seen():
    frontier = Frontier()
    assert frontier.mark_seen("http://x/a") and not frontier.mark_seen("http://x/a")
    for url in ("http://x/a", "http://x/b"):
        frontier.push(url, "page", "link", 1, None)
    assert [frontier.pop().url, frontier.pop().url, frontier.pop()] == ["http://x/a", "http://x/b", None]
    assert not frontier.has_pending()


def test_spills_to_store_and_reads_back_in_order(tmp_path):
    path = tmp_path / "s.sqlite"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, "http://x/", {})
    writer = StoreWriter(path, crawl_id)
    frontier = Frontier(memory_limit=10)
    frontier.attach_store(conn, crawl_id, writer.flush)
    for i in range(2500):
        entry = frontier.push(f"http://x/{i}", "page", "link", 1, None)
        writer.put({"frontier": [tuple(entry)]})
    assert len(frontier) == 10, "only memory_limit entries are held in memory"
    popped = []
    while (entry := frontier.pop()) is not None:
        popped.append(int(entry.url.rsplit("/", 1)[1]))
        assert len(frontier) <= 1250
    assert popped == list(range(2500))
    writer.close()


def test_resume_skips_recorded_pages(tmp_path):
    path = tmp_path / "s.sqlite"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, "http://x/", {})
    with conn:
        store.insert_frontier(conn, crawl_id, [(i, f"http://x/{i}", "page", "link", 1, None, 0) for i in range(5)])
        store.insert_pages(conn, crawl_id, [store.page_row({"url": "http://x/1", "status": 200}),
                                            store.page_row({"url": "http://x/ext", "skip_reason": "out-of-scope"})])
    frontier = Frontier()
    frontier.attach_store(conn, crawl_id, lambda: None)
    assert frontier.resume(conn, crawl_id) == 4
    assert not frontier.mark_seen("http://x/ext") and not frontier.mark_seen("http://x/3")
    assert [frontier.pop().url for _ in range(4)] == ["http://x/0", "http://x/2", "http://x/3", "http://x/4"]
    assert frontier.push("http://x/new", "page", "link", 2, None).seq == 5


def test_writer_reports_a_store_it_cannot_write(tmp_path):
    path = tmp_path / "s.sqlite"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, "http://x/", {})
    writer = StoreWriter(path, crawl_id)
    writer.put({"links": [("a", "b", "a", None, 0)]})
    writer.flush()
    conn.execute("DROP TABLE links")
    conn.commit()
    writer.put({"links": [("a", "b", "a", None, 0)]})
    try:
        writer.flush()
    except store.StoreError as exc:
        assert "could not be written" in str(exc)
    else:
        raise AssertionError("a failed write must surface")
    writer.close()


def test_retry_after_and_nofollow():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 25 Nov 2026 09:00:10 GMT", now=1795597200.0) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert says_nofollow("noindex, nofollow") and says_nofollow(None, "none")
    assert not says_nofollow("noindex", None)
