"""The crawl store: one SQLite file per project, many crawls in it.

SQLite in WAL mode: no server to install, one file to copy or archive, readers (the
audit, a notebook) can open it while a crawl writes, and a killed writer leaves the
last committed batch intact. Lists are kept as lists: JSON arrays in TEXT columns
(attempt statuses, hreflang) or their own tables (links, sitemap membership, 202
re-checks), never strings joined with a separator.

Tables (every one keyed by ``crawl_id``):

crawls
    one row per run: start URL, times, state (running / complete / incomplete),
    settings and Scrapy stats as JSON, the soft-404 probe's answer as JSON.
pages
    one row per URL met (the "records"): fetched ones with what a crawler saw, and
    unfetched ones with ``skip_reason`` (robots, out-of-scope, max-depth, trap...).
    See PAGE_COLUMNS for each field.
links
    one row per (source, target, kind) found on a page: a, img, script, css, link,
    iframe, canonical, hreflang, meta-refresh, redirect, status-url.
sitemap_urls
    one row per (sitemap, url) listed, with lastmod.
rechecks
    one row per re-fetch of a URL that answered 202 (what it settled to).
frontier
    every URL the crawl decided to fetch, in discovery order; what a resumed crawl
    still has to fetch is the frontier minus the pages already recorded.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

#: pages columns, in order, with what each one records.
PAGE_COLUMNS: dict[str, str] = {
    "url": "normalised URL (fragment stripped, scheme and host lower-cased, default port dropped)",
    "fetch_kind": "page (GET), resource (HEAD, GET fallback), robots, sitemap, status-url",
    "found_via": "start, link, sitemap, redirect, canonical, hreflang, meta-refresh, status-url",
    "depth": "clicks from the start URL (redirect hops keep their source's depth); NULL if not reached by links",
    "referrer": "first page that linked here (or the redirecting URL, or the sitemap)",
    "skip_reason": "why it was not fetched: robots, out-of-scope, max-depth, trap, excluded, scheme; NULL if fetched",
    "robots_rule": "the robots.txt rule that blocks it, e.g. 'disallow: /private/'",
    "method": "HTTP method of the final attempt",
    "status": "HTTP status of the final attempt (NULL if none: error or skipped)",
    "error": "network failure instead of a status: timeout, dns, connection-refused, connection-reset, max-size, ...",
    "attempt_statuses": "JSON list of every attempt's status or error, retries included, e.g. [503, 503, 200]",
    "redirect_target": "for 3xx: the Location header resolved against the URL and normalised",
    "location": "raw Location header",
    "content_type": "Content-Type header",
    "content_length": "Content-Length header (bytes), if sent",
    "x_robots_tag": "X-Robots-Tag header(s), joined with ', '",
    "retry_after": "Retry-After header, raw",
    "content_location": "Content-Location header",
    "cache_control": "Cache-Control header(s), joined with ', '",
    "expires": "Expires header, raw",
    "link_canonical": "rel=canonical target from the Link header, normalised",
    "response_time": "seconds from request to response (Scrapy download latency)",
    "size": "body bytes received",
    "title": "<title> text",
    "meta_description": "meta description content",
    "meta_robots": "meta robots / googlebot content, lower-cased, joined with ', '",
    "canonical": "<link rel=canonical> target, normalised (first one)",
    "canonical_count": "number of <link rel=canonical> in the HTML",
    "hreflang": "JSON list of [lang, url] pairs from <link rel=alternate hreflang>",
    "meta_refresh": "meta refresh content, raw",
    "meta_refresh_url": "meta refresh target, normalised",
    "h1_count": "number of <h1>",
    "word_count": "words of visible text",
    "content_hash": "hash of the visible text (exact-duplicate detection)",
    "outlinks": "number of distinct links found on the page",
    "fetched_at": "unix time the response arrived",
}

LINK_COLUMNS = ("source", "target", "kind", "anchor", "nofollow")
SITEMAP_COLUMNS = ("sitemap", "url", "lastmod")
RECHECK_COLUMNS = ("url", "attempt", "waited", "status", "error", "retry_after", "fetched_at")
FRONTIER_COLUMNS = ("seq", "url", "fetch_kind", "found_via", "depth", "referrer", "pattern_run")

_INTEGER = {"depth", "status", "content_length", "size", "canonical_count", "h1_count",
            "word_count", "outlinks"}
_REAL = {"response_time", "fetched_at"}


def _decl(name: str) -> str:
    kind = "INTEGER" if name in _INTEGER else "REAL" if name in _REAL else "TEXT"
    return f"{name} {kind}"


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS crawls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT,
    start_url TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    state TEXT NOT NULL DEFAULT 'running',
    settings TEXT,
    stats TEXT,
    probe TEXT
);
CREATE TABLE IF NOT EXISTS pages (
    crawl_id INTEGER NOT NULL,
    {", ".join(_decl(c) for c in PAGE_COLUMNS)},
    PRIMARY KEY (crawl_id, url)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
    crawl_id INTEGER NOT NULL,
    source TEXT NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL,
    anchor TEXT, nofollow INTEGER NOT NULL DEFAULT 0
);
-- by crawl only: rows arrive in crawl order, so the index grows at its end (cheap), where
-- an index by source would be updated at random places for every link of every page
CREATE INDEX IF NOT EXISTS links_by_crawl_id ON links (crawl_id);
CREATE TABLE IF NOT EXISTS sitemap_urls (
    crawl_id INTEGER NOT NULL, sitemap TEXT NOT NULL, url TEXT NOT NULL, lastmod TEXT
);
CREATE INDEX IF NOT EXISTS sitemap_urls_by_crawl ON sitemap_urls (crawl_id);
CREATE TABLE IF NOT EXISTS rechecks (
    crawl_id INTEGER NOT NULL, url TEXT NOT NULL, attempt INTEGER NOT NULL,
    waited REAL, status INTEGER, error TEXT, retry_after TEXT, fetched_at REAL
);
CREATE TABLE IF NOT EXISTS frontier (
    crawl_id INTEGER NOT NULL, seq INTEGER NOT NULL, url TEXT NOT NULL,
    fetch_kind TEXT NOT NULL, found_via TEXT, depth INTEGER, referrer TEXT,
    pattern_run INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (crawl_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (
    crawl_id INTEGER NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,
    category TEXT, url TEXT NOT NULL, evidence TEXT
);
CREATE INDEX IF NOT EXISTS findings_by_crawl ON findings (crawl_id, rule);
-- what the last audit of a crawl concluded besides its findings: the crawl budget (JSON),
-- so that comparing with an earlier crawl needs no reload of its pages and links
CREATE TABLE IF NOT EXISTS audits (
    crawl_id INTEGER PRIMARY KEY, audited_at REAL NOT NULL, budget TEXT NOT NULL
);
-- the headline figures of the server logs last joined with a crawl (JSON: lines read, bots,
-- Googlebot's waste by cause), so that comparing crawls can compare Googlebot's waste too
CREATE TABLE IF NOT EXISTS log_audits (
    crawl_id INTEGER PRIMARY KEY, audited_at REAL NOT NULL, summary TEXT NOT NULL
);
"""

#: JSON columns of pages, decoded by the readers.
PAGE_JSON_COLUMNS = ("attempt_statuses", "hreflang")


class StoreError(Exception):
    """The store cannot be opened or written (path, permissions, disk full)."""


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and create, unless read-only) the store at ``path``."""
    path = Path(path)
    try:
        if readonly:
            if not path.exists():
                raise StoreError(f"no crawl store at {path}")
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode loses at most the last batch on power loss, never the file.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
        conn.execute("PRAGMA busy_timeout=10000")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open crawl store {path}: {exc}") from exc
    return conn


def new_crawl(conn: sqlite3.Connection, start_url: str, settings: dict[str, Any],
              job: str | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO crawls (job, start_url, started_at, settings) VALUES (?, ?, ?, ?)",
        (job, start_url, time.time(), json.dumps(settings, default=str)),
    )
    conn.commit()
    return int(cur.lastrowid)


def finish_crawl(conn: sqlite3.Connection, crawl_id: int, state: str,
                 stats: dict[str, Any] | None = None) -> None:
    conn.execute(
        "UPDATE crawls SET finished_at = ?, state = ?, stats = ? WHERE id = ?",
        (time.time(), state, json.dumps(stats or {}, default=str), crawl_id),
    )
    conn.commit()


def set_probe(conn: sqlite3.Connection, crawl_id: int, probe: dict[str, Any]) -> None:
    conn.execute("UPDATE crawls SET probe = ? WHERE id = ?", (json.dumps(probe), crawl_id))
    conn.commit()


def crawls(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """All crawls, newest first, with settings/stats/probe decoded."""
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute("SELECT * FROM crawls ORDER BY id DESC")]
    finally:
        conn.row_factory = None
    for row in rows:
        for key in ("settings", "stats", "probe"):
            row[key] = json.loads(row[key]) if row[key] else {}
    return rows


def latest_crawl_id(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT max(id) FROM crawls").fetchone()
    return row[0] if row else None


def page_row(values: dict[str, Any]) -> tuple:
    """A pages tuple in PAGE_COLUMNS order from a dict of recorded facts."""
    out = []
    for col in PAGE_COLUMNS:
        value = values.get(col)
        if col in PAGE_JSON_COLUMNS and value is not None:
            value = json.dumps(value)
        out.append(value)
    return tuple(out)


def _insert(conn: sqlite3.Connection, table: str, columns: Iterable[str], crawl_id: int,
            rows: Iterable[tuple], verb: str = "INSERT") -> None:
    columns = tuple(columns)
    marks = ", ".join("?" * len(columns))
    # crawl_id is our own integer, written into the statement so that rows are bound as
    # they come, without a Python tuple rebuilt for each of them
    conn.executemany(f"{verb} INTO {table} (crawl_id, {', '.join(columns)}) "
                     f"VALUES ({int(crawl_id)}, {marks})", rows)


def insert_pages(conn: sqlite3.Connection, crawl_id: int, rows: Iterable[tuple]) -> None:
    # REPLACE: a page re-fetched after a resume overwrites its earlier record, never doubles it.
    _insert(conn, "pages", PAGE_COLUMNS, crawl_id, rows, verb="INSERT OR REPLACE")


def insert_links(conn, crawl_id, rows):
    _insert(conn, "links", LINK_COLUMNS, crawl_id, rows)


def insert_sitemap_urls(conn, crawl_id, rows):
    _insert(conn, "sitemap_urls", SITEMAP_COLUMNS, crawl_id, rows)


def insert_rechecks(conn, crawl_id, rows):
    _insert(conn, "rechecks", RECHECK_COLUMNS, crawl_id, rows)


def insert_frontier(conn, crawl_id, rows):
    _insert(conn, "frontier", FRONTIER_COLUMNS, crawl_id, rows)


def set_budget(conn: sqlite3.Connection, crawl_id: int, budget: dict[str, Any]) -> None:
    """The crawl budget an audit of the crawl found (audit.crawl_budget), replacing any earlier."""
    with conn:
        conn.execute("INSERT OR REPLACE INTO audits (crawl_id, audited_at, budget) VALUES (?, ?, ?)",
                     (crawl_id, time.time(), json.dumps(budget, default=str)))


def budget_of(conn: sqlite3.Connection, crawl_id: int) -> dict[str, Any] | None:
    """The crawl budget stored by the crawl's last audit; None if none was (or the store is
    older than the audits table)."""
    try:
        row = conn.execute("SELECT budget FROM audits WHERE crawl_id = ?", (crawl_id,)).fetchone()
    except sqlite3.OperationalError:  # a read-only store written before the table existed
        return None
    return json.loads(row[0]) if row else None


def replace_findings(conn: sqlite3.Connection, crawl_id: int, rows: Iterable[tuple]) -> None:
    """Findings of a crawl: (rule, severity, category, url, evidence) rows, replacing any earlier audit."""
    with conn:
        conn.execute("DELETE FROM findings WHERE crawl_id = ?", (crawl_id,))
        _insert(conn, "findings", ("rule", "severity", "category", "url", "evidence"), crawl_id, rows)


def set_log_summary(conn: sqlite3.Connection, crawl_id: int, summary: dict[str, Any]) -> None:
    """Keep the figures of the logs joined with a crawl, replacing earlier ones."""
    with conn:
        conn.execute("INSERT OR REPLACE INTO log_audits (crawl_id, audited_at, summary) VALUES (?, ?, ?)",
                     (crawl_id, time.time(), json.dumps(summary, default=str)))


def log_summary_of(conn: sqlite3.Connection, crawl_id: int) -> dict[str, Any] | None:
    """The figures of the logs last joined with the crawl; None if none were."""
    try:
        row = conn.execute("SELECT summary FROM log_audits WHERE crawl_id = ?", (crawl_id,)).fetchone()
    except sqlite3.OperationalError:  # a read-only store written before the table existed
        return None
    return json.loads(row[0]) if row else None
