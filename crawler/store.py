"""The crawl store: one SQLite file per project, many crawls in it.

SQLite in WAL mode: no server to install, one file to copy or archive, readers (the
audit, a notebook) can open it while a crawl writes, and a killed writer leaves the
last committed batch intact. Lists are kept as lists: JSON arrays in TEXT columns
(attempt statuses, hreflang) or their own tables (links, sitemap membership, 202
re-checks), never strings joined with a separator.

Tables (every one keyed by ``crawl_id``):

crawls
    one row per run: start URL, times, state (running / complete / incomplete),
    settings and Scrapy stats as JSON, the soft-404 probe's answer as JSON, and its mode:
    site (a site crawled from its start URL) or list (exactly the URLs of a list, see CRAWL_MODES).
pages
    one row per URL met (the "records"): fetched ones with what a crawler saw, and
    unfetched ones with ``skip_reason`` (robots, out-of-scope, max-depth, trap...).
    Its columns are the page facts, declared in crawler.facts.
links
    one row per (source, target, kind) found on a page or a stylesheet: a, img, script, css
    (a stylesheet: <link rel=stylesheet>, @import), css-url (a url() of a stylesheet, a <style>
    or a style attribute), link, iframe, canonical, hreflang, meta-refresh, redirect, status-url,
    js-redirect (found by rendering); seen_in says whether the raw HTML, the rendered DOM or both had it.
sitemap_urls
    one row per (sitemap, url) listed, with lastmod.
rechecks
    one row per re-fetch of a URL that answered 202 (what it settled to).
certificates
    one row per HTTPS host:port of the crawl's scope: its certificate checked as a browser
    checks it (crawler.tls), see CERTIFICATE_COLUMNS.
frontier
    every URL the crawl decided to fetch, in discovery order; what a resumed crawl
    still has to fetch is the frontier minus the pages already recorded.
extractions
    one row per value a custom extractor (crawler.extraction) read on an HTML page, see
    EXTRACTION_COLUMNS; an extractor in count mode has one row holding the count.
search_matches
    one row per (HTML page, custom search): how many times it matched (0 included).
shared_crawls
    a crawl shared through Redis (crawler.distributed): its name there, and the last of
    its record messages committed here, so a resumed coordinator commits none twice.
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterable

# the page columns are declared in crawler.facts; readers know them as the store's
from .facts import (PAGE_BLOB_COLUMNS, PAGE_COLUMNS, PAGE_FACTS, PAGE_INTEGER_COLUMNS,  # noqa: F401
                    PAGE_JSON_COLUMNS, PAGE_REAL_COLUMNS)

LINK_COLUMNS = ("source", "target", "kind", "anchor", "nofollow", "seen_in")
#: what LINK_COLUMNS' seen_in records
SEEN_IN = {"raw": "in the raw HTML only (or the page was not rendered)", "rendered": "only in the rendered DOM",
           "both": "in the raw HTML and the rendered DOM"}
SITEMAP_COLUMNS = ("sitemap", "url", "lastmod")
RECHECK_COLUMNS = ("url", "attempt", "waited", "status", "error", "retry_after", "fetched_at")
#: certificates columns, in order, with what each one records.
CERTIFICATE_COLUMNS: dict[str, str] = {
    "host": "host name (or IP address) of an HTTPS origin in scope",
    "port": "its port",
    "problem": "NULL if valid, else expired, not-yet-valid, self-signed, wrong-name, incomplete-chain, "
               "untrusted-root, untrusted, invalid, tls-error, unreachable",
    "detail": "OpenSSL's verification message, or the network error",
    "subject": "the certificate's subject (RFC 4514)",
    "issuer": "the certificate's issuer (RFC 4514)",
    "not_after": "end of validity, ISO 8601 UTC",
    "chain_sent": "certificates the server sent, its own included",
    "checked_at": "unix time of the check",
}
#: crawls.mode: what a crawl fetched (NULL, in a crawl made before modes were recorded: site)
CRAWL_MODES = {
    "site": "the site, from its start URL, by following links, redirects and sitemaps",
    "list": "exactly the URLs of a list (crawl --list / --list-sitemap), their redirects followed to "
            "the end, links only --list-depth clicks further",
}
#: extractions columns, in order, with what each one records.
EXTRACTION_COLUMNS: dict[str, str] = {
    "url": "the page",
    "name": "the extractor's name (--extract NAME=...)",
    "seq": "the value's position on the page, from 0 (mode all); 0 for first and count",
    "value": "the value read (text, an attribute, an element's HTML, a regex group) or the count",
}
SEARCH_COLUMNS = ("url", "name", "matches")
FRONTIER_COLUMNS = ("seq", "url", "fetch_kind", "found_via", "depth", "referrer", "pattern_run")

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
    probe TEXT,
    mode TEXT
);
CREATE TABLE IF NOT EXISTS pages (
    crawl_id INTEGER NOT NULL,
    {", ".join(fact.sql for fact in PAGE_FACTS)},
    PRIMARY KEY (crawl_id, url)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
    crawl_id INTEGER NOT NULL,
    source TEXT NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL,
    anchor TEXT, nofollow INTEGER NOT NULL DEFAULT 0, seen_in TEXT
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
CREATE TABLE IF NOT EXISTS certificates (
    crawl_id INTEGER NOT NULL, host TEXT NOT NULL, port INTEGER NOT NULL, problem TEXT, detail TEXT,
    subject TEXT, issuer TEXT, not_after TEXT, chain_sent INTEGER, checked_at REAL,
    PRIMARY KEY (crawl_id, host, port)
);
CREATE TABLE IF NOT EXISTS frontier (
    crawl_id INTEGER NOT NULL, seq INTEGER NOT NULL, url TEXT NOT NULL,
    fetch_kind TEXT NOT NULL, found_via TEXT, depth INTEGER, referrer TEXT,
    pattern_run INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (crawl_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS extractions (
    crawl_id INTEGER NOT NULL, url TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT,
    PRIMARY KEY (crawl_id, url, name, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_matches (
    crawl_id INTEGER NOT NULL, url TEXT NOT NULL, name TEXT NOT NULL, matches INTEGER NOT NULL,
    PRIMARY KEY (crawl_id, url, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shared_crawls (
    crawl_id INTEGER PRIMARY KEY, redis_crawl TEXT NOT NULL, last_message INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS findings (
    crawl_id INTEGER NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,
    category TEXT, url TEXT NOT NULL, evidence TEXT
);
CREATE INDEX IF NOT EXISTS findings_by_crawl ON findings (crawl_id, rule);
-- what the last audit of a crawl concluded besides its findings: the crawl budget (JSON),
-- so that comparing with an earlier crawl needs no reload of its pages and links
-- rules: a digest of the rules and thresholds the audit ran (seo_audit.compare.rules_signature),
-- NULL if not known (an earlier release): a comparison audits such a crawl again
CREATE TABLE IF NOT EXISTS audits (
    crawl_id INTEGER PRIMARY KEY, audited_at REAL NOT NULL, budget TEXT NOT NULL, rules TEXT
);
-- the headline figures of the server logs last joined with a crawl (JSON: lines read, bots,
-- Googlebot's waste by cause), so that comparing crawls can compare Googlebot's waste too
CREATE TABLE IF NOT EXISTS log_audits (
    crawl_id INTEGER PRIMARY KEY, audited_at REAL NOT NULL, summary TEXT NOT NULL
);
-- what the server logs last joined with a crawl gave (audit.logs.LogFacts, one part per name:
-- its figures as JSON, its frames as Parquet), so that auditing the crawl again without the
-- logs (seo-audit report) keeps their findings and the report's section
CREATE TABLE IF NOT EXISTS log_facts (
    crawl_id INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (crawl_id, name)
);
"""

class StoreError(Exception):
    """The store cannot be opened or written (path, permissions, disk full), is not a crawl
    store, or was written by a newer release."""


# --- schema version and migrations -------------------------------------------------------------
#
# A store says which schema it has in ``PRAGMA user_version`` and that it is a crawl store in
# ``PRAGMA application_id``. Opening a store brings it up to date in one transaction:
#   1. every table, column and index SCHEMA declares but the file lacks is added (a column
#      added to an old store reads as NULL, its default, for the crawls made before);
#   2. the MIGRATIONS numbered above the file's version run in order, for what adding
#      declared columns cannot do (a rename, a backfill, a new key);
#   3. user_version becomes SCHEMA_VERSION.
# Adding a declared column needs no new version: older code reading a file with more columns
# reads the ones it knows. Raise SCHEMA_VERSION with a MIGRATIONS entry only for a change older
# code would misread; older code then refuses the file (StoreError) instead of misreading it.

#: the schema this code writes; a store with a higher user_version was written by a newer release
SCHEMA_VERSION = 1
#: PRAGMA application_id of a crawl store ("SEOA"): tells a store from any other SQLite file
APPLICATION_ID = 0x53454F41
#: version -> migration run (within the upgrade's transaction) to bring a store to that version
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}


class StoreTooNew(StoreError):
    """The store was written by a newer release of seo-audit than this one."""


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and create, unless read-only) the store at ``path``, upgraded to this code's schema.
    A read-only open of a store written by an earlier release upgrades it first (that needs
    write access to the file)."""
    path = Path(path)
    if readonly and not path.exists():
        raise StoreError(f"no crawl store at {path}")
    conn = _open(path, readonly)
    try:
        if _pending(conn, path):
            if readonly:
                conn.close()
                _upgrade_for_reading(path)
                conn = _open(path, readonly)
            else:
                _upgrade(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _open(path: Path, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            if not readonly:
                conn.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode loses at most the last batch on power loss, never the file.
                conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            conn.close()
            raise
    except sqlite3.DatabaseError as exc:
        raise _not_a_store(path, exc) from exc
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open crawl store {path}: {exc}") from exc
    return conn


def _not_a_store(path: Path, exc: sqlite3.Error) -> StoreError:
    if isinstance(exc, sqlite3.OperationalError) or "not a database" not in str(exc):
        return StoreError(f"cannot open crawl store {path}: {exc}")
    return StoreError(f"{path} is not a crawl store (not an SQLite database): give another --store")


def _upgrade_for_reading(path: Path) -> None:
    try:
        conn = _open(path, readonly=False)
    except StoreError as exc:
        raise StoreError(f"the crawl store {path} was written by an earlier release and must be upgraded "
                         f"once, which needs write access ({exc}); copy it somewhere writable") from exc
    try:
        _upgrade(conn, path)
    finally:
        conn.close()


@functools.lru_cache(maxsize=1)
def _declared() -> tuple[dict[str, tuple[str, list[tuple]]], dict[str, str]]:
    """What SCHEMA declares, read back from an empty database made with it: per table its
    CREATE statement and columns (PRAGMA table_info rows), per index its CREATE statement."""
    reference = sqlite3.connect(":memory:")
    try:
        reference.executescript(SCHEMA)
        objects = reference.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                    "AND name NOT LIKE 'sqlite_%'").fetchall()
        tables = {name: (sql, reference.execute(f"PRAGMA table_info({name})").fetchall())
                  for kind, name, sql in objects if kind == "table"}
        indexes = {name: sql for kind, name, sql in objects if kind == "index"}
    finally:
        reference.close()
    return tables, indexes


def _pending(conn: sqlite3.Connection, path: Path) -> list[str]:
    """What the store lacks of this code's schema, as the statements that add it (explicit
    migrations as their version's comment); empty if it is up to date. Raises StoreError for a
    file that is not a crawl store or was written by a newer release."""
    try:
        (version,), = conn.execute("PRAGMA user_version")
        (app_id,), = conn.execute("PRAGMA application_id")
        present = {name: kind for kind, name in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
    except sqlite3.DatabaseError as exc:
        raise _not_a_store(path, exc) from exc
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and present and "crawls" not in present):
        raise StoreError(f"{path} is an SQLite database but not a crawl store: give another --store")
    if version > SCHEMA_VERSION:
        raise StoreTooNew(f"the crawl store {path} has schema version {version}, written by a newer "
                          f"release of seo-audit; this one reads versions up to {SCHEMA_VERSION}: "
                          f"upgrade seo-audit (pip install -U seo-audit) to read it")
    tables, indexes = _declared()
    statements = []
    for name, (create, columns) in tables.items():
        if present.get(name) != "table":
            statements.append(create)
            continue
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({name})")}
        statements += [_add_column(path, name, column) for column in columns if column[1] not in have]
    statements += [sql for name, sql in indexes.items() if name not in present]
    statements += [f"-- migration {v}" for v in range(version + 1, SCHEMA_VERSION + 1) if v in MIGRATIONS]
    if statements or version < SCHEMA_VERSION or app_id != APPLICATION_ID:
        statements.append(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return statements


def _add_column(path: Path, table: str, column: tuple) -> str:
    _, name, kind, notnull, default, key = column
    if key or (notnull and default is None):
        # SQLite cannot add a key, nor a NOT NULL column without a default, to a table with rows
        raise StoreError(f"cannot upgrade the crawl store {path}: {table}.{name} needs an explicit migration")
    return (f"ALTER TABLE {table} ADD COLUMN {name} {kind}" + (" NOT NULL" if notnull else "")
            + (f" DEFAULT {default}" if default is not None else ""))


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the store up to this code's schema in one transaction (all of it or none)."""
    try:
        conn.execute("BEGIN IMMEDIATE")  # a second process opening it waits, then finds it done
        try:
            for statement in _pending(conn, path):
                if statement.startswith("-- migration "):
                    MIGRATIONS[int(statement.split()[-1])](conn)
                else:
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot upgrade the crawl store {path} (left as it was): {exc}") from exc


def new_crawl(conn: sqlite3.Connection, start_url: str, settings: dict[str, Any],
              job: str | None = None, mode: str = "site") -> int:
    if mode not in CRAWL_MODES:
        raise ValueError(f"crawl mode {mode!r} is not one of {', '.join(CRAWL_MODES)}")
    cur = conn.execute(
        "INSERT INTO crawls (job, start_url, started_at, settings, mode) VALUES (?, ?, ?, ?, ?)",
        (job, start_url, time.time(), json.dumps(settings, default=str), mode),
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


def resumable_crawl(conn: sqlite3.Connection, start_url: str, job: str | None) -> int | None:
    """The crawl ``--resume`` continues: the latest unfinished one of this job (or, without a
    job, of this start URL); two jobs never resume each other."""
    row = conn.execute("SELECT id FROM crawls WHERE start_url = ? AND job IS ? AND state != 'complete' "
                       "ORDER BY id DESC LIMIT 1", (start_url, job)).fetchone()
    return row[0] if row else None


def site_found(start_url: str | None, stats: dict[str, Any]) -> dict[str, Any] | None:
    """Where the start URL's redirects led, if they led elsewhere (from the crawl's stats):
    {"url": where the site starts, "scope": its origins, "redirect_hops": n}; else None."""
    site = stats.get("start/site_url")
    if not site or site == start_url:
        return None
    return {"url": site, "scope": stats.get("scope/origins") or [],
            "redirect_hops": stats.get("start/redirect_hops") or 0}


def site_of(conn: sqlite3.Connection, crawl_id: int) -> dict[str, Any] | None:
    """site_found for a stored crawl."""
    row = conn.execute("SELECT start_url, stats FROM crawls WHERE id = ?", (crawl_id,)).fetchone()
    return site_found(row[0], json.loads(row[1]) if row and row[1] else {}) if row else None


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
    """Link tuples in LINK_COLUMNS order; without their last (seen_in) they are raw links."""
    rows = iter(rows)
    first = next(rows, None)
    if first is not None:
        _insert(conn, "links", LINK_COLUMNS[:len(first)], crawl_id, itertools.chain((first,), rows))


def insert_sitemap_urls(conn, crawl_id, rows):
    _insert(conn, "sitemap_urls", SITEMAP_COLUMNS, crawl_id, rows)


def insert_rechecks(conn, crawl_id, rows):
    _insert(conn, "rechecks", RECHECK_COLUMNS, crawl_id, rows)


def insert_certificates(conn, crawl_id, rows):
    # REPLACE: a resumed crawl checks its hosts again
    _insert(conn, "certificates", CERTIFICATE_COLUMNS, crawl_id, rows, verb="INSERT OR REPLACE")


def certificates_of(conn: sqlite3.Connection, crawl_id: int) -> list[dict[str, Any]]:
    """The crawl's certificate checks, by host and port ([] for a store older than the table)."""
    try:
        cursor = conn.execute(f"SELECT {', '.join(CERTIFICATE_COLUMNS)} FROM certificates "
                              "WHERE crawl_id = ? ORDER BY host, port", (crawl_id,))
    except sqlite3.OperationalError:  # a read-only store written before the table existed
        return []
    return [dict(zip(CERTIFICATE_COLUMNS, row)) for row in cursor]


def insert_extractions(conn, crawl_id, rows):
    # REPLACE: a page re-fetched after a resume overwrites its values
    _insert(conn, "extractions", EXTRACTION_COLUMNS, crawl_id, rows, verb="INSERT OR REPLACE")


def insert_search_matches(conn, crawl_id, rows):
    _insert(conn, "search_matches", SEARCH_COLUMNS, crawl_id, rows, verb="INSERT OR REPLACE")


def insert_frontier(conn, crawl_id, rows):
    _insert(conn, "frontier", FRONTIER_COLUMNS, crawl_id, rows)


def insert_shared_progress(conn, crawl_id, rows):
    """(redis crawl, message id) rows: the crawl's mark moves up to the highest id, never down."""
    conn.executemany(
        "INSERT INTO shared_crawls (crawl_id, redis_crawl, last_message) VALUES (?, ?, ?) "
        "ON CONFLICT (crawl_id) DO UPDATE SET last_message = max(last_message, excluded.last_message)",
        [(crawl_id, name, message) for name, message in rows])


def set_shared_crawl(conn: sqlite3.Connection, crawl_id: int, redis_crawl: str) -> None:
    """Crawl ``crawl_id`` is shared as ``redis_crawl`` from now on, none of its messages committed."""
    with conn:
        conn.execute("INSERT OR REPLACE INTO shared_crawls (crawl_id, redis_crawl, last_message) "
                     "VALUES (?, ?, 0)", (crawl_id, redis_crawl))


def shared_progress(conn: sqlite3.Connection, crawl_id: int) -> tuple[str, int] | None:
    """(redis crawl, last message committed) of a shared crawl; None if it was not shared."""
    return conn.execute("SELECT redis_crawl, last_message FROM shared_crawls WHERE crawl_id = ?",
                        (crawl_id,)).fetchone()


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


def set_audit_rules(conn: sqlite3.Connection, crawl_id: int, rules: str) -> None:
    """Note which rules the crawl's stored audit ran (after set_budget: it replaces the row)."""
    with conn:
        conn.execute("UPDATE audits SET rules = ? WHERE crawl_id = ?", (rules, crawl_id))


def audit_rules_of(conn: sqlite3.Connection, crawl_id: int) -> str | None:
    """The rules noted by set_audit_rules for the crawl's stored audit, None if not known."""
    row = conn.execute("SELECT rules FROM audits WHERE crawl_id = ?", (crawl_id,)).fetchone()
    return row[0] if row else None


#: a finding's severities, worst first, and the findings table's columns: defined here, with the
#: table, for every layer above (the CLI reads them without importing the audit)
SEVERITIES = ("critical", "warning", "notice")
FINDING_COLUMNS = ("crawl_id", "rule", "severity", "category", "url", "evidence")


def replace_findings(conn: sqlite3.Connection, crawl_id: int, rows: Iterable[tuple]) -> None:
    """Findings of a crawl: (rule, severity, category, url, evidence) rows, replacing any earlier audit."""
    with conn:
        conn.execute("DELETE FROM findings WHERE crawl_id = ?", (crawl_id,))
        _insert(conn, "findings", FINDING_COLUMNS[1:], crawl_id, rows)


def ingest_findings(path: str | Path, crawl_id: int, batches: Any) -> None:
    """replace_findings in the store file at ``path`` from a pyarrow.RecordBatchReader of text
    columns rule, severity, category, url, evidence: bound in C by adbc-driver-sqlite's bulk
    ingest, a batch held at a time, in one transaction (1.8M findings in 2.6 s, where
    executemany's Python tuples took 12.6)."""
    import adbc_driver_sqlite.dbapi
    import pyarrow as pa

    crawl = pa.scalar(int(crawl_id), pa.int64())
    rows = pa.RecordBatchReader.from_batches(
        batches.schema.insert(0, pa.field("crawl_id", pa.int64())),
        (batch.add_column(0, "crawl_id", pa.repeat(crawl, batch.num_rows)) for batch in batches))
    with adbc_driver_sqlite.dbapi.connect(Path(path).resolve().as_uri()) as conn, conn.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("DELETE FROM findings WHERE crawl_id = ?", (int(crawl_id),))
        cursor.adbc_ingest("findings", rows, mode="append")
        conn.commit()


def set_log_summary(conn: sqlite3.Connection, crawl_id: int, summary: dict[str, Any]) -> None:
    """Keep the figures of the logs joined with a crawl, replacing earlier ones."""
    with conn:
        conn.execute("INSERT OR REPLACE INTO log_audits (crawl_id, audited_at, summary) VALUES (?, ?, ?)",
                     (crawl_id, time.time(), json.dumps(summary, default=str)))


def set_log_facts(conn: sqlite3.Connection, crawl_id: int, parts: dict[str, bytes]) -> None:
    """Keep what the logs joined with a crawl gave (name -> bytes), replacing earlier ones."""
    with conn:
        conn.execute("DELETE FROM log_facts WHERE crawl_id = ?", (crawl_id,))
        conn.executemany("INSERT INTO log_facts (crawl_id, name, data) VALUES (?, ?, ?)",
                         [(crawl_id, name, data) for name, data in parts.items()])


def log_facts_of(conn: sqlite3.Connection, crawl_id: int) -> dict[str, bytes] | None:
    """What set_log_facts kept for the crawl; None if its logs were never joined."""
    try:
        rows = conn.execute("SELECT name, data FROM log_facts WHERE crawl_id = ?", (crawl_id,)).fetchall()
    except sqlite3.OperationalError:  # a read-only store written before the table existed
        return None
    return {name: bytes(data) for name, data in rows} or None


def log_summary_of(conn: sqlite3.Connection, crawl_id: int) -> dict[str, Any] | None:
    """The figures of the logs last joined with the crawl; None if none were."""
    try:
        row = conn.execute("SELECT summary FROM log_audits WHERE crawl_id = ?", (crawl_id,)).fetchone()
    except sqlite3.OperationalError:  # a read-only store written before the table existed
        return None
    return json.loads(row[0]) if row else None
