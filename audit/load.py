"""Load a crawl from the store into pandas, with the shared columns every rule reads.

``load_crawl(store)`` is also the notebook API: one call gives the pages, links, sitemap,
re-check and findings DataFrames of a crawl. The derived columns are computed here once,
vectorised, so that rules stay one-line reads such as ``p.status.eq(202) & p.crawlable``.

Derived pages columns (besides the stored ones, see ``crawler.store.PAGE_COLUMNS``):

status_class
    '2xx'..'5xx' from the final status, 'error' for a network failure, 'skipped' if not fetched.
is_html
    the Content-Type says HTML.
is_page
    fetched as a page or a resource (not robots.txt, a sitemap or a 202 status URL).
in_scope
    inside the crawl's scope (not skipped as out-of-scope or for its scheme).
blocked
    disallowed by robots.txt.
nofollow_page
    meta robots or X-Robots-Tag says nofollow or none: crawlers follow none of its links.
inlinks
    distinct pages with a followed ``<a>`` link to this URL (see ``_followed``; self-links excluded).
in_sitemap
    listed in at least one sitemap.
crawlable
    in scope, not blocked, and reachable: a followed link, redirect or meta refresh from a
    crawled page, a sitemap, the start URL, or (list mode) the list.
noindex
    meta robots or X-Robots-Tag says noindex or none.
canonical_self_or_absent
    neither the HTML nor the Link header canonical points to another URL.
is_redirect
    a redirect of any kind: a 3xx naming a target, or a meta refresh to another URL (search
    engines follow both as redirects). Such a page is judged as a redirect, never as a page
    missing its title or h1.
indexable
    crawlable, status 200, not a redirect, not noindex, canonical absent or self.
redirect_chain, chain_end, final_url, final_status
    the hops from this URL following ``redirect_target`` (see ``walk_redirects``), how the walk
    ended, and the URL and status it ended on.
settled_status, settled_error, rechecks_done
    for URLs that answered 202: what the last re-check got, and how many re-checks were made.
extract_NAME, search_NAME
    what each custom extraction read and how often each custom search matched (audit.custom).
segment
    the page's segment (audit.segments): the job's [segments], else its first path folder.

Derived links columns: ``followed`` (see ``_followed``) and ``internal`` (target in scope);
``kind`` is categorical.

Memory: a crawl of a million URLs can have tens of millions of links. Each distinct text is
held once (``_read_interned``), links are joined to pages by row number (``_page_rows``),
and nothing copies every column of the links to filter them.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from audit import parallel
from audit.custom import add_custom_columns, definitions_of
from audit.segments import assign_segments, parse_segments
from crawler import store as crawl_store

#: Redirect walks stop here, as Scrapy's REDIRECT_MAX_TIMES does by default.
MAX_REDIRECT_HOPS = 20

#: Link kinds a crawler follows to reach a URL.
REACHING_LINK_KINDS = ("a", "redirect", "meta-refresh", "js-redirect")

#: rows fetched from SQLite at a time when loading pages and links
READ_CHUNK_ROWS = 20_000
#: a crawl with more links than this has them read by two processes
LINKS_PER_READER = 2_000_000
#: reading a pages row (and its share of the sitemap URLs) costs about as much as reading this
#: many links rows (measured at 1M URLs, two processes reading: 17 to 24 and about 2
#: microseconds): how much of the links a child reads while the pages are read
PAGE_ROW_COST_IN_LINK_ROWS = 10
_INT_COLUMNS = crawl_store.PAGE_INTEGER_COLUMNS
_FLOAT_COLUMNS = crawl_store.PAGE_REAL_COLUMNS
#: links' seen_in values, by their code in the block query's flags
SEEN_IN = ("raw", "rendered", "both")
_FINDING_COLUMNS = ["crawl_id", "rule", "severity", "category", "url", "evidence"]
#: a robots directive (meta robots or X-Robots-Tag) that keeps a page out of the index
NOINDEX = r"\b(?:noindex|none)\b"
_NOFOLLOW = r"\b(?:nofollow|none)\b"


#: What a rule may need of a crawl besides its pages (``Rule.needs``), and why a list-mode crawl
#: (crawler.store.CRAWL_MODES) has neither: the rules needing one are off for such a crawl.
LIST_MODE_LACKS = {
    "link-graph": "list mode fetches the listed URLs without following their links (or only "
                  "--list-depth clicks further): inlinks, click depth and orphans are not known",
    "site-sitemaps": "list mode does not look for the site's sitemaps (robots.txt, /sitemap.xml): "
                     "which pages they leave out is not known",
}
CRAWL_NEEDS = tuple(LIST_MODE_LACKS)


@dataclass
class Crawl:
    """One crawl's records as DataFrames, with the shared derived columns on ``pages``."""

    crawl_id: int | None
    meta: dict[str, Any]
    pages: pd.DataFrame
    links: pd.DataFrame
    sitemap_urls: pd.DataFrame
    rechecks: pd.DataFrame
    findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_FINDING_COLUMNS))
    #: the server logs joined with the crawl (audit.logs.LogFacts), which the log rules read; None: no logs
    logs: Any = None

    @property
    def start_url(self) -> str | None:
        return self.meta.get("start_url")

    def in_scope(self, urls: pd.Series) -> pd.Series:
        return urls_in_scope(urls, self.pages, self.start_url, origins=scope_origins(self.meta))

    @property
    def mode(self) -> str:
        """site or list (crawler.store.CRAWL_MODES); a crawl made before modes were recorded: site."""
        return self.meta.get("mode") or "site"

    @property
    def lacks(self) -> dict[str, str]:
        """What this crawl cannot tell (CRAWL_NEEDS), and why: the rules needing it are off."""
        return dict(LIST_MODE_LACKS) if self.mode == "list" else {}

    @property
    def site(self) -> dict[str, Any] | None:
        """Where the start URL's redirects led the crawl, if elsewhere (crawler.store.site_found)."""
        return crawl_store.site_found(self.start_url, self.meta.get("stats") or {})

    @property
    def certificates(self) -> list[dict[str, Any]]:
        """The certificate check of each HTTPS host:port in scope (crawler.store.CERTIFICATE_COLUMNS)."""
        return self.meta.get("certificates") or []

    @property
    def probe(self) -> dict[str, Any]:
        """The crawler's answer for a URL that surely does not exist (soft-404 detection)."""
        return self.meta.get("probe") or {}


def load_crawl(store: str | Path | sqlite3.Connection, crawl_id: int | None = None, *,
               findings: bool = True, on_links: Callable[[pd.DataFrame], Any] | None = None,
               segments: Mapping[str, Any] | None = None) -> Crawl:
    """The crawl ``crawl_id`` (the latest if None) from a store path or an open connection;
    ``findings=False`` leaves its stored findings out (an audit about to replace them).
    ``segments``: a job's ``[segments]`` table (audit.segments), instead of the one the crawl
    was made with.
    ``on_links`` is called with the links (LINK_COLUMNS) as soon as they are read, before the
    derived columns are computed: a report starts writing links.csv there, on another CPU."""
    conn = store if isinstance(store, sqlite3.Connection) else crawl_store.connect(store, readonly=True)
    try:
        metas = crawl_store.crawls(conn)
        if not metas:
            raise LookupError("the store holds no crawl")
        if crawl_id is None:
            crawl_id = metas[0]["id"]
        meta = next((m for m in metas if m["id"] == crawl_id), None)
        if meta is None:
            raise LookupError(f"no crawl {crawl_id} in the store")

        def table(name: str, columns: str = "*") -> pd.DataFrame:
            frame = pd.read_sql_query(f"SELECT {columns} FROM {name} WHERE crawl_id = ?", conn,
                                      params=(crawl_id,))
            return frame.drop(columns="crawl_id", errors="ignore")

        meta = {**meta, "certificates": crawl_store.certificates_of(conn, crawl_id)}
        pages, links, sitemap_urls = _read_crawl_tables(conn, crawl_id)
        if on_links is not None:
            on_links(links)
        crawl = _derive(meta, pages=pages, links=links, sitemap_urls=sitemap_urls, rechecks=table("rechecks"),
                        custom=(_optional_table(table, "extractions"), _optional_table(table, "search_matches")),
                        segments=segments)
        if findings:
            crawl.findings = table("findings", "crawl_id, rule, severity, category, url, evidence")
        return crawl
    finally:
        if conn is not store:
            conn.close()


def _optional_table(table: Callable[[str], pd.DataFrame], name: str) -> pd.DataFrame | None:
    """A table of the crawl, None for a read-only store written before the table existed."""
    try:
        return table(name)
    except (sqlite3.OperationalError, pd.errors.DatabaseError):
        return None


@dataclass
class CrawlOutline:
    """What comparing two crawls needs of one, without its links: cheap for a million URLs."""

    crawl_id: int
    meta: dict[str, Any]
    pages: pd.DataFrame  # OUTLINE_PAGE_COLUMNS
    findings: pd.DataFrame
    budget: dict[str, Any]  # as its audit stored it
    rules: str | None = None  # which rules that audit ran (crawler.store.audit_rules_of)


#: the pages columns of an outline: answers, what bounded the crawl, timings (seo_audit.compare)
OUTLINE_PAGE_COLUMNS = ("url", "status", "error", "skip_reason", "ttfb", "response_time", "rendered_lcp_ms",
                        "rendered_load_ms", "rendered_cls")


def load_outline(store: str | Path, crawl_id: int) -> CrawlOutline | None:
    """The outline of crawl ``crawl_id``, or None if no audit stored its budget (then load_crawl
    it and compute the budget)."""
    conn = crawl_store.connect(store, readonly=True)
    try:
        budget = crawl_store.budget_of(conn, crawl_id)
        if budget is None:
            return None
        meta = next((m for m in crawl_store.crawls(conn) if m["id"] == crawl_id), None)
        if meta is None:
            raise LookupError(f"no crawl {crawl_id} in the store")
        pages = pd.read_sql_query(f"SELECT {', '.join(OUTLINE_PAGE_COLUMNS)} FROM pages WHERE crawl_id = ?",
                                  conn, params=(crawl_id,))
        pages["status"] = pages["status"].astype("Int64")
        for col in pages.columns.intersection(_FLOAT_COLUMNS):
            pages[col] = pd.to_numeric(pages[col]).astype(float)
        findings = pd.read_sql_query(f"SELECT {', '.join(_FINDING_COLUMNS)} FROM findings WHERE crawl_id = ?",
                                     conn, params=(crawl_id,))
        return CrawlOutline(crawl_id, meta, pages, findings, budget, crawl_store.audit_rules_of(conn, crawl_id))
    finally:
        conn.close()


def _read_crawl_tables(conn: sqlite3.Connection, crawl_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The crawl's pages and sitemap URLs (each distinct text held once, a sitemap's URLs
    sharing the pages' ones) and links (see _start_reading_links), from one snapshot of the
    store even while a crawl writes. A large crawl's links are read partly by a forked child
    while this process reads the pages."""
    own_snapshot = not conn.in_transaction
    if own_snapshot:
        conn.execute("BEGIN")
    try:
        urls = [url for (url,) in conn.execute("SELECT url FROM pages WHERE crawl_id = ?", (crawl_id,))]
        read_links = _start_reading_links(conn, crawl_id, np.array(urls, dtype=object),
                                          head_start=len(urls) * PAGE_ROW_COST_IN_LINK_ROWS)
        texts = dict(zip(urls, urls))
        pages = _read_interned(conn, "pages", tuple(crawl_store.PAGE_COLUMNS), crawl_id, texts)
        if pages["url"].tolist() != urls:  # the same rows in the same order: links are coded by them
            raise RuntimeError("the crawl's pages changed while they were read; load the crawl again")
        sitemap_urls = _read_interned(conn, "sitemap_urls", crawl_store.SITEMAP_COLUMNS, crawl_id, texts)
        del texts  # millions of entries: gone before the links are joined
        return pages, read_links(), sitemap_urls
    finally:
        if own_snapshot:
            conn.rollback()


def _read_interned(conn: sqlite3.Connection, table: str, columns: tuple[str, ...],
                   crawl_id: int, texts: dict[str, str]) -> pd.DataFrame:
    """``columns`` of ``table`` for one crawl, read in chunks, each distinct text held once
    (``texts``: the ones known already, added to); dtypes inferred as ``pd.read_sql_query``
    infers them. Call it within a transaction: the count and the rows from one snapshot.

    Rows go straight into arrays of the table's size: arrays per chunk joined at the end
    would leave their sum as freed but unreturned heap (the allocator keeps it)."""
    where = f"FROM {table} WHERE crawl_id = ?"
    (count,) = conn.execute(f"SELECT count(*) {where}", (crawl_id,)).fetchone()
    arrays = [np.empty(count, dtype=object) for _ in columns]
    cursor = conn.execute(f"SELECT {', '.join(columns)} {where}", (crawl_id,))
    start = 0
    while rows := cursor.fetchmany(READ_CHUNK_ROWS):
        for array, values in zip(arrays, zip(*rows)):
            if values.count(None) == len(values):
                continue  # the arrays start as None: many columns are empty on most rows
            array[start:start + len(rows)] = [texts.setdefault(v, v) if v.__class__ is str else v
                                              for v in values]
        start += len(rows)
    return pd.DataFrame({name: pd.Series(array, copy=False).infer_objects()
                         for name, array in zip(columns, arrays)}, copy=False)


#: the coded links arrays, and their types
_LINK_ARRAYS = (("source", np.int32), ("target", np.int32), ("anchor", np.int32), ("kind", np.int32),
                ("nofollow", np.bool_), ("seen_in", np.int8))


@dataclass
class _LinkPart:
    """What reading the links of one rowid range found besides the codes it wrote: URLs no page
    row has (coded from the page count on), anchors and kinds (coded by position), and how
    many rows it read."""

    rows: int
    new_urls: list[str]
    anchors: list[str]
    kinds: list[str]


def _start_reading_links(conn: sqlite3.Connection, crawl_id: int, page_urls: np.ndarray,
                         head_start: int = 0) -> Callable[[], pd.DataFrame]:
    """Start reading the crawl's links; the function returned finishes and returns them: a
    frame with ``source`` and ``target`` as categoricals sharing one dtype whose categories
    are ``page_urls`` (the pages' URLs in row order), then the URLs no page row has;
    ``anchor`` and ``kind`` categorical too. Tens of millions of links cost 4 bytes per URL
    and anchor, and joining them to pages is reading a code, not hashing a URL.

    Past LINKS_PER_READER links, a forked child reads the first part at once while this
    process does ``head_start`` link rows' worth of other work, then reads the rest (reading
    rows is most of a large crawl's load time); both write their codes straight into arrays
    in memory they share."""
    first, last = (_first_link_rowid(conn, crawl_id, order) for order in ("ASC", "DESC"))
    (total,), = conn.execute("SELECT count(*) FROM links WHERE crawl_id = ?", (crawl_id,))
    if total <= LINKS_PER_READER or not parallel.can_fork():
        arrays = {name: np.empty(total, dtype) for name, dtype in _LINK_ARRAYS}
        page_codes = dict(zip(page_urls.tolist(), range(len(page_urls))))

        def read_here() -> pd.DataFrame:
            part = _read_link_part(conn, crawl_id, (first, last), page_codes, arrays)
            return _joined_link_parts([part], [total], arrays, page_urls)
        return read_here

    # the child's share: half of all the work, this process's head start included
    child_share = min(max((total + head_start) / 2 / total, 0.5), 0.95)
    split = first + int((last - first) * child_share)
    ranges = [(first, split), (split + 1, last)]
    (in_first,), = conn.execute("SELECT count(*) FROM links WHERE crawl_id = ? AND rowid <= ?", (crawl_id, split))
    counts = [in_first, total - in_first]
    arrays = {name: parallel.shared_array(total, dtype) for name, dtype in _LINK_ARRAYS}
    page_codes = dict(zip(page_urls.tolist(), range(len(page_urls))))
    child_part = parallel.in_child(_read_link_part, _database_path(conn), crawl_id, ranges[0], page_codes,
                                   {name: array[:counts[0]] for name, array in arrays.items()})

    def read_rest() -> pd.DataFrame:
        own_part = _read_link_part(conn, crawl_id, ranges[1], page_codes,
                                   {name: array[counts[0]:] for name, array in arrays.items()})
        parts = [child_part(), own_part]
        if [part.rows for part in parts] != counts:
            raise RuntimeError("the crawl's links changed while they were read; load the crawl again")
        return _joined_link_parts(parts, counts, arrays, page_urls)
    return read_rest


def _database_path(conn: sqlite3.Connection) -> str:
    (path,) = [row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
    return path


def _first_link_rowid(conn: sqlite3.Connection, crawl_id: int, order: str) -> int:
    """The lowest (order ASC) or highest (DESC) rowid of the crawl's links, 0 if it has none:
    read from the end of the crawl's part of the index, where min() and max() in one query
    would scan all of it."""
    row = conn.execute(f"SELECT rowid FROM links WHERE crawl_id = ? ORDER BY rowid {order} LIMIT 1",
                       (crawl_id,)).fetchone()
    return row[0] if row else 0


#: links read per query, by rowid: one row of texts joined by SQLite per column and block
LINK_BLOCK_ROWIDS = 20_000
_LINK_SEPARATOR = "\n"
# Each block's columns come as one text each, joined in SQLite's C code and split by Python's
# (whether the anchor is missing, nofollow and seen_in as one character per link, '0' plus
# 8 * both + 4 * rendered + 2 * missing + nofollow):
# a row per link would cost a tuple and a call per row, about twice the time in all. A text
# holding the separator makes its column split into too many parts: that block is read row by row.
_LINK_BLOCK_COLUMNS = (
    "count(*), group_concat(source, char(10)), group_concat(target, char(10)), "
    "group_concat(kind, char(10)), group_concat(ifnull(anchor, ''), char(10)), "
    "group_concat(char(48 + 8 * ifnull(seen_in = 'both', 0) + 4 * ifnull(seen_in = 'rendered', 0) "
    "+ (anchor IS NULL) * 2 + ifnull(nofollow <> 0, 0)), '')")
_LINKS_OF_BLOCK = "crawl_id = ? AND rowid BETWEEN ? AND ?"


def _link_block_query(conn: sqlite3.Connection) -> str:
    """The query of a block of links, joined in rowid order. SQLite hands an aggregate the rows
    in the order it reads them, and the store's index of links by crawl lists each crawl's in
    rowid order: read through it, they need no sort (sorting costs half as much again). A
    store without that index (none is made so) has them sorted."""
    indexed = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'links_by_crawl_id'"
                           ).fetchone()
    if indexed:
        return f"SELECT {_LINK_BLOCK_COLUMNS} FROM links INDEXED BY links_by_crawl_id WHERE {_LINKS_OF_BLOCK}"
    return f"SELECT {_LINK_BLOCK_COLUMNS} FROM (SELECT * FROM links WHERE {_LINKS_OF_BLOCK} ORDER BY rowid)"


def _read_link_part(store: sqlite3.Connection | str, crawl_id: int, rowids: tuple[int, int],
                    page_codes: Mapping[str, int], arrays: dict[str, np.ndarray]) -> _LinkPart:
    """Code the links of ``crawl_id`` with rowids in the ``rowids`` range into ``arrays``
    (one per _LINK_ARRAYS name, of the range's size); URLs by ``page_codes``, the rest as
    _LinkPart says."""
    conn = store if isinstance(store, sqlite3.Connection) else crawl_store.connect(store, readonly=True)
    new_urls: dict[str, int] = {}
    anchors: dict[str, int] = {}
    kinds: dict[str, int] = {}
    code_of = page_codes.get

    def url_codes(urls: list[str]) -> np.ndarray:
        codes = np.fromiter(map(code_of, urls, itertools.repeat(-1)), dtype=np.int32, count=len(urls))
        for i in np.flatnonzero(codes < 0).tolist():  # rare: links to URLs no page row has
            codes[i] = len(page_codes) + new_urls.setdefault(urls[i], len(new_urls))
        return codes

    def text_codes(texts: list[str], known: dict[str, int], missing: np.ndarray | None = None) -> np.ndarray:
        values = np.array(texts, dtype=object)
        if missing is not None:
            values[missing] = None
        codes, uniques = pd.factorize(values)  # a few distinct kinds and anchors; missing: -1
        return np.array([known.setdefault(text, len(known)) for text in uniques] + [-1], dtype=np.int32)[codes]

    start, size = 0, len(arrays["source"])
    try:
        block_query = _link_block_query(conn)
        for low in range(rowids[0], rowids[1] + 1, LINK_BLOCK_ROWIDS):
            high = min(low + LINK_BLOCK_ROWIDS - 1, rowids[1])
            count, *texts, flags = conn.execute(block_query, (crawl_id, low, high)).fetchone()
            if not count:
                continue
            if start + count > size:
                raise RuntimeError("the crawl's links changed while they were read; load the crawl again")
            columns = [text.split(_LINK_SEPARATOR) for text in texts]
            if any(len(column) != count for column in columns):
                columns = [list(column) for column in zip(*conn.execute(
                    f"SELECT source, target, kind, ifnull(anchor, '') FROM links WHERE crawl_id = ? "
                    "AND rowid BETWEEN ? AND ? ORDER BY rowid", (crawl_id, low, high)))]
            sources, targets, kind_texts, anchor_texts = columns
            block = slice(start, start + count)
            arrays["source"][block], arrays["target"][block] = url_codes(sources), url_codes(targets)
            arrays["kind"][block] = text_codes(kind_texts, kinds)
            flag_bits = np.frombuffer(flags.encode("ascii"), dtype=np.uint8) - ord("0")
            arrays["anchor"][block] = text_codes(anchor_texts, anchors, (flag_bits & 2).astype(bool))
            arrays["nofollow"][block] = (flag_bits & 1).astype(bool)
            arrays["seen_in"][block] = (flag_bits >> 2).astype(np.int8)
            start += count
    finally:
        if conn is not store:
            conn.close()
    return _LinkPart(start, list(new_urls), list(anchors), list(kinds))


def _joined_link_parts(parts: list[_LinkPart], counts: list[int], arrays: dict[str, np.ndarray],
                       page_urls: np.ndarray) -> pd.DataFrame:
    """The links frame (see _start_reading_links) from ``arrays`` holding the parts one after the other,
    each coded with its own lists: recoded in place to lists shared by all parts."""
    n_pages = len(page_urls)
    new_urls: dict[str, int] = {}
    anchors: dict[str, int] = {}
    kinds: dict[str, int] = {}
    start = 0
    for part, count in zip(parts, counts):
        rows = slice(start, start + count)
        start += count
        url_codes = np.array([n_pages + new_urls.setdefault(u, len(new_urls)) for u in part.new_urls],
                             dtype=np.int32)
        for name in ("source", "target"):
            codes = arrays[name][rows]  # a view: recoded in place
            new = codes >= n_pages
            codes[new] = url_codes[codes[new] - n_pages]
        for name, texts, shared in (("anchor", part.anchors, anchors), ("kind", part.kinds, kinds)):
            # the appended -1 keeps a missing anchor (-1) missing
            recode = np.array([shared.setdefault(t, len(shared)) for t in texts] + [-1], dtype=np.int32)
            arrays[name][rows] = recode[arrays[name][rows]]
    url_type = pd.CategoricalDtype(np.concatenate([page_urls, np.array(list(new_urls), dtype=object)]))
    return pd.DataFrame({
        "source": pd.Categorical.from_codes(arrays["source"], dtype=url_type),
        "target": pd.Categorical.from_codes(arrays["target"], dtype=url_type),
        "kind": pd.Categorical.from_codes(arrays["kind"], categories=list(kinds)),
        "anchor": pd.Categorical.from_codes(arrays["anchor"], categories=list(anchors)),
        "nofollow": arrays["nofollow"],
        "seen_in": pd.Categorical.from_codes(arrays["seen_in"], categories=list(SEEN_IN)),
    }, copy=False)


def build_crawl(meta: Mapping[str, Any], pages: pd.DataFrame, links: pd.DataFrame | None = None,
                sitemap_urls: pd.DataFrame | None = None,
                rechecks: pd.DataFrame | None = None) -> Crawl:
    """A Crawl from raw store-shaped frames: missing columns are added, derived ones computed.
    The frames given are copied, not changed."""
    return _derive(meta, *(None if frame is None else frame.copy()
                           for frame in (pages, links, sitemap_urls, rechecks)))


def _derive(meta: Mapping[str, Any], pages: pd.DataFrame, links: pd.DataFrame | None,
            sitemap_urls: pd.DataFrame | None, rechecks: pd.DataFrame | None,
            custom: tuple[pd.DataFrame | None, pd.DataFrame | None] = (None, None),
            segments: Mapping[str, Any] | None = None) -> Crawl:
    """build_crawl on frames it may change in place."""
    links = _with_columns(links, crawl_store.LINK_COLUMNS)
    links["nofollow"] = links["nofollow"].fillna(0).astype(bool)
    sitemap_urls = _with_columns(sitemap_urls, crawl_store.SITEMAP_COLUMNS)
    rechecks = _with_columns(rechecks, crawl_store.RECHECK_COLUMNS)
    rechecks["status"] = rechecks["status"].astype("Int64")
    pages = _decode_pages(_with_columns(pages, tuple(crawl_store.PAGE_COLUMNS)))
    _code_links(links, pages["url"])
    meta = dict(meta)
    crawl_id = meta.get("id")
    pages = add_shared_columns(pages, links, sitemap_urls, rechecks, meta.get("start_url"),
                               origins=scope_origins(meta))
    found = definitions_of(meta)
    add_custom_columns(pages, found, *custom)
    if segments is None:
        segments = (meta.get("settings") or {}).get("segments") or {}
    pages["segment"] = assign_segments(pages, parse_segments(segments))
    return Crawl(crawl_id, meta, pages, links, sitemap_urls, rechecks)


def _with_columns(frame: pd.DataFrame | None, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(columns=list(columns)) if frame is None else frame
    for col in columns:
        if col not in frame:
            frame[col] = None
    return frame


def _code_links(links: pd.DataFrame, page_urls: pd.Series) -> None:
    """Make ``links`` as _start_reading_links reads them, in place, unless it already is: source and
    target categorical with one dtype (page URLs first), kind and anchor categorical."""
    if not (isinstance(links["source"].dtype, pd.CategoricalDtype) and links["source"].dtype == links["target"].dtype):
        urls = pd.concat([page_urls, links["source"], links["target"]]).astype(object).dropna()
        url_type = pd.CategoricalDtype(pd.unique(urls.to_numpy()))
        links["source"] = links["source"].astype(object).astype(url_type)
        links["target"] = links["target"].astype(object).astype(url_type)
    for col in ("kind", "anchor"):
        if not isinstance(links[col].dtype, pd.CategoricalDtype):
            links[col] = links[col].astype(object).astype("category")
    if not isinstance(links["seen_in"].dtype, pd.CategoricalDtype):
        links["seen_in"] = pd.Categorical(links["seen_in"].astype(object).fillna("raw"), categories=list(SEEN_IN))


def _decode_pages(pages: pd.DataFrame) -> pd.DataFrame:
    for col in crawl_store.PAGE_JSON_COLUMNS:
        pages[col] = _decoded_lists(pages[col])
    for col in _INT_COLUMNS:
        pages[col] = pd.to_numeric(pages[col]).astype("Int64")
    for col in _FLOAT_COLUMNS:
        pages[col] = pd.to_numeric(pages[col]).astype(float)
    for col in pages.columns.difference([*_INT_COLUMNS, *crawl_store.PAGE_JSON_COLUMNS,
                                         *crawl_store.PAGE_BLOB_COLUMNS, *_FLOAT_COLUMNS]):
        pages[col] = pages[col].astype("str")
    return pages


def _decoded_lists(values: pd.Series) -> pd.Series:
    """JSON arrays (or lists already) as lists; missing values as empty lists.

    Each distinct JSON text is decoded once: most rows repeat a few values ("[200]"), so rows
    with the same text share one list object. Treat the lists as read-only.
    """
    values = values.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):  # lists already
        values = values.map(lambda v: v if isinstance(v, str) else json.dumps(v if isinstance(v, list) else []))
    codes, uniques = pd.factorize(values)  # a missing value: code -1, the last list below
    decoded = np.empty(len(uniques) + 1, dtype=object)
    for i, text in enumerate([*uniques, "[]"]):  # one by one: numpy would make lists of lists a 2-D array
        decoded[i] = json.loads(text)
    return pd.Series(decoded[codes], index=values.index, dtype=object)


def origin_of(urls: pd.Series) -> pd.Series:
    """scheme://host[:port] of each URL, lower-cased (URLs are stored normalised)."""
    return urls.str.extract(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)", expand=False).str.lower()


def scope_origins(meta: Mapping[str, Any]) -> list[str] | None:
    """The origins the crawl had in scope, as it recorded them (None for a crawl that did not)."""
    return (meta.get("stats") or {}).get("scope/origins")


def add_shared_columns(pages: pd.DataFrame, links: pd.DataFrame, sitemap_urls: pd.DataFrame,
                       rechecks: pd.DataFrame, start_url: str | None,
                       origins: list[str] | None = None) -> pd.DataFrame:
    """Add the derived pages columns (module docstring) in place; also ``links.followed`` and
    ``links.internal`` (``origins``: the crawl's scope, see urls_in_scope)."""
    p = pages
    status, skip = p["status"], p["skip_reason"]
    codes, statuses = pd.factorize(status)  # a few distinct statuses; missing: code -1
    classes = np.array([f"{code // 100}xx" for code in statuses.tolist()] + [None], dtype=object)
    p["status_class"] = pd.Series(classes[codes], index=p.index, dtype="str").where(
        status.notna(), pd.Series("skipped", index=p.index).where(skip.notna(), "error"))
    p["is_html"] = _contains(p["content_type"], "html")
    p["is_page"] = p["fetch_kind"].isin(["page", "resource"])
    p["in_scope"] = ~skip.isin(["out-of-scope", "scheme"])
    p["blocked"] = skip.eq("robots")

    robots_text = p["meta_robots"].fillna("") + " " + p["x_robots_tag"].fillna("")
    p["nofollow_page"] = _contains(robots_text, _NOFOLLOW)
    # links joined to pages through their URL codes, not by URL text: source and target share
    # one dtype (_code_links), each distinct URL is looked up once (``rows``: its page row, -1
    # if none) and facts of pages reach links by code, with no array of rows per link
    rows = _category_rows(p, links["source"])
    source, target = links["source"].array.codes, links["target"].array.codes
    to_a_page = (rows >= 0)[target]
    links["followed"] = _followed(links, p, rows)
    followed, kind = links["followed"].to_numpy(), links["kind"]

    # followed <a> links all come from pages (see _followed), so every source here is a row
    a_links = followed & kind.eq("a").to_numpy() & to_a_page
    inlinks = _distinct_sources_per_target(source[a_links], target[a_links], len(rows) - 1)
    p["inlinks"] = _by_page_row(inlinks, rows, len(p), 0)
    p["in_sitemap"] = p["url"].isin(sitemap_urls["url"])
    reached_url = np.zeros(len(rows), dtype=bool)
    reached_url[target[followed & coded_isin(kind, REACHING_LINK_KINDS) & to_a_page]] = True
    reached = _by_page_row(reached_url[:-1], rows, len(p), False)
    reached |= p["in_sitemap"].to_numpy() | p["url"].eq(start_url).to_numpy() | p["found_via"].eq("list").to_numpy()
    p["crawlable"] = p["in_scope"] & ~p["blocked"] & reached

    p["noindex"] = _contains(robots_text, NOINDEX)
    p["canonical_self_or_absent"] = ((p["canonical"].isna() | p["canonical"].eq(p["url"]))
                                     & (p["link_canonical"].isna()
                                        | p["link_canonical"].eq(p["url"])))
    p["is_redirect"] = ((p["status_class"].eq("3xx") & p["redirect_target"].notna())
                        | (p["meta_refresh_url"].notna() & p["meta_refresh_url"].ne(p["url"])))
    p["indexable"] = (p["crawlable"] & status.eq(200).fillna(False) & ~p["is_redirect"] & ~p["noindex"]
                      & p["canonical_self_or_absent"]).astype(bool)
    _add_redirect_columns(p)
    _add_settled_columns(p, rechecks)
    links["internal"] = urls_in_scope(links["target"], p, start_url, rows=rows, origins=origins)
    return p


def _page_rows(p: pd.DataFrame, urls: pd.Series | pd.Index) -> np.ndarray:
    """For each URL, the position of its row in ``p`` (-1 if it has none); for a categorical,
    each distinct URL is looked up once."""
    if isinstance(urls.dtype, pd.CategoricalDtype):
        return _category_rows(p, urls)[urls.array.codes]
    return pd.Index(p["url"]).get_indexer(urls).astype(np.int32)


def _category_rows(p: pd.DataFrame, urls: pd.Series) -> np.ndarray:
    """The row in ``p`` of each category of the categorical ``urls``, then -1 for a missing
    value's code (-1) to pick."""
    return np.append(_page_rows(p, urls.cat.categories), np.int32(-1))


def coded_isin(column: pd.Series, values: Any) -> np.ndarray:
    """Which rows of a categorical ``crawl.links`` column hold one of ``values``: each value is
    looked up once among the categories, not in each of tens of millions of rows (and no copy
    of the rows is made, as Series.isin of a categorical does)."""
    categories = column.cat.categories
    wanted = np.zeros(len(categories) + 1, dtype=bool)  # the last one for code -1: missing
    positions = categories.get_indexer(values)
    wanted[positions[positions >= 0]] = True
    return wanted[column.array.codes]


def _by_page_row(per_category: np.ndarray, rows: np.ndarray, n: int, missing: Any) -> np.ndarray:
    """A value per URL category (``rows``: their page rows, as _category_rows gives) as a value
    per page row (``missing`` for a row no category has)."""
    out = np.full(n, missing, dtype=per_category.dtype)
    has_row = rows[:-1] >= 0
    out[rows[:-1][has_row]] = per_category[has_row]
    return out


def _contains(values: pd.Series, pattern: str) -> pd.Series:
    """Whether each text holds the regular expression ``pattern``, ignoring case; missing: False."""
    codes, uniques = pd.factorize(values)
    hits = pd.Series(uniques, dtype="str").str.contains(pattern, case=False, regex=True, na=False)
    return pd.Series(np.append(hits.to_numpy(dtype=bool), False)[codes], index=values.index)


def _distinct_sources_per_target(source: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    """For each of n targets (0 to n - 1), how many distinct sources link to it."""
    # sorted in place rather than hashed: a hash table of millions of pairs costs several
    # times their size
    pairs = source.astype(np.int64)
    pairs *= n
    pairs += target
    pairs.sort()
    repeated = np.zeros(len(pairs), dtype=bool)
    repeated[1:] = pairs[1:] == pairs[:-1]
    pairs %= n
    pairs[repeated] = n  # counted in a bin past the pages, dropped: no copy of the pairs
    return np.bincount(pairs, minlength=n + 1)[:n]


def _followed(links: pd.DataFrame, p: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """Links a crawler follows: not rel=nofollow, to another URL, and either a redirect or a link
    on a page that answered 2xx without a page-wide nofollow (links on error pages lead nowhere).
    ``rows``: the page row of each URL category of the links (_category_rows)."""
    passes_links_on = np.append((p["status_class"].eq("2xx") & ~p["nofollow_page"]).to_numpy(), False)
    source, target = links["source"].array.codes, links["target"].array.codes
    on_a_page = passes_links_on[rows][source]  # a URL with no page row (-1): the False appended
    on_a_page &= coded_isin(links["kind"], ["a", "meta-refresh"])
    elsewhere = (source != target) | (source < 0)  # a missing URL is nowhere, as pandas' ne says
    return ~links["nofollow"] & (elsewhere & (on_a_page | links["kind"].eq("redirect").to_numpy()))


def urls_in_scope(urls: pd.Series, pages: pd.DataFrame, start_url: str | None,
                  rows: np.ndarray | None = None, origins: list[str] | None = None) -> pd.Series:
    """Whether each URL is in the crawl's scope: as recorded if it was met, else one of ``origins``
    (the crawl's, if it recorded them), else same origin as the start.
    ``rows``: the URLs' rows in ``pages`` if already known (_page_rows); for a categorical, its
    categories' rows (_category_rows), each distinct URL being judged once."""
    if isinstance(urls.dtype, pd.CategoricalDtype):
        rows = _category_rows(pages, urls) if rows is None else rows
        per_category = urls_in_scope(pd.Series(urls.cat.categories), pages, start_url, rows[:-1], origins)
        return pd.Series(np.append(per_category.to_numpy(), False)[urls.array.codes],
                         index=urls.index, name=urls.name)
    rows = _page_rows(pages, urls) if rows is None else rows
    known = rows >= 0
    scope = np.zeros(len(urls), dtype=bool)
    scope[known] = pages["in_scope"].to_numpy(dtype=bool)[rows[known]]
    if origins is None:
        origins = [origin_of(pd.Series([start_url or ""])).iloc[0]]
    scope[~known] = origin_of(urls[~known]).isin(origins).to_numpy()
    return pd.Series(scope, index=urls.index, name=urls.name)


def walk_redirects(url: str, next_hop: Mapping[str, str], outcome: Mapping[str, str],
                   max_hops: int = MAX_REDIRECT_HOPS) -> tuple[list[str], str]:
    """Follow redirects from ``url``: the URLs visited and how the walk ended.

    ``outcome`` says what each recorded URL is: 'redirect' (then ``next_hop`` gives its
    target), 'final' (answered without redirecting), 'error' (network failure) or
    'unfetched'; a URL missing from it is 'unfetched'. The walk ends as that outcome, or as
    'loop' (the next hop was already visited; it is appended once more to show the cycle) or
    'too-long' (still redirecting after ``max_hops`` hops).
    """
    chain, seen = [url], {url}
    while True:
        here = outcome.get(chain[-1], "unfetched")
        if here != "redirect":
            return chain, here
        if len(chain) > max_hops:
            return chain, "too-long"
        target = next_hop[chain[-1]]
        chain.append(target)
        if target in seen:
            return chain, "loop"
        seen.add(target)


def _add_redirect_columns(p: pd.DataFrame) -> None:
    is_redirect = (p["status_class"].eq("3xx") & p["redirect_target"].notna()).to_numpy()
    outcome = pd.Series("final", index=p.index, dtype="str")
    outcome[p["status"].isna()] = "error"
    outcome[p["skip_reason"].notna()] = "unfetched"
    outcome[is_redirect] = "redirect"
    urls = p["url"].tolist()
    next_hop = dict(zip(p.loc[is_redirect, "url"].tolist(), p.loc[is_redirect, "redirect_target"].tolist()))
    outcome_by_url = dict(zip(urls, outcome.tolist()))
    walks = [walk_redirects(url, next_hop, outcome_by_url) for url in next_hop]

    # a URL that does not redirect is its own chain, end and final URL: only redirects are walked
    chains = [[url] for url in urls]
    for row, (chain, _) in zip(np.flatnonzero(is_redirect).tolist(), walks):
        chains[row] = chain
    p["redirect_chain"] = pd.Series(chains, index=p.index, dtype=object)
    p["chain_end"] = outcome.mask(is_redirect, pd.Series([end for _, end in walks], index=p.index[is_redirect],
                                                         dtype="str"))
    finals = pd.Series([chain[-1] for chain, _ in walks], index=p.index[is_redirect], dtype="str")
    p["final_url"] = p["url"].mask(is_redirect, finals)
    p["final_status"] = p["status"].mask(is_redirect, finals.map(pd.Series(p["status"].array, index=p["url"])))


def _add_settled_columns(p: pd.DataFrame, rechecks: pd.DataFrame) -> None:
    ordered = rechecks.sort_values(["url", "attempt"])
    last = ordered.drop_duplicates("url", keep="last").set_index("url")
    p["settled_status"] = p["url"].map(last["status"]).astype("Int64")
    p["settled_error"] = p["url"].map(last["error"]).astype("str")
    p["rechecks_done"] = p["url"].map(ordered["url"].value_counts()).fillna(0).astype(int)
