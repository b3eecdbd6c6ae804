"""Writes crawl records to the store in batches, on a thread of its own.

The crawl hands over *bundles* (a page's row, its links, the URLs it added to the
frontier) and never waits for the disk. A bundle is committed whole or not at all, so a
crawl killed at any instant leaves a store in which every recorded page has its links
and its discoveries: a resume re-fetches the pages whose bundle was lost, nothing else.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from pathlib import Path
from typing import Any

from . import store

_WRITERS = {
    "pages": store.insert_pages,
    "links": store.insert_links,
    "sitemap_urls": store.insert_sitemap_urls,
    "rechecks": store.insert_rechecks,
    "frontier": store.insert_frontier,
    "shared_crawls": store.insert_shared_progress,
    "certificates": store.insert_certificates,
    "extractions": store.insert_extractions,
    "search_matches": store.insert_search_matches,
}

#: a batch is committed when it holds this many bundles or the queue runs dry
BATCH_BUNDLES = 500


class StoreWriter:
    def __init__(self, path: str | Path, crawl_id: int):
        self.crawl_id = crawl_id
        self.error: Exception | None = None
        self.bundles_written = 0
        self._queue: queue.Queue = queue.Queue()
        self._path = Path(path)
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def put(self, bundle: dict[str, list[tuple]]) -> None:
        """Queue one bundle: {table name: rows}. Raises StoreError once the disk has failed."""
        if self.error is not None:
            raise store.StoreError(f"the crawl store could not be written: {self.error}")
        self._queue.put(bundle)

    def flush(self) -> None:
        """Block until everything queued so far is committed."""
        done = threading.Event()
        self._queue.put(done)
        done.wait()
        if self.error is not None:
            raise store.StoreError(f"the crawl store could not be written: {self.error}")

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = store.connect(self._path)
        except store.StoreError as exc:
            self.error = exc
        while True:
            first = self._queue.get()
            batch: list[Any] = [first]
            while len(batch) < BATCH_BUNDLES:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            bundles = [b for b in batch if isinstance(b, dict)]
            if bundles and conn is not None and self.error is None:
                try:
                    self._commit(conn, bundles)
                except sqlite3.Error as exc:  # disk full, read-only, corrupted
                    self.error = exc
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is None for item in batch):
                if conn is not None:
                    conn.close()
                return

    def _commit(self, conn: sqlite3.Connection, bundles: list[dict]) -> None:
        merged: dict[str, list[tuple]] = {}
        for bundle in bundles:
            for table, rows in bundle.items():
                merged.setdefault(table, []).extend(rows)
        with conn:
            for table, rows in merged.items():
                if rows:
                    _WRITERS[table](conn, self.crawl_id, rows)
        self.bundles_written += len(bundles)
