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
    distinct pages with a followed ``<a>`` link to this URL (see LinkGraph.add_page_facts; self-links excluded).
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

``load_crawl(..., columns=...)`` reads only the stored facts among ``columns`` and those the
derived columns are made of (``DERIVED_FROM``): a run loads what its rules and report declare
they read (seo_audit.run.pages_read), a notebook every fact.

Links stay in DuckDB (``crawl.graph``, audit.graph.LinkGraph): its table ``link_facts`` adds
``followed`` (see LinkGraph.add_page_facts) and ``internal`` (target in scope). ``crawl.links``
gives them as a DataFrame for a notebook; a crawl too large for that is queried with
``audit.query``.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.core.arrays.string_arrow import ArrowStringArray

from audit.graph import LinkGraph, database_path, store_snapshot
from audit.custom import add_custom_columns, definitions_of
from audit.segments import assign_segments, parse_segments
from crawler import store as crawl_store
from crawler.facts import FactType, PageFact

#: Redirect walks stop here, as Scrapy's REDIRECT_MAX_TIMES does by default.
MAX_REDIRECT_HOPS = 20

#: Link kinds a crawler follows to reach a URL.
REACHING_LINK_KINDS = ("a", "redirect", "meta-refresh", "js-redirect")

_INT_COLUMNS = crawl_store.PAGE_INTEGER_COLUMNS
_FLOAT_COLUMNS = crawl_store.PAGE_REAL_COLUMNS
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

#: the stored facts the derived columns (module docstring) are made of: loaded whatever columns
#: a load asks for
DERIVED_FROM = ("url", "status", "skip_reason", "content_type", "fetch_kind", "found_via", "meta_robots",
                "x_robots_tag", "canonical", "link_canonical", "redirect_target", "meta_refresh_url")


class Crawl:
    """One crawl's records as DataFrames, with the shared derived columns on ``pages``; its
    links in DuckDB (``graph``), as a DataFrame on demand (``links``)."""

    def __init__(self, crawl_id: int | None, meta: dict[str, Any], pages: pd.DataFrame,
                 links: pd.DataFrame | None = None, sitemap_urls: pd.DataFrame | None = None,
                 rechecks: pd.DataFrame | None = None, findings: pd.DataFrame | None = None,
                 logs: Any = None, graph: LinkGraph | None = None) -> None:
        self.crawl_id, self.meta, self.pages = crawl_id, meta, pages
        #: the store file load_crawl read the pages from (pages.csv reads their stored facts there);
        #: None for a crawl built from frames or read from a store in memory
        self.store: Path | None = None
        self.graph = graph if graph is not None else LinkGraph.from_frame(links)
        self._links: pd.DataFrame | None = None
        self.sitemap_urls, self.rechecks = sitemap_urls, rechecks
        self.findings = pd.DataFrame(columns=list(crawl_store.FINDING_COLUMNS)) if findings is None else findings
        #: the server logs joined with the crawl (audit.logs.LogFacts), which the log rules read; None: no logs
        self.logs = logs

    @property
    def links(self) -> pd.DataFrame:
        """Every link (crawler.store.LINK_COLUMNS, with followed and internal) as a DataFrame,
        made on first use: for a notebook. Rules and reports query ``graph`` instead."""
        if self._links is None:
            self._links = self.graph.frame()
        return self._links

    @links.setter
    def links(self, frame: pd.DataFrame) -> None:
        """Replace the links: the graph is made again from ``frame``, its facts from the pages."""
        self.graph = LinkGraph.from_frame(frame)
        self._links = None
        if "in_scope" in self.pages:
            _add_link_facts(self.graph, self.pages, self.start_url, scope_origins(self.meta))

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
               findings: bool = True, segments: Mapping[str, Any] | None = None,
               memory_budget: int | None = None, columns: Iterable[str] | None = None) -> Crawl:
    """The crawl ``crawl_id`` (the latest if None) from a store path or an open connection;
    ``findings=False`` leaves its stored findings out (an audit about to replace them).
    ``columns``: the pages columns the caller reads (stored or derived; other names are
    ignored): the pages hold those of the stored facts and DERIVED_FROM, the derived columns,
    and no other stored fact (None: every one; a store in memory, which cannot be read again for
    pages.csv, gives every one too).
    ``segments``: a job's ``[segments]`` table (audit.segments), instead of the one the crawl
    was made with. ``memory_budget``: bytes the whole run may use (audit.graph: DuckDB gets a
    share and spills past it; default 2 GB)."""
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
        path = database_path(conn)
        facts = stored_facts(columns if path else None)
        pages, sitemap_urls = _read_crawl_tables(conn, crawl_id, facts)
        # the links are read once the pages say which ones a crawler follows (LinkGraph.from_store)
        links = functools.partial(LinkGraph.from_store, conn, crawl_id, memory_budget)
        crawl = _derive(meta, pages=pages, graph=links, sitemap_urls=sitemap_urls, rechecks=table("rechecks"),
                        custom=(_optional_table(table, "extractions"), _optional_table(table, "search_matches")),
                        segments=segments, facts=tuple(fact.name for fact in facts))
        crawl.store = Path(path) if path else None
        if findings:
            crawl.findings = table("findings", "crawl_id, rule, severity, category, url, evidence")
        return crawl
    finally:
        if conn is not store:
            conn.close()


def query(store: str | Path, sql: str, crawl_id: int | None = None, *,
          memory_budget: int | None = None) -> Any:
    """``sql`` over one crawl of ``store`` (the latest if None) in DuckDB, as a DuckDB relation
    (``.df()``, ``.arrow()``, ``.fetchall()``, or more SQL on it): for a crawl too large for
    ``load_crawl``'s DataFrames. Its links are the table ``links`` (row, source, target, kind,
    anchor, nofollow, seen_in); ``pages`` is the store's pages table of that crawl, read as
    DuckDB reads pandas, without the derived columns.

        rel = audit.query("site.sqlite", "SELECT target, count(*) n FROM links GROUP BY target ORDER BY n DESC")
        rel.limit(20).df()
    """
    conn = crawl_store.connect(store, readonly=True)
    try:
        metas = crawl_store.crawls(conn)
        if not metas:
            raise LookupError("the store holds no crawl")
        crawl_id = metas[0]["id"] if crawl_id is None else crawl_id
        # in memory (spilling past the budget): the relation returned outlives the graph object
        graph = LinkGraph.from_store(conn, crawl_id, memory_budget, in_memory=True)
        pages = pd.read_sql_query("SELECT * FROM pages WHERE crawl_id = ?", conn, params=(crawl_id,))
    finally:
        conn.close()
    graph.con.register("pages_frame", pages)
    graph.con.execute("CREATE TABLE pages AS SELECT * FROM pages_frame")
    graph.con.unregister("pages_frame")
    return graph.con.sql(sql)


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
        findings = pd.read_sql_query(f"SELECT {', '.join(crawl_store.FINDING_COLUMNS)} FROM findings WHERE crawl_id = ?",
                                     conn, params=(crawl_id,))
        return CrawlOutline(crawl_id, meta, pages, findings, budget, crawl_store.audit_rules_of(conn, crawl_id))
    finally:
        conn.close()


#: pandas' text of Arrow storage (as the global option makes "str" Python's, audit/__init__)
ARROW_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def arrow_text_array(values: pa.Array | pa.ChunkedArray) -> ArrowStringArray:
    """Arrow texts as pandas' ARROW_TEXT, in one chunk: Arrow takes rows of a chunked array by
    joining its chunks first, a copy of the whole column each time pandas selects rows."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return ArrowStringArray(pa.chunked_array([values.cast(pa.large_string())]), dtype=ARROW_TEXT)


def stored_facts(columns: Iterable[str] | None) -> tuple[PageFact, ...]:
    """The page facts (crawler.facts.PAGE_FACTS, in their order) a load reading ``columns``
    needs: those among them and DERIVED_FROM; every one for None."""
    if columns is None:
        return crawl_store.PAGE_FACTS
    wanted = {*columns, *DERIVED_FROM}
    return tuple(fact for fact in crawl_store.PAGE_FACTS if fact.name in wanted)


def _read_crawl_tables(conn: sqlite3.Connection, crawl_id: int,
                       facts: tuple[PageFact, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The crawl's pages (``facts`` of them) and sitemap URLs, each distinct text held once (a
    sitemap's URLs sharing the pages' ones), from one snapshot of the store even while a crawl writes."""
    texts: dict[str, str] = {}
    with store_snapshot(conn) as read:
        pages = _read_interned(read, "pages", tuple((fact.name, fact.type) for fact in facts), crawl_id, texts,
                               arrow_texts={fact.name for fact in facts if fact.distinct})
        sitemap_urls = _read_interned(read, "sitemap_urls", tuple((name, FactType.TEXT) for name in crawl_store.SITEMAP_COLUMNS),
                                      crawl_id, texts)
    pa.default_memory_pool().release_unused()  # the batches' buffers, which the pool would keep
    return pages, sitemap_urls


#: a value of each type, in SQL and in Arrow, for the first row of a query read as Arrow
_TYPED_VALUES = {FactType.TEXT: ("''", pa.string()), FactType.JSON: ("''", pa.string()),
                 FactType.INTEGER: ("0", pa.int64()), FactType.REAL: ("0.0", pa.float64()),
                 FactType.BLOB: ("x''", pa.binary())}


def stored_rows(read: Callable[..., Any], table: str, crawl_id: int) -> int:
    """How many rows of ``table`` crawl ``crawl_id`` has (``read``: store_snapshot's reader)."""
    sql = f"SELECT count(*) AS n FROM {table} WHERE crawl_id = ?"
    (count,) = next(read(sql, (crawl_id,), pa.schema([("n", pa.int64())])))["n"].to_pylist()
    return count


def typed_reader(read: Callable[..., Any], table: str, columns: tuple[tuple[str, FactType], ...],
                 crawl_id: int) -> pa.RecordBatchReader:
    """``columns`` of ``table``'s rows of one crawl as a stream of Arrow batches of their types
    (``read``: store_snapshot's reader), in the store's order (pages: by URL, their primary key).

    The query starts with a row of a value of each column's type (the reader infers the types
    from the first rows; most columns are NULL on most rows), dropped."""
    typed = ", ".join(f"{_TYPED_VALUES[kind][0]} AS {name}" for name, kind in columns)
    sql = (f"SELECT {typed} UNION ALL SELECT {', '.join(name for name, _ in columns)} "
           f"FROM {table} WHERE crawl_id = ?")
    schema = pa.schema([(name, _TYPED_VALUES[kind][1]) for name, kind in columns])

    def batches() -> Iterator[pa.RecordBatch]:
        rows = read(sql, (crawl_id,), schema)
        yield next(rows).slice(1)  # the typed row
        yield from rows

    return pa.RecordBatchReader.from_batches(schema, batches())


def _read_interned(read: Callable[..., Any], table: str, columns: tuple[tuple[str, FactType], ...],
                   crawl_id: int, texts: dict[str, str], arrow_texts: Collection[str] = ()) -> pd.DataFrame:
    """``columns`` of ``table`` for one crawl, each distinct text held once (``texts``: the ones
    known already, added to), as ``pd.read_sql_query`` types them; numbers as float (NaN for
    NULL), typed by _decode_pages. ``read``: audit.graph.store_snapshot's reader. The texts of
    ``arrow_texts`` (columns whose pages mostly hold a text of their own, PageFact.distinct)
    stay Arrow's, as pandas' "str" of pyarrow storage: interning would find nothing to share.

    Rows (typed_reader) go straight into
    arrays of the table's size: arrays per batch joined at the end would leave their sum as
    freed but unreturned heap (the allocator keeps it)."""
    count = stored_rows(read, table, crawl_id)
    numeric = [kind in (FactType.INTEGER, FactType.REAL) for _, kind in columns]
    # made at a column's first value: a column the crawl never filled is not allocated (its
    # missing_column is made by _decode_pages)
    arrays: list[np.ndarray | ArrowStringArray | None] = [None] * len(columns)
    chunks: dict[int, list[pa.Array]] = {at: [] for at, (name, _) in enumerate(columns) if name in arrow_texts}
    start = 0
    for batch in typed_reader(read, table, columns, crawl_id):
        for at, (values, (_, kind)) in enumerate(zip(batch.columns, columns)):
            if at in chunks:  # a copy (a column of the reader's batch holds the whole batch), as pandas holds it
                chunks[at].append(pa.concat_arrays([values.cast(pa.large_string())]))
                continue
            if values.null_count == len(values):
                continue  # the arrays start as None or NaN: many columns are empty on most rows
            if arrays[at] is None:
                arrays[at] = np.full(count, np.nan) if numeric[at] else np.empty(count, dtype=object)
            if kind in (FactType.TEXT, FactType.JSON):
                encoded = values.dictionary_encode()
                words = np.array([*(texts.setdefault(v, v) for v in encoded.dictionary.to_pylist()), None], dtype=object)
                values = words[encoded.indices.fill_null(len(words) - 1).to_numpy()]
            else:
                values = values.to_numpy(zero_copy_only=False)
            arrays[at][start:start + len(values)] = values
        start += batch.num_rows
    for at, parts in chunks.items():
        if any(part.null_count < len(part) for part in parts):  # else a missing_column, as above
            arrays[at] = arrow_text_array(pa.concat_arrays(parts))
    return pd.DataFrame({name: pd.Series(array, copy=False).infer_objects() if isinstance(array, np.ndarray)
                         else pd.Series(array, copy=False) if array is not None
                         else missing_column(FactType.REAL if number else FactType.TEXT, pd.RangeIndex(count))
                         for (name, _), array, number in zip(columns, arrays, numeric)}, copy=False)


def build_crawl(meta: Mapping[str, Any], pages: pd.DataFrame, links: pd.DataFrame | None = None,
                sitemap_urls: pd.DataFrame | None = None,
                rechecks: pd.DataFrame | None = None) -> Crawl:
    """A Crawl from raw store-shaped frames: missing columns are added, derived ones computed.
    The frames given are copied, not changed."""
    return _derive(meta, *(None if frame is None else frame.copy() for frame in (pages, sitemap_urls, rechecks)),
                   graph=LinkGraph.from_frame(links))


def _derive(meta: Mapping[str, Any], pages: pd.DataFrame, sitemap_urls: pd.DataFrame | None,
            rechecks: pd.DataFrame | None, graph: LinkGraph | Callable[..., LinkGraph],
            custom: tuple[pd.DataFrame | None, pd.DataFrame | None] = (None, None),
            segments: Mapping[str, Any] | None = None,
            facts: tuple[str, ...] = tuple(crawl_store.PAGE_COLUMNS)) -> Crawl:
    """build_crawl on frames it may change in place; ``facts``: the stored facts the pages hold
    (those missing from the frame added, empty); ``graph``: see add_shared_columns."""
    sitemap_urls = _with_columns(sitemap_urls, crawl_store.SITEMAP_COLUMNS)
    rechecks = _with_columns(rechecks, crawl_store.RECHECK_COLUMNS)
    rechecks["status"] = rechecks["status"].astype("Int64")
    pages = _decode_pages(_with_columns(pages, facts))
    meta = dict(meta)
    crawl_id = meta.get("id")
    graph = add_shared_columns(pages, graph, sitemap_urls, rechecks, meta.get("start_url"),
                               origins=scope_origins(meta))
    found = definitions_of(meta)
    add_custom_columns(pages, found, *custom)
    if segments is None:
        segments = (meta.get("settings") or {}).get("segments") or {}
    pages["segment"] = assign_segments(pages, parse_segments(segments))
    return Crawl(crawl_id, meta, pages, sitemap_urls=sitemap_urls, rechecks=rechecks, graph=graph)


def _with_columns(frame: pd.DataFrame | None, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(columns=list(columns)) if frame is None else frame
    for col in columns:
        if col not in frame:
            frame[col] = None
    return frame


def _decode_pages(pages: pd.DataFrame) -> pd.DataFrame:
    """The stored facts of ``pages`` as the audit types them (module docstring), in place; a
    column without a value as a missing_column."""
    empty = [col for col in pages.columns if pages[col].isna().all()]
    for col in empty:
        pages[col] = missing_column(_FACT_TYPES.get(col, FactType.TEXT), pages.index)
    filled = pages.columns.difference(empty, sort=False)
    for col in filled.intersection(crawl_store.PAGE_JSON_COLUMNS):
        pages[col] = _decoded_lists(pages[col])
    for col in filled.intersection(_INT_COLUMNS):
        pages[col] = pd.to_numeric(pages[col]).astype("Int64")
    for col in filled.intersection(_FLOAT_COLUMNS):
        pages[col] = pd.to_numeric(pages[col]).astype(float)
    for col in filled.difference([*_INT_COLUMNS, *crawl_store.PAGE_JSON_COLUMNS,
                                  *crawl_store.PAGE_BLOB_COLUMNS, *_FLOAT_COLUMNS]):
        if not isinstance(pages[col].dtype, pd.StringDtype):  # Arrow's texts stay Arrow's (_read_interned)
            pages[col] = pages[col].astype("str")
    return pages


_FACT_TYPES = {fact.name: fact.type for fact in crawl_store.PAGE_FACTS}


def missing_column(kind: FactType, index: pd.Index) -> pd.Series:
    """Missing values of a page fact of type ``kind`` on ``index``, typed as the loaded pages type
    them (text NaN, Int64 NA, float NaN, an empty list, None), held once for every row: a
    read-only view of one value (stride 0). A fact the crawl never filled (every rendered_* fact
    of a crawl that did not render) costs nothing however many pages; to change one, replace
    the column rather than assign into it."""
    rows = len(index)
    if kind is FactType.INTEGER:
        values = pd.arrays.IntegerArray(np.broadcast_to(np.int64(0), rows), np.broadcast_to(True, rows))
    elif kind is FactType.REAL:
        values = np.broadcast_to(np.nan, rows)
    else:
        one = np.empty(1, dtype=object)
        one[0] = {FactType.JSON: [], FactType.TEXT: np.nan}.get(kind)
        values = np.broadcast_to(one, rows)
        if kind is FactType.TEXT:  # pandas' constructor would check the values through a writable buffer
            values = pd.array([], dtype="str")._from_backing_data(values)
    # a Series (assigned as a column, it is not copied) of objects (pandas would look for a type in them)
    return pd.Series(values, index=index, dtype=values.dtype, copy=False)


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


def add_shared_columns(pages: pd.DataFrame, graph: LinkGraph | Callable[..., LinkGraph], sitemap_urls: pd.DataFrame,
                       rechecks: pd.DataFrame, start_url: str | None,
                       origins: list[str] | None = None) -> LinkGraph:
    """Add the derived pages columns (module docstring) in place; also the graph's view of
    links with ``followed`` and ``internal`` (``origins``: the crawl's scope, see urls_in_scope),
    and return the graph. ``graph``: a LinkGraph, or what makes one from the page facts of its
    links (``pages=``, ``origins=``: LinkGraph.from_store)."""
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
    graph = _add_link_facts(graph, p, start_url, origins)
    inlinks, reached = graph.per_page(p["url"], REACHING_LINK_KINDS)
    graph.keep_less()  # the load's joins are done
    p["inlinks"] = inlinks.to_numpy()
    p["in_sitemap"] = p["url"].isin(sitemap_urls["url"])
    reached = reached.to_numpy() | p["in_sitemap"].to_numpy() | p["url"].eq(start_url).to_numpy() \
        | p["found_via"].eq("list").to_numpy()
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
    return graph


def _add_link_facts(graph: LinkGraph | Callable[..., LinkGraph], p: pd.DataFrame, start_url: str | None,
                    origins: list[str] | None) -> LinkGraph:
    """The graph's followed and internal, from the pages' status_class, nofollow_page and in_scope
    (``graph``: see add_shared_columns); the graph returned."""
    if origins is None:
        origins = [origin_of(pd.Series([start_url or ""])).iloc[0]]
    passes = p["status_class"].eq("2xx") & ~p["nofollow_page"]
    facts = pd.DataFrame({"url": p["url"], "passes": passes, "in_scope": p["in_scope"]})
    origins = [None if pd.isna(o) else o for o in origins]
    if isinstance(graph, LinkGraph):
        graph.add_page_facts(facts, origins)
        return graph
    return graph(pages=facts, origins=origins)


def _contains(values: pd.Series, pattern: str) -> pd.Series:
    """Whether each text holds the regular expression ``pattern``, ignoring case; missing: False."""
    codes, uniques = pd.factorize(values)
    hits = pd.Series(uniques, dtype="str").str.contains(pattern, case=False, regex=True, na=False)
    return pd.Series(np.append(hits.to_numpy(dtype=bool), False)[codes], index=values.index)


def urls_in_scope(urls: pd.Series, pages: pd.DataFrame, start_url: str | None,
                  origins: list[str] | None = None) -> pd.Series:
    """Whether each URL is in the crawl's scope: as recorded if it was met, else one of ``origins``
    (the crawl's, if it recorded them), else same origin as the start."""
    rows = pd.Index(pages["url"]).get_indexer(urls).astype(np.int32)
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
