"""The crawl frontier: which URLs are still to fetch, in discovery (breadth-first) order.

Scrapy's own scheduler keeps every pending Request in memory (about 3 KB each) and its
dupe filter drops a redirect to an already-seen URL. Here a URL enters the frontier once,
as a small tuple, and becomes a Request only when the downloader has room for it. Past
``memory_limit`` entries the frontier lives in the store only and is read back in order,
so memory stays flat however large the site. Every entry is also written to the store's
frontier table, which is what makes ``--resume`` exact after a SIGKILL.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import NamedTuple, Protocol

from scrapy import Request, Spider
from scrapy.core.scheduler import BaseScheduler


class Entry(NamedTuple):
    seq: int
    url: str
    fetch_kind: str  # page or resource
    found_via: str
    depth: int | None
    referrer: str | None
    pattern_run: int  # how many same-pattern pages in a row led here (see session.discover)


class FrontierLike(Protocol):
    """What the session, the scheduler and the spider ask of a frontier: the in-memory
    Frontier below, or crawler.distributed.SharedFrontier (Redis, shared by many workers)."""

    def mark_seen(self, url: str) -> bool: ...

    def pop(self) -> Entry | None: ...

    def has_pending(self) -> bool: ...

    def __len__(self) -> int: ...


class Frontier:
    def __init__(self, memory_limit: int = 5000):
        self.memory_limit = memory_limit
        self._seen: set[int] = set()
        self._pending: deque[Entry] = deque()
        self._next_seq = 0
        # set while newer entries exist only in the store; read back from _load_from_seq on
        self._spilled = False
        self._load_from_seq = 0
        self._reader: sqlite3.Connection | None = None
        self._crawl_id: int | None = None
        self._flush = None

    def attach_store(self, reader: sqlite3.Connection, crawl_id: int, flush) -> None:
        """Where spilled entries are read back from; ``flush`` commits pending writes first."""
        self._reader, self._crawl_id, self._flush = reader, crawl_id, flush

    def mark_seen(self, url: str) -> bool:
        """Remember ``url``; False if it was already known."""
        key = hash(url)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def push(self, url: str, fetch_kind: str, found_via: str, depth: int | None,
             referrer: str | None, pattern_run: int = 0) -> Entry:
        """Queue a URL already marked seen; the caller persists the returned entry."""
        entry = Entry(self._next_seq, url, fetch_kind, found_via, depth, referrer, pattern_run)
        self._next_seq += 1
        if self._spilled or len(self._pending) >= self.memory_limit:
            if not self._spilled:
                self._spilled, self._load_from_seq = True, entry.seq
        else:
            self._pending.append(entry)
        return entry

    def pop(self) -> Entry | None:
        if not self._pending and self._spilled:
            self._read_back()
        return self._pending.popleft() if self._pending else None

    def has_pending(self) -> bool:
        return bool(self._pending) or self._spilled

    def __len__(self) -> int:
        return len(self._pending)

    def resume(self, reader: sqlite3.Connection, crawl_id: int) -> int:
        """Rebuild from the store: seen = every URL recorded or queued; pending = queued, not recorded."""
        for (url,) in reader.execute("SELECT url FROM frontier WHERE crawl_id = ?", (crawl_id,)):
            self._seen.add(hash(url))
        for (url,) in reader.execute("SELECT url FROM pages WHERE crawl_id = ?", (crawl_id,)):
            self._seen.add(hash(url))
        row = reader.execute("SELECT max(seq) FROM frontier WHERE crawl_id = ?", (crawl_id,)).fetchone()
        self._next_seq = (row[0] + 1) if row and row[0] is not None else 0
        self._spilled, self._load_from_seq = True, 0
        (left,) = reader.execute(
            "SELECT count(*) FROM frontier f WHERE crawl_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM pages p WHERE p.crawl_id = f.crawl_id AND p.url = f.url)",
            (crawl_id,)).fetchone()
        return left

    def _read_back(self) -> None:
        assert self._reader is not None, "a spilled frontier needs attach_store()"
        self._flush()
        batch = max(1000, self.memory_limit // 2)
        rows = self._reader.execute(
            "SELECT seq, url, fetch_kind, found_via, depth, referrer, pattern_run FROM frontier f "
            "WHERE crawl_id = ? AND seq >= ? AND NOT EXISTS "
            "(SELECT 1 FROM pages p WHERE p.crawl_id = f.crawl_id AND p.url = f.url) "
            "ORDER BY seq LIMIT ?", (self._crawl_id, self._load_from_seq, batch)).fetchall()
        self._pending.extend(Entry(*r) for r in rows)
        if rows:
            self._load_from_seq = rows[-1][0] + 1
        if len(rows) < batch:  # caught up: everything spilled is now in memory
            self._spilled = False


class FrontierScheduler(BaseScheduler):
    """Scrapy scheduler over the Frontier.

    Requests that Scrapy's components hand back (retries, robots.txt and sitemap fetches,
    202 re-checks) go first, in a small queue of their own; then frontier entries, each
    turned into a Request by the spider only when the downloader asks for one.
    """

    def __init__(self):
        self._direct: deque[Request] = deque()
        self._spider = None
        self._frontier: FrontierLike | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def open(self, spider: Spider):
        self._spider = spider
        self._frontier = spider.session.frontier
        return None

    def close(self, reason: str):
        return None

    def has_pending_requests(self) -> bool:
        return bool(self._direct) or self._frontier.has_pending()

    def enqueue_request(self, request: Request) -> bool:
        self._direct.append(request)
        return True

    def next_request(self) -> Request | None:
        if self._direct:
            return self._direct.popleft()
        renderer = getattr(self._spider, "renderer", None)
        if renderer is not None and renderer.backlogged:
            return None  # renders are behind: fetching more pages would only queue more
        while (entry := self._frontier.pop()) is not None:
            if self._spider.session.sampled_out_now(entry):
                continue
            request = self._spider.request_for(entry)
            if request is not None:
                return request
        return None

    def __len__(self) -> int:
        return len(self._direct) + len(self._frontier)
