"""Crawl history, which crawl came before which, retention, and the job lock, on hand-made stores."""

from __future__ import annotations

import pytest

from crawler import store
from seo_audit import jobs


@pytest.fixture
def conn(tmp_path):
    connection = store.connect(tmp_path / "seo-audit.sqlite")
    yield connection
    connection.close()


def add_crawl(conn, job: str | None, state: str = "complete", url: str = "https://a.test/") -> int:
    crawl_id = store.new_crawl(conn, url, {}, job)
    store.insert_pages(conn, crawl_id, [store.page_row({"url": url, "fetch_kind": "page", "status": 200})])
    store.insert_links(conn, crawl_id, [(url, url + "x", "a", "x", 0)])
    store.replace_findings(conn, crawl_id, [("missing-h1", "notice", "content", url, "no h1")])
    store.finish_crawl(conn, crawl_id, state)
    return crawl_id


def rows_of(conn, crawl_id: int) -> int:
    tables = ("pages", "links", "findings", "frontier", "rechecks", "sitemap_urls")
    return sum(conn.execute(f"SELECT count(*) FROM {t} WHERE crawl_id = ?", (crawl_id,)).fetchone()[0]
               for t in tables) + conn.execute("SELECT count(*) FROM crawls WHERE id = ?", (crawl_id,)).fetchone()[0]


def test_previous_crawl_is_the_last_finished_one_of_the_same_job(conn):
    first = add_crawl(conn, "nightly")
    other_job = add_crawl(conn, "weekly")
    interrupted = add_crawl(conn, "nightly", state="incomplete")
    at_limit = add_crawl(conn, "nightly", state="stopped-at-limit")
    latest = add_crawl(conn, "nightly")
    assert jobs.previous_crawl(conn, latest) == at_limit
    assert jobs.previous_crawl(conn, at_limit) == first, f"not {interrupted} (interrupted) nor {other_job}"
    assert jobs.previous_crawl(conn, first) is None
    assert jobs.latest_finished_crawl(conn, "weekly") == other_job
    assert jobs.latest_finished_crawl(conn) == latest


def test_crawls_without_a_job_are_grouped_by_start_url(conn):
    a1 = add_crawl(conn, None, url="https://a.test/")
    add_crawl(conn, None, url="https://b.test/")
    add_crawl(conn, "named", url="https://a.test/")
    a2 = add_crawl(conn, None, url="https://a.test/")
    assert jobs.previous_crawl(conn, a2) == a1


def test_history_rows(conn):
    crawl_id = add_crawl(conn, "nightly")
    (record,) = jobs.history(conn, "nightly")
    assert record["id"] == crawl_id and record["state"] == "complete" and record["fetched"] == 1
    assert record["findings"] == {"critical": 0, "warning": 0, "notice": 1}
    assert record["duration"] is not None
    assert jobs.history(conn, "other") == []


def test_prune_keeps_the_last_n_of_the_job_and_deletes_every_row_of_the_rest(conn):
    nightly = [add_crawl(conn, "nightly") for _ in range(4)]
    weekly = add_crawl(conn, "weekly")
    assert jobs.prune(conn, nightly[-1], keep=2) == [nightly[1], nightly[0]]
    assert [rows_of(conn, c) for c in nightly] == [0, 0, 4, 4]
    assert rows_of(conn, weekly) == 4, "another job's crawls are kept"
    assert jobs.prune(conn, nightly[-1], keep=2) == []


def test_prune_always_keeps_the_given_crawl(conn):
    older = add_crawl(conn, "nightly")
    newest_finished = add_crawl(conn, "nightly")
    assert jobs.prune(conn, older, keep=1) == [newest_finished]
    with pytest.raises(ValueError):
        jobs.prune(conn, older, keep=0)


def test_the_lock_refuses_a_second_holder_and_is_free_again_after(tmp_path):
    db = tmp_path / "seo-audit.sqlite"
    with jobs.job_lock(db, "nightly") as path:
        assert path == jobs.lock_path(db, "nightly") and path.read_text().isdigit()
        with pytest.raises(jobs.LockHeld, match=r"another run of job 'nightly' is running \(pid \d+\)"):
            with jobs.job_lock(db, "nightly"):
                pass
        with jobs.job_lock(db, "weekly"):
            pass  # another job of the same store runs alongside
    with jobs.job_lock(db, "nightly"):
        pass


def test_lock_files_are_named_safely_and_distinctly(tmp_path):
    url_lock = jobs.lock_path(tmp_path / "s.sqlite", "https://a.test/path?q=1")
    assert url_lock.parent == tmp_path and url_lock.name.startswith("s.sqlite.https-a-test-path-q-1-")
    assert url_lock != jobs.lock_path(tmp_path / "s.sqlite", "https://a.test/path?q=2")
