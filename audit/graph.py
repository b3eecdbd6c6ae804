"""A crawl's links in DuckDB: read from the store without becoming Python objects, joined and
aggregated there, spilled to disk past the memory budget.

A crawl of ten million URLs has hundreds of millions of links: more than pandas can hold on a
laptop. ``LinkGraph`` keeps them in a DuckDB table (``links``: row, source, target, kind,
anchor, nofollow, seen_in; ``row`` is the store's order; once the pages' facts are added, the
table ``link_facts`` with them and ``links`` a view of it) in a database file of its own in a
temporary folder, so DuckDB compresses them and evicts what it does not use; the link-graph
facts the loader adds to pages (inlinks, reachability) are queries over it, and rules ask it
for the few links they report (``select``).

``memory_budget`` (bytes) bounds DuckDB's memory (MEMORY_SHARE of it: the rest is the pages
in pandas); past it, DuckDB spills to its temporary folder and goes slower, it does not fail.
A smaller crawl gets less (``memory_limit``): DuckDB fills its buffers toward the limit and keeps
them, so a 40k-page crawl given 1 GiB held it all. Once the load's joins are done, DuckDB keeps
at most MEMORY_AFTER_LOAD (``keep_less``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from crawler import store as crawl_store

#: the whole run's memory, by default: `--memory-budget` and the job file's memory_budget
DEFAULT_MEMORY_BUDGET = 2 * 2**30
#: DuckDB's share of the memory budget: the rest holds the pages (pandas) and the report
MEMORY_SHARE = 0.5
#: DuckDB's memory per link of the crawl (memory_limit): 20M links ran at 1 GiB (53 bytes a link),
#: twice as slow at 512 MiB; 1.9M links (a 40k-page crawl) as fast at the floor as at 1 GiB
BYTES_PER_LINK = 53
#: the least memory DuckDB gets, however few the links: what it takes then does not grow with the
#: crawl (it fills its buffers toward the limit). links.csv's ordered COPY takes 32 MiB a thread:
#: at 64 MiB on two threads it ran out of memory
MEMORY_FLOOR = 96 * 2**20
#: DuckDB's memory once the load's joins are done (LinkGraph.keep_less): the rules and the outputs
#: read a few links at a time or stream them, as fast at 128 MiB as at 1 GiB (20M links), and the
#: table's blocks DuckDB kept cached from the load (237 MiB at 20M links) give way to the report
MEMORY_AFTER_LOAD = 128 * 2**20
#: rows in one Arrow batch read from the store: a batch of pages (95 columns) is held two or three
#: times while it becomes the frame's columns, so a batch of 65,536 rows held a 40k-page crawl whole
BATCH_ROWS = 8192
#: links grouped by (target, source) in one aggregate at most (LinkGraph.per_page)
PAIRS_PER_AGGREGATE = 4_000_000
#: the links columns, as LinkGraph's table holds them
COLUMNS = ("row", "source", "target", "kind", "anchor", "nofollow", "seen_in")
#: links' seen_in values (crawler.store.SEEN_IN), a missing one counting as raw
SEEN_IN = ("raw", "rendered", "both")
# The store's links as the table wants them: a missing anchor told apart from an empty one by a
# flag (a reader infers a column's type from its first rows, and a NULL has none)
_STORE_QUERY = ("SELECT rowid AS row, source, target, kind, ifnull(anchor, '') AS anchor, anchor IS NULL "
                "AS no_anchor, ifnull(nofollow, 0) <> 0 AS nofollow, ifnull(seen_in, 'raw') AS seen_in "
                "FROM links WHERE crawl_id = ?")
_FROM_STORE = ("SELECT row::BIGINT AS row, source::VARCHAR AS source, target::VARCHAR AS target, kind::VARCHAR AS kind, "
               "CASE WHEN no_anchor <> 0 THEN NULL ELSE anchor END::VARCHAR AS anchor, (nofollow <> 0)::BOOLEAN AS nofollow, "
               "seen_in::VARCHAR AS seen_in FROM reader")  # typed: a reader of no rows cannot tell the types


def parse_size(text: str | int | float) -> int:
    """Bytes of a size such as "2GB", "512 MB", "1.5G" or a number of bytes."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = int(text)
    else:
        cleaned = str(text).strip().upper().replace(" ", "").removesuffix("IB").removesuffix("B")
        units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
        try:
            value = int(float(cleaned[:-1]) * units[cleaned[-1]]) if cleaned[-1:] in units else int(cleaned)
        except (ValueError, IndexError):
            raise ValueError(f"not a size: {text!r} (say 2GB, 512MB or a number of bytes)") from None
    if value < 64 * 2**20:
        raise ValueError(f"a memory budget under 64 MB cannot hold a crawl's working set: {text!r}")
    return value


def memory_limit(memory_budget: int | None, links: int | None) -> int:
    """DuckDB's memory for a crawl of about ``links`` links (None: not known): BYTES_PER_LINK
    each, at least MEMORY_FLOOR, at most MEMORY_SHARE of ``memory_budget``."""
    share = int((memory_budget or DEFAULT_MEMORY_BUDGET) * MEMORY_SHARE)
    return share if links is None else min(share, max(MEMORY_FLOOR, links * BYTES_PER_LINK))


def connect(memory_budget: int | None = None, *, in_memory: bool = False,
            links: int | None = None) -> tuple[duckdb.DuckDBPyConnection, Path | None]:
    """A DuckDB database limited to ``memory_limit(memory_budget, links)``, spilling past it: in a
    new temporary folder, returned to be removed when done; or (``in_memory``) a database in memory
    spilling into a folder DuckDB makes and removes itself (None returned)."""
    limit = memory_limit(memory_budget, links)
    if in_memory:
        folder = None
        con = duckdb.connect(":memory:")
        spill = Path(tempfile.gettempdir()) / f"seo-audit-spill-{uuid.uuid4().hex}"
    else:
        folder = Path(tempfile.mkdtemp(prefix="seo-audit-engine-"))
        con = duckdb.connect(str(folder / "links.duckdb"))
        spill = folder / "spill"
    con.execute(f"SET memory_limit = '{limit // 2**20}MiB'")
    con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    # jemalloc's background threads give freed memory back to the system as DuckDB goes: without
    # them, what a query freed stays in the process until a later allocation reuses it
    con.execute("SET allocator_background_threads = true")
    return con, folder


class LinkGraph:
    """The links of one crawl in DuckDB (module docstring). Close it (or let it be collected)
    to remove its temporary folder."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path | None) -> None:
        self.con, self.folder = con, folder
        (self.rows,) = con.execute("SELECT count(*) FROM links").fetchall()[0]
        self.limit_before_keep_less: str | None = None  # DuckDB's limit keep_less lowered, if it did

    # -------------------------------------------------------------- making one

    @classmethod
    def from_store(cls, conn: sqlite3.Connection, crawl_id: int, memory_budget: int | None = None, *,
                   in_memory: bool = False, pages: pd.DataFrame | None = None,
                   origins: list[Any] | None = None) -> "LinkGraph":
        """The links of ``crawl_id`` in the store ``conn`` is open on, streamed in Arrow batches
        (adbc-driver-sqlite reads SQLite in C: no row becomes a Python object); ``in_memory``:
        see connect. With ``pages`` and ``origins`` (as add_page_facts takes them), the links are
        read straight into link_facts: DuckDB writes them once, not a table of them and then its copy."""
        con, folder = connect(memory_budget, in_memory=in_memory, links=_links_span(conn, crawl_id))
        with _store_batches(conn, crawl_id) as stored, _read_ahead(stored) as reader:
            con.register("reader", reader)
            try:
                if pages is None:
                    con.execute(f"CREATE TABLE links AS {_FROM_STORE}")
                else:
                    page_urls = _make_link_facts(con, pages, origins or [], f"({_FROM_STORE})")
            finally:
                con.unregister("reader")
        graph = cls(con, folder)
        if pages is not None:
            graph.page_urls = page_urls
        return graph

    @classmethod
    def from_frame(cls, links: pd.DataFrame | None, memory_budget: int | None = None) -> "LinkGraph":
        """The links of a DataFrame of crawler.store.LINK_COLUMNS (missing ones added), in its order."""
        con, folder = connect(memory_budget, links=0 if links is None else len(links))
        frame = pd.DataFrame(index=range(0 if links is None else len(links)))
        for col in crawl_store.LINK_COLUMNS:
            values = links[col] if links is not None and col in links else None
            frame[col] = None if values is None else (values.to_numpy() if col == "nofollow" else
                                                      values.astype(object).to_numpy())
        frame["nofollow"] = frame["nofollow"].fillna(0).astype(bool)
        frame["seen_in"] = frame["seen_in"].fillna("raw")
        frame.insert(0, "row", range(len(frame)))
        con.register("frame", frame)
        con.execute("CREATE TABLE links AS SELECT row::BIGINT AS row, source::VARCHAR AS source, target::VARCHAR "
                    "AS target, kind::VARCHAR AS kind, anchor::VARCHAR AS anchor, nofollow::BOOLEAN AS nofollow, "
                    "seen_in::VARCHAR AS seen_in FROM frame ORDER BY row")
        con.unregister("frame")
        return cls(con, folder)

    # -------------------------------------------------------------- the facts pages get

    def add_page_facts(self, pages: pd.DataFrame, origins: list[Any]) -> None:
        """Make the table ``link_facts``: the links with ``followed`` (a crawler follows it: not
        nofollow, to another URL, a redirect or a link of kind a or meta-refresh on a page
        that answered 2xx without a page-wide nofollow), ``internal`` (its target in scope: as
        the target's page says, else its origin one of ``origins``), ``to_a_page``, and
        ``source_id``/``target_id``: the number of the source's and target's page (``page_facts.id``,
        a URL's position among the pages' distinct URLs; NULL for a URL that is no page).
        ``pages``: url, passes (2xx, no page-wide nofollow), in_scope. ``links`` is then a view
        of link_facts' columns of the store, in the same order.

        A table, made once: every rule reading links would otherwise join them with the pages
        again (twice, on URL texts), the main cost of a large audit."""
        self.page_urls = _make_link_facts(self.con, pages, origins, "links")

    def per_page(self, pages: pd.Series, reaching_kinds: Iterable[str]) -> tuple[pd.Series, pd.Series]:
        """For each URL of ``pages``: its inlinks (distinct sources of followed <a> links to
        it) and whether a followed link of ``reaching_kinds`` leads to it."""
        kinds = _sql_list(reaching_kinds)
        # on the pages' numbers (add_page_facts), not their URLs: a followed <a> link's source
        # passes, so is a page. Distinct (target, source) pairs counted per target, a share of the
        # targets at a time: a hash aggregate's table grows with its pairs in allocations DuckDB
        # does not spill (20M pairs at once ran out of 512 MiB; in shares of 4M, of 256 MiB, faster)
        shares = max(1, -(-self.rows // PAIRS_PER_AGGREGATE))
        counted = [self.con.execute(f"""
            SELECT target_id AS id, count(*) AS inlinks FROM (
                SELECT target_id, source_id FROM link_facts
                WHERE followed AND kind = 'a' AND target_id IS NOT NULL AND target_id % {shares} = {share}
                GROUP BY target_id, source_id) GROUP BY target_id""").fetchnumpy() for share in range(shares)]
        inlinks = {name: np.concatenate([part[name] for part in counted]) for name in ("id", "inlinks")}
        (reached,) = self.con.execute(f"""
            SELECT DISTINCT target_id AS id FROM link_facts
            WHERE followed AND target_id IS NOT NULL AND kind IN (SELECT unnest({kinds}))""").fetchnumpy().values()
        counts = np.zeros(len(self.page_urls) + 1, dtype=np.int64)  # the last one: a URL not a page
        counts[np.asarray(inlinks["id"], dtype=np.int64)] = inlinks["inlinks"]
        hit = np.zeros(len(self.page_urls) + 1, dtype=bool)
        hit[np.asarray(reached, dtype=np.int64)] = True
        ids = self.page_urls.get_indexer(pages.astype(object).to_numpy())
        return pd.Series(counts[ids], index=pages.index), pd.Series(hit[ids], index=pages.index)

    def keep_less(self) -> None:
        """Lower DuckDB's memory to MEMORY_AFTER_LOAD (never raise it): it evicts the blocks it
        holds past that at once, and later queries spill past it. A query that cannot run in
        it (an aggregate over 200M links) gets the limit back (query)."""
        (limit,), = self.con.execute("SELECT current_setting('memory_limit')").fetchall()
        if parse_size(limit) > MEMORY_AFTER_LOAD:
            with contextlib.suppress(duckdb.OutOfMemoryException):  # what it holds cannot be evicted: kept
                self.con.execute(f"SET memory_limit = '{MEMORY_AFTER_LOAD // 2**20}MiB'")
                self.limit_before_keep_less = limit

    # -------------------------------------------------------------- reading some

    def to_targets(self, urls: pd.Series, name: str) -> tuple[str, dict[str, pd.DataFrame]]:
        """A condition on link_facts, its target one of ``urls``, and the frames it reads (named
        after ``name``): matched on the pages' numbers (add_page_facts), on the texts only of
        the URLs that are no page, so a scan of the links joins integers."""
        ids = self.page_urls.get_indexer(urls.astype(object).to_numpy())
        frames = {name: pd.DataFrame({"id": ids[ids >= 0]})}
        condition = f"target_id IN (SELECT id FROM {name})"
        if (ids < 0).any():
            frames[f"{name}_texts"] = pd.DataFrame({"url": urls.astype(object).to_numpy()[ids < 0]})
            condition = f"({condition} OR (target_id IS NULL AND target IN (SELECT url FROM {name}_texts)))"
        return condition, frames

    def select(self, where: str = "true", params: Iterable[Any] = (), columns: str = "*",
               frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """The links of ``link_facts`` where the SQL condition ``where`` holds, in the store's
        order, as a DataFrame (text as pandas' str dtype); ``frames`` are registered by name
        for the query to join (a list of target URLs...)."""
        return self.query(f"SELECT {columns} FROM link_facts WHERE {where} ORDER BY row", params, frames)

    def query(self, sql: str, params: Iterable[Any] = (), frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """``sql`` over ``links``, ``link_facts`` and ``page_facts`` (and ``frames``), as a DataFrame."""
        for name, frame in (frames or {}).items():
            self.con.register(name, frame)
        try:
            try:
                result = self.con.execute(sql, list(params)).df()
            except duckdb.OutOfMemoryException:
                if self.limit_before_keep_less is None:
                    raise
                self.con.execute(f"SET memory_limit = '{self.limit_before_keep_less}'")  # keep_less's, given back
                self.limit_before_keep_less = None
                result = self.con.execute(sql, list(params)).df()
        finally:
            for name in frames or {}:
                self.con.unregister(name)
        for col in result.columns:
            if result[col].dtype == object:
                result[col] = result[col].astype("str")
        return result

    def frame(self) -> pd.DataFrame:
        """Every link as a DataFrame: text columns categorical (source and target sharing one
        dtype), with followed and internal. For a notebook: tens of millions of links take GBs,
        query them instead (audit.query)."""
        has_facts = self.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'link_facts'").fetchall()[0][0]
        extra = ", followed, internal" if has_facts else ""
        frame = self.con.execute(f"SELECT source, target, kind, anchor, nofollow, seen_in{extra} "
                                 f"FROM {'link_facts' if has_facts else 'links'} ORDER BY row").df()
        urls = pd.CategoricalDtype(pd.unique(pd.concat([frame["source"], frame["target"]]).dropna().to_numpy()))
        frame["source"] = frame["source"].astype(urls)
        frame["target"] = frame["target"].astype(urls)
        for col in ("kind", "anchor"):
            frame[col] = frame[col].astype("category")
        frame["seen_in"] = pd.Categorical(frame["seen_in"], categories=list(SEEN_IN))
        return frame

    def close(self) -> None:
        if self.folder is not None:
            self.con.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __del__(self) -> None:
        self.close()

    def __len__(self) -> int:
        return self.rows


def _make_link_facts(con: duckdb.DuckDBPyConnection, pages: pd.DataFrame, origins: list[Any], links: str) -> pd.Index:
    """LinkGraph.add_page_facts on the links of the relation ``links`` (SQL: a table's name or a
    subquery), in its order; the pages' URLs, numbered, returned."""
    # a URL is a page once, numbered by its first row (as pandas' look-ups count a frame holding
    # it twice): links get those numbers here, so the graph's queries join integers, not URL texts
    codes, urls = pd.factorize(pages["url"].astype(object).to_numpy())
    first = np.unique(codes[codes >= 0], return_index=True)[1]
    rows = np.flatnonzero(codes >= 0)[first]
    facts = pd.DataFrame({"id": np.arange(len(urls), dtype=np.int64), "url": urls.astype(object),
                          "passes": pages["passes"].to_numpy(dtype=bool)[rows],
                          "in_scope": pages["in_scope"].to_numpy(dtype=bool)[rows]})
    con.execute("DROP TABLE IF EXISTS page_facts")
    con.register("facts", facts)
    con.execute("CREATE TABLE page_facts AS SELECT id::INTEGER AS id, url::VARCHAR AS url, passes, in_scope "
                "FROM facts")
    con.unregister("facts")
    known = [o for o in origins if isinstance(o, str)]
    any_missing = len(known) < len(origins)  # pandas' isin matches a missing origin with a missing one
    origin = "nullif(lower(regexp_extract(l.target, '^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)', 1)), '')"
    # a constant list, not a subquery: CASE then extracts the origin of the links to no page only
    in_origins = f"coalesce(list_contains({_sql_list(known)}, {origin}), false)"
    if any_missing:
        in_origins = f"({in_origins} OR ({origin} IS NULL AND l.target IS NOT NULL))"
    # one copy of the links: link_facts replaces the table links, which becomes a view of its
    # columns; on one thread, so its rows stay in the store's order (links.csv is written in it)
    con.execute("SET threads = 1")
    # the links probe the pages' hash table: a stream's size is not known, and the optimizer
    # would build the table of it instead
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        con.execute(f"""
            CREATE OR REPLACE TABLE facts_of_links AS
            SELECT l.*, s.id AS source_id, t.id AS target_id,
                   NOT l.nofollow AND (l.source IS NULL OR l.source IS DISTINCT FROM l.target)
                   AND ((coalesce(s.passes, false) AND coalesce(l.kind IN ('a', 'meta-refresh'), false))
                        OR coalesce(l.kind = 'redirect', false)) AS followed,
                   CASE WHEN t.url IS NOT NULL THEN t.in_scope ELSE {in_origins} END AS internal,
                   t.url IS NOT NULL AS to_a_page
            FROM {links} l LEFT JOIN page_facts s ON s.url = l.source LEFT JOIN page_facts t ON t.url = l.target
        """)
    finally:
        con.execute("RESET threads")
        con.execute("RESET disabled_optimizers")
    for (kind,) in con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'links'").fetchall():
        con.execute("DROP VIEW links" if kind == "VIEW" else "DROP TABLE links")
    con.execute("DROP TABLE IF EXISTS link_facts")
    con.execute("ALTER TABLE facts_of_links RENAME TO link_facts")
    con.execute(f"CREATE VIEW links AS SELECT {', '.join(COLUMNS)} FROM link_facts")
    return pd.Index(urls)


def _sql_list(values: Iterable[Any]) -> str:
    """A SQL list literal of texts."""
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]::VARCHAR[]"


def database_path(conn: sqlite3.Connection) -> str:
    """The file of the store ``conn`` is open on ('' for an in-memory one)."""
    (path,) = [row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
    return path


def _links_span(conn: sqlite3.Connection, crawl_id: int) -> int:
    """How many links the crawl has, about: the span of their rowids (links_by_crawl_id finds
    both ends at once; a count would read 20M index entries), more if crawls interleaved."""
    ends = [conn.execute(f"SELECT rowid FROM links WHERE crawl_id = ? ORDER BY rowid {order} LIMIT 1",
                         (crawl_id,)).fetchone() for order in ("ASC", "DESC")]
    return 0 if ends[0] is None else ends[1][0] - ends[0][0] + 1


@contextlib.contextmanager
def _store_batches(conn: sqlite3.Connection, crawl_id: int) -> Iterator[pa.RecordBatchReader]:
    """The crawl's links (_STORE_QUERY) as a stream of Arrow batches."""
    path = database_path(conn)
    if path:
        with _adbc_cursor(path) as cursor:
            cursor.execute(_STORE_QUERY, (crawl_id,))
            yield cursor.fetch_record_batch()
        return
    schema = pa.schema([("row", pa.int64()), ("source", pa.string()), ("target", pa.string()),
                        ("kind", pa.string()), ("anchor", pa.string()), ("no_anchor", pa.int64()),
                        ("nofollow", pa.int64()), ("seen_in", pa.string())])
    yield pa.RecordBatchReader.from_batches(schema, _rows_table(conn, _STORE_QUERY, (crawl_id,), schema).to_batches())


@contextlib.contextmanager
def _read_ahead(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatchReader]:
    """``reader``'s batches, each next one read by a thread of its own while the one before is
    consumed: the store is read (SQLite, in C, without the GIL) while DuckDB's one thread makes
    link_facts, or the pages' batch before becomes the frame's columns."""
    batches = iter(reader)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="seo-audit-store") as pool:
        def ahead() -> Iterator[pa.RecordBatch]:
            coming = pool.submit(next, batches, None)
            while (batch := coming.result()) is not None:
                coming = pool.submit(next, batches, None)
                yield batch

        yield pa.RecordBatchReader.from_batches(reader.schema, ahead())


@contextlib.contextmanager
def store_snapshot(conn: sqlite3.Connection) -> Iterator[Callable[[str, tuple[Any, ...], pa.Schema], Iterator[pa.RecordBatch]]]:
    """A reader of the store ``conn`` is open on, every query from one snapshot even while a crawl
    writes: ``read(sql, params, schema)`` gives the rows as Arrow batches of ``schema`` (BATCH_ROWS
    rows), read in C (no row becomes Python objects) a batch ahead (_read_ahead): close one
    ``read``'s batches, or take them all, before the next. The reader infers a column's type from the
    first batch, so the rows must give every column a value of its type there (a NULL has none)."""
    path = database_path(conn)
    if not path:  # an in-memory store (tests): read by this connection, in one transaction
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            yield lambda sql, params, schema: iter(_rows_table(conn, sql, params, schema).to_batches(BATCH_ROWS))
        finally:
            if own:
                conn.rollback()
        return
    with _adbc_cursor(path) as cursor:  # not autocommit: one read transaction, one snapshot

        def read(sql: str, params: tuple[Any, ...], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
            cursor.execute(sql, params)
            with _read_ahead(cursor.fetch_record_batch()) as batches:
                for batch in batches:
                    yield batch.cast(schema)

        yield read


@contextlib.contextmanager
def _adbc_cursor(path: str) -> Iterator[Any]:
    """A cursor of adbc-driver-sqlite on the store file ``path``, read-only, BATCH_ROWS a batch."""
    import adbc_driver_sqlite.dbapi

    with adbc_driver_sqlite.dbapi.connect(Path(path).resolve().as_uri() + "?mode=ro") as reader_conn, \
            reader_conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
        yield cursor


def _rows_table(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...], schema: pa.Schema) -> pa.Table:
    """``sql``'s rows read by ``conn`` (DuckDB reads on its own threads: not from this one), as Arrow."""
    rows = conn.execute(sql, params).fetchall()
    columns = list(zip(*rows)) or [[] for _ in schema]
    return pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in zip(columns, schema)], schema=schema)
