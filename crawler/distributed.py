"""One crawl, many processes: a shared frontier in Redis (`crawl --redis URL` + `worker --redis URL`).

The coordinator (``seo-audit crawl URL --redis redis://...``) owns the crawl store. It fetches
robots.txt, seeds the start URL and the sitemaps, and crawls like any worker; once the whole
crawl is quiet it merges sitemap-only URLs, re-checks every 202, and writes the end. Workers
(``seo-audit worker --redis redis://...``) read the crawl's options from Redis and fetch what
the shared queue hands them. Every process sends each page's records to Redis; the coordinator
collects them into its StoreWriter, so the store, the audit and the report are those of a
single-process crawl.

Guarantees, and how (scrapy-redis 0.9.1 misses each; see README "Crawling beyond one machine"):

- One fetch per URL: every URL, the start URL and sitemaps included, enters the shared seen set
  (SADD) before it is queued. Skip verdicts (scope, robots.txt, depth, runs) are made where the
  URL was found; the shared ones (trap cap, max pages) are made in Redis, in the same script.
- Nothing lost to a SIGKILL: popping an entry leases it to the worker (a Redis hash per worker);
  the lease is released in the same script that commits the page's records, so a page counts as
  done exactly when its records exist. Workers refresh a heartbeat key; any process re-queues
  the leases of a worker whose heartbeat lapsed (``RECONCILE``), at the head of the queue.
- The crawl ends when the queue is empty and no worker holds a lease (``QUIET``), as the
  coordinator sees it; no worker deletes shared keys when it leaves; the coordinator deletes
  them after the end. A worker may leave after ``max_idle`` seconds of one idle stretch.
- The crawl outlives its coordinator: records wait in Redis until the store has committed them
  (commit, then acknowledge: each message has an id, and the store keeps the last id committed
  in the same transaction as the rows), so a coordinator killed at any instant loses none and
  ``crawl --redis --resume`` re-attaches, committing each exactly once. Workers go on meanwhile,
  for ``redis_coordinator_timeout`` seconds without a coordinator's heartbeat, then stop.
- One round trip per page: the page's links, records and lease release go in one Lua script.
- JSON everywhere (entries, records, robots.txt); nothing in Redis is ever unpickled.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import socket
import time
from collections import deque
from pathlib import Path
from typing import Callable

try:
    import redis
except ImportError as exc:  # an optional extra
    raise ImportError("a crawl shared through Redis needs the redis client: "
                      "pip install 'seo-audit[redis]'") from exc
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from . import store
from .frontier import Entry
from .options import CrawlOptions, redacted_url
from .robots import RobotsPolicy
from .session import Bundle, CrawlSession, skipped_row
from .spiders.site import SiteSpider
from .urls import normalise, origin, resolve, trap_pattern

logger = logging.getLogger(__name__)

#: names the crawl now running on this Redis database; everything else is under seo-audit:<crawl>:
CURRENT_KEY = "seo-audit:current"
#: seconds between an idle process's looks at the shared queue
POLL_INTERVAL = 0.1
#: URLs met per settle round trip: a page with more is sent in several, its records last
MAX_FOUND_PER_TRIP = 2000
#: records the coordinator takes per LPOP, and LPOPs per poll (so one poll stays short)
DRAIN_BATCH = 500
DRAINS_PER_POLL = 10
#: how long the coordinator waits, past one lease TTL, for workers to leave after the end (and a
#: re-attaching coordinator for the heartbeat of the one it replaces to lapse)
LEAVE_GRACE = 5.0
_URL_COLUMN = list(store.PAGE_COLUMNS).index("url")
_ALREADY_RUNNING = ("a crawl is already running on {where} "
                    "(one crawl per Redis database: use another database number)")
_ORPHANED = ("the crawl of {url} on {where} lost its coordinator; its workers wait for one: "
             "run that crawl again with --resume to finish it (or wait {timeout:g} s for it to be abandoned)")

# Each script is one atomic step on the shared crawl; ARGV and KEYS are named at the top.
POP = """
-- KEYS: queue, leases:<worker>, workers   ARGV: worker id
local entry = redis.call('RPOP', KEYS[1])
if entry then
  redis.call('HSET', KEYS[2], cjson.decode(entry)[2], entry)
  redis.call('HSET', KEYS[3], ARGV[1], 1)  -- registered with its lease, so reconcile finds it
end
return entry
"""

SETTLE = """
-- KEYS: seen, queue, patterns, admitted, seq, records, leases:<worker>, messages
-- ARGV: trap_cap, max_pages, records JSON ('' for none), n, n leased URLs these records settle,
--       then per URL met: url, its entry JSON after the seq ('"url",kind,...]'), skip reason
--       ('' if none yet), trap pattern ('' if none)
-- A settled lease that is gone (its worker was presumed dead, the URL re-queued) voids all:
-- whoever fetches the URL again records it.
local n = tonumber(ARGV[4])
for i = 5, 4 + n do
  if redis.call('HEXISTS', KEYS[7], ARGV[i]) == 0 then return -1 end
end
for i = 5, 4 + n do redis.call('HDEL', KEYS[7], ARGV[i]) end
local trap_cap, max_pages = tonumber(ARGV[1]), tonumber(ARGV[2])
local found = {}
for i = 5 + n, #ARGV, 4 do
  local tail, skip, pattern = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    if skip == '' and pattern ~= '' and redis.call('HINCRBY', KEYS[3], pattern, 1) > trap_cap then
      skip = 'trap'
    end
    if skip == '' and tonumber(redis.call('GET', KEYS[4]) or '0') >= max_pages then
      skip = 'max-pages'
    end
    if skip == '' then
      redis.call('INCR', KEYS[4])
      local entry = '[' .. (redis.call('INCR', KEYS[5]) - 1) .. ',' .. tail
      redis.call('LPUSH', KEYS[2], entry)
      found[#found + 1] = entry
    else
      found[#found + 1] = '["' .. skip .. '",' .. tail
    end
  end
end
if ARGV[3] ~= '' or #found > 0 then
  local records = ARGV[3] ~= '' and ARGV[3] or '{}'
  redis.call('RPUSH', KEYS[6], '{"id":' .. redis.call('INCR', KEYS[8]) .. ',"records":' .. records ..
             ',"found":[' .. table.concat(found, ',') .. ']}')
end
return #found
"""

RECONCILE = """
-- KEYS: workers, queue, stats   ARGV: key prefix
-- Workers whose heartbeat lapsed: their leases go back to the head of the queue.
local requeued = 0
for _, worker in ipairs(redis.call('HKEYS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. worker) == 0 then
    local leases = ARGV[1] .. 'leases:' .. worker
    for _, entry in ipairs(redis.call('HVALS', leases)) do
      redis.call('RPUSH', KEYS[2], entry)
      requeued = requeued + 1
    end
    redis.call('DEL', leases)
    redis.call('HDEL', KEYS[1], worker)
  end
end
if requeued > 0 then redis.call('HINCRBY', KEYS[3], 'distributed/requeued', requeued) end
return requeued
"""

QUIET = """
-- KEYS: queue, workers   ARGV: key prefix
-- 1 when nothing is queued and no worker holds a lease: the crawl has nothing left in flight.
if redis.call('LLEN', KEYS[1]) > 0 then return 0 end
for _, worker in ipairs(redis.call('HKEYS', KEYS[2])) do
  if redis.call('HLEN', ARGV[1] .. 'leases:' .. worker) > 0 then return 0 end
end
return 1
"""


CLAIM = """
-- KEYS: current   ARGV: new crawl, its coordinator, coordinator timeout (ms), lease TTL (ms)
-- A crawl stands while its coordinator key lives (refreshed by the coordinator's heartbeat,
-- kept redis_coordinator_timeout after its death, for --resume); past that it is abandoned.
-- Key names as CrawlKeys makes them.
local running = redis.call('GET', KEYS[1])
if running and redis.call('EXISTS', 'seo-audit:' .. running .. ':coordinator') == 1 then
  return {0, running}
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', 'seo-audit:' .. ARGV[1] .. ':coordinator', ARGV[2], 'PX', ARGV[3])
redis.call('SET', 'seo-audit:' .. ARGV[1] .. ':alive:' .. ARGV[2], 1, 'PX', ARGV[4])
return {1, running or ''}
"""


LEAD = """
-- KEYS: coordinator, records   ARGV: this coordinator, timeout (ms), record messages to trim
-- The coordinator's heartbeat (ARGV[3] = 0) or acknowledgement, if it still is the coordinator
-- (one that stalled past its heartbeat may have been replaced): 0 if another one took over.
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('LTRIM', KEYS[2], ARGV[3], -1) end
return 1
"""


class CrawlKeys:
    """The Redis keys of one shared crawl, all under ``seo-audit:<crawl>:``."""

    def __init__(self, crawl: str):
        self.crawl = crawl
        self.prefix = f"seo-audit:{crawl}:"
        self.options = self.prefix + "options"  # CrawlOptions as JSON
        self.seen = self.prefix + "seen"  # set: every URL met (the shared dupe filter)
        self.queue = self.prefix + "queue"  # list of entry JSON: LPUSH new, RPOP next (FIFO)
        self.workers = self.prefix + "workers"  # hash: the ids (host:pid:token) of registered workers
        self.records = self.prefix + "records"  # list: one message per page, for the coordinator
        self.robots = self.prefix + "robots"  # hash: origin -> [status, body]
        self.patterns = self.prefix + "patterns"  # hash: trap pattern -> URLs admitted
        self.admitted = self.prefix + "admitted"  # URLs admitted (max_pages)
        self.seq = self.prefix + "seq"  # discovery order of admitted URLs
        self.stats = self.prefix + "stats"  # hash: counters of workers that left
        self.done = self.prefix + "done"  # the close reason, once the crawl is over
        self.messages = self.prefix + "messages"  # the id of the last record message
        # the coordinator's worker id, while it lives and redis_coordinator_timeout after
        self.coordinator = self.prefix + "coordinator"

    def leases(self, worker: str) -> str:
        return f"{self.prefix}leases:{worker}"

    def alive(self, worker: str) -> str:
        return f"{self.prefix}alive:{worker}"


#: how this project's connections are named in Redis' CLIENT LIST
CLIENT_NAME, WAITING_WORKER_NAME = "seo-audit", "seo-audit-waiting-worker"


def connect(url: str, name: str = CLIENT_NAME) -> redis.Redis:
    """A client for ``url`` (redis://user:password@host:port/db, rediss:// for TLS)."""
    # bounded: a hung Redis must not freeze the crawl's event loop for long
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10,
                                health_check_interval=30, client_name=name)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class SharedFrontier:
    """The frontier of a crawl shared through Redis (a crawler.frontier.FrontierLike).

    ``pop`` leases the oldest entry to this worker; ``settle`` commits one page: the URLs met
    on it, its records, the release of its lease. This object holds no entries itself.
    ``recorded`` (a resumed coordinator's): whether the store has a record of a URL, so that
    the robots.txt and sitemap fetches a dead coordinator had in flight are made again.
    """

    def __init__(self, client: redis.Redis, keys: CrawlKeys, worker: str, options: CrawlOptions,
                 recorded: Callable[[str], bool] | None = None):
        self.client, self.keys, self.worker, self.options = client, keys, worker, options
        self._recorded = recorded
        self._asked_again: set[str] = set()
        self.leased: set[str] = set()  # URLs this worker holds leases on
        self._sent: set[int] = set()  # URLs already in the shared seen set: not worth sending
        self._last_pop_found = False
        self._pop = client.register_script(POP)
        self._settle = client.register_script(SETTLE)
        self._reconcile = client.register_script(RECONCILE)
        self._quiet = client.register_script(QUIET)
        self._reconcile_keys = [keys.workers, keys.queue, keys.stats]

    # --- FrontierLike ------------------------------------------------------------------------
    def mark_seen(self, url: str) -> bool:
        """Add ``url`` to the shared seen set now (robots.txt and sitemap URLs, which the
        coordinator fetches itself); False if known, unless lost with an earlier coordinator."""
        self._sent.add(hash(url))
        if self.client.sadd(self.keys.seen, url):
            return True
        if self._recorded is None or url in self._asked_again:
            return False
        self._asked_again.add(url)
        return not self._recorded(url)

    def pop(self) -> Entry | None:
        raw = self._pop(keys=[self.keys.queue, self.keys.leases(self.worker), self.keys.workers],
                        args=[self.worker])
        self._last_pop_found = raw is not None
        if raw is None:
            return None
        entry = Entry(*json.loads(raw))
        self.leased.add(entry.url)
        return entry

    def has_pending(self) -> bool:
        """Whether the last pop found an entry (then there may be more): asked after every
        response, so it answers without a round trip."""
        return self._last_pop_found

    def __len__(self) -> int:
        return self.client.llen(self.keys.queue)

    # --- pages -------------------------------------------------------------------------------
    def new_here(self, url: str) -> bool:
        """False if this process already sent ``url`` for a verdict (the shared set has it)."""
        key = hash(url)
        if key in self._sent:
            return False
        self._sent.add(key)
        return True

    def settle(self, records: dict[str, list], found: list[tuple[str, str, str, str]]) -> bool:
        """Commit one page in one round trip (more only past MAX_FOUND_PER_TRIP URLs met).

        ``records`` are the page's rows by table; the leases of the URLs they record are
        released with them. ``found``: (url, entry JSON after the seq, skip, pattern) per URL.
        False if a lease was lost (the page is re-queued; its records are dropped).
        """
        acks = sorted({row[_URL_COLUMN] for row in records.get("pages", ())} & self.leased)
        if not records and not found and not acks:
            return True
        chunks = [found[i:i + MAX_FOUND_PER_TRIP] for i in range(0, len(found), MAX_FOUND_PER_TRIP)]
        keys = [self.keys.seen, self.keys.queue, self.keys.patterns, self.keys.admitted,
                self.keys.seq, self.keys.records, self.keys.leases(self.worker), self.keys.messages]
        limits = [self.options.trap_cap, self.options.max_pages]
        for chunk in chunks[:-1]:  # URLs first: a kill between trips loses nothing, re-fetching finds them seen
            self._settle(keys=keys, args=[*limits, "", 0, *(v for c in chunk for v in c)])
        last = chunks[-1] if chunks else []
        payload = json.dumps(records, default=_bytes_as_json) if records else ""
        result = self._settle(keys=keys, args=[*limits, payload, len(acks), *acks,
                                               *(v for c in last for v in c)])
        self.leased.difference_update(acks)
        return result != -1

    def drop_orphans(self) -> int:
        """Release leases no request carries any more (a callback that raised): called when
        this process has nothing in flight, so the crawl can still end. The page is lost,
        as it would be in a single-process crawl."""
        orphans = sorted(self.leased)
        if orphans:
            self.client.hdel(self.keys.leases(self.worker), *orphans)
            self.leased.clear()
        return len(orphans)

    # --- the crawl's life --------------------------------------------------------------------
    def heartbeat(self) -> int:
        """Say this worker is alive and re-queue the leases of dead ones (their count)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.keys.alive(self.worker), "1", px=int(self.options.redis_lease_ttl * 1000))
        pipe.hset(self.keys.workers, self.worker, 1)
        self._reconcile(keys=self._reconcile_keys, args=[self.keys.prefix], client=pipe)
        return pipe.execute()[-1]

    def quiet(self) -> bool:
        """True when nothing is queued and no live worker holds a lease."""
        self._reconcile(keys=self._reconcile_keys, args=[self.keys.prefix])
        return bool(self._quiet(keys=[self.keys.queue, self.keys.workers], args=[self.keys.prefix]))

    def leave(self) -> int:
        """Hand this worker's leases back to the queue and unregister (the count handed back)."""
        self.client.delete(self.keys.alive(self.worker))
        self.leased.clear()
        return self._reconcile(keys=self._reconcile_keys, args=[self.keys.prefix])


class IdleStretch:
    """How long a worker has had nothing to do, counted from the start of this idle stretch
    (scrapy-redis counts from import time, so a worker busy for an hour closes at its first
    idle moment)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._since: float | None = None

    def busy(self) -> None:
        self._since = None

    def idle_for(self) -> float:
        """Seconds idle so far; the first call of a stretch starts it."""
        now = self._clock()
        if self._since is None:
            self._since = now
        return now - self._since


# --- sessions ----------------------------------------------------------------------------------
class SharedAdmission:
    """discover/record on a SharedFrontier: mixed into a CrawlSession (see CrawlSession)."""

    frontier: SharedFrontier

    def discover(self, url: str, bundle: Bundle, *, fetch_kind: str = "page",
                 found_via: str = "link", depth: int | None = None,
                 referrer: str | None = None, parent: Entry | None = None) -> None:
        """Note ``url`` in ``bundle.found``; Redis gives the verdict when the bundle is recorded.

        Returns None: whether the URL is new is known only then (see SharedFrontier.settle).
        """
        if not self.frontier.new_here(url):
            return None
        if parent is not None:
            referrer = referrer or parent.url
        run = self._pattern_run(url, parent)
        skip, _ = self._rule_skip_reason(url, depth, run)
        pattern = trap_pattern(url) if "?" in url and not skip else ""
        tail = json.dumps([url, fetch_kind, found_via, depth, referrer, run])[1:]
        bundle.found.append((url, tail, skip or "", pattern or ""))
        return None

    def record(self, bundle: Bundle) -> None:
        if not self.frontier.settle(bundle.as_dict(), bundle.found):
            self.stats["distributed/lease-lost"] += 1
            logger.warning("a lease expired before its page was recorded (a heartbeat lapsed): "
                           "the page is re-queued and its records dropped")


class WorkerSession(SharedAdmission, CrawlSession):
    """A session with no store: frontier, dupe filter and counts in Redis, records sent there."""

    def __init__(self, options: CrawlOptions, client: redis.Redis, keys: CrawlKeys):
        self._init_rules(options)
        self.client, self.keys = client, keys
        self.frontier = SharedFrontier(client, keys, worker_name(), options)
        self.resumed_pending = None

    def robots_pending(self) -> bool:
        """robots.txt is fetched by the coordinator: read the answers it published."""
        if super().robots_pending():
            for site, (status, body) in published_robots(self.client, self.keys).items():
                self.robots[site] = RobotsPolicy.from_response(status, body)
        return super().robots_pending()

    def _rule_skip_reason(self, url: str, depth: int | None, run: int) -> tuple[str | None, str | None]:
        self.robots_pending()  # a worker's first verdicts may come before its first idle poll
        return super()._rule_skip_reason(url, depth, run)

    def flush(self) -> None:
        """Nothing to flush: each record is in Redis once record() returns."""

    def crawl_over(self) -> str | None:
        """The reason the shared crawl ended, or None while it goes on (a coordinator that
        stopped answering is waited for, redis_coordinator_timeout s after its last heartbeat)."""
        current, done, coordinator = (self.client.pipeline().get(CURRENT_KEY).get(self.keys.done)
                                      .exists(self.keys.coordinator).execute())
        if done is not None:
            return done.decode()
        return None if current == self.keys.crawl.encode() and coordinator else "coordinator-gone"

    def close(self, reason: str, stats: dict) -> None:
        """Leave the crawl: leases back to the queue, counters to the coordinator."""
        handed_back = self.frontier.leave()
        counts = {**self.stats, "distributed/workers": 1,
                  "distributed/fetched-by-workers": self.stats["fetched"]}
        pipe = self.client.pipeline()
        for name, value in counts.items():
            pipe.hincrby(self.keys.stats, name, value)
        pipe.execute()
        logger.info("left the shared crawl (%s); %d leased URLs handed back", reason, handed_back)


class CoordinatorSession(SharedAdmission, CrawlSession):
    """The session of `crawl --redis`: the store, and the shared crawl's start and end. With
    ``resume``, it re-attaches to the crawl its store's unfinished one is on Redis (or, if
    Redis lost it, shares that crawl anew from what the store holds)."""

    def __init__(self, options: CrawlOptions, client: redis.Redis):
        options.validate()
        self.client = client
        self._worker = worker_name()
        self.keys: CrawlKeys | None = None
        self.resumed = False
        self.replaced = False  # another coordinator took over: the shared crawl is its own now
        #: origin -> (status, body) of its last robots.txt answer, published for the workers
        self.robots_answers: dict[str, tuple[int | None, str]] = {}
        #: ids of the record messages read from Redis and not yet trimmed there, oldest first
        self._unacked: deque[int] = deque()
        #: messages up to this id were committed by an earlier coordinator of the crawl
        self._committed_before = 0
        self._lead = client.register_script(LEAD)
        try:
            super().__init__(options)
        except BaseException:
            if self.keys is not None and not self.resumed:
                forget_crawl(client, self.keys)
            raise
        if self.resumed:  # what workers sent meanwhile, in the store before anything is read from it
            self.flush()

    def lead(self, acknowledged: int = 0) -> bool:
        """Refresh this coordinator's heartbeat, trimming ``acknowledged`` record messages; False
        if another coordinator took over the crawl (this one stalled past its heartbeat)."""
        if not self._lead(keys=[self.keys.coordinator, self.keys.records], args=[
                self._worker, int(self.options.redis_coordinator_timeout * 1000), acknowledged]):
            self.replaced = True
        return not self.replaced

    def _new_frontier(self, resumed: bool) -> SharedFrontier:
        self.resumed_pending = None
        self.resumed = resumed
        keys = reattach(self.client, self.conn, self.crawl_id, self.options) if resumed else None
        if keys is not None:
            self.keys = keys
            self._committed_before = store.shared_progress(self.conn, self.crawl_id)[1]
            take_over(self.client, keys, self._worker, self.options)
            for site, answer in published_robots(self.client, keys).items():
                self.robots_answers[site] = answer
                self.robots[site] = RobotsPolicy.from_response(*answer)
            logger.info("re-attached to shared crawl %s (crawl %d)", keys.crawl, self.crawl_id)
        else:
            self.keys = claim_crawl(self.client, self.options, self._worker)
            if resumed:
                republish(self.client, self.keys, self.conn, self.crawl_id)
            store.set_shared_crawl(self.conn, self.crawl_id, self.keys.crawl)
        return SharedFrontier(self.client, self.keys, self._worker, self.options,
                              recorded=self._recorded if resumed else None)

    def _recorded(self, url: str) -> bool:
        return self.conn.execute("SELECT 1 FROM pages WHERE crawl_id = ? AND url = ?",
                                 (self.crawl_id, url)).fetchone() is not None

    def sitemap_index_children(self) -> list[tuple[str, str]]:
        """(sitemap, index) listed by the sitemap indexes recorded: on a resume, the ones a
        dead coordinator had in flight are fetched again (SharedFrontier.mark_seen)."""
        if not self.resumed:
            return []
        return self.conn.execute("SELECT target, source FROM links WHERE crawl_id = ? AND kind = 'sitemap'",
                                 (self.crawl_id,)).fetchall()

    def set_robots(self, origin_url: str, policy: RobotsPolicy) -> None:
        super().set_robots(origin_url, policy)
        answer = self.robots_answers.get(origin_url, (None, ""))
        self.client.hset(self.keys.robots, origin_url, json.dumps(answer))

    def collect(self, batches: int = DRAINS_PER_POLL) -> int:
        """Hand up to ``batches`` x DRAIN_BATCH page messages from Redis to the store writer.

        Commit, then acknowledge: a message is read where it lies and trimmed from Redis once
        the store's mark (written with its rows) has passed its id, so a coordinator killed at
        any instant loses none; one that re-attaches skips those already committed."""
        self._acknowledge()
        moved = 0
        for _ in range(batches):
            start = len(self._unacked)
            messages = self.client.lrange(self.keys.records, start, start + DRAIN_BATCH - 1)
            if not messages:
                break
            for raw in messages:
                message = json.loads(raw, object_hook=_json_as_bytes)
                self._unacked.append(message["id"])
                if message["id"] > self._committed_before:
                    self.writer.put({**self._rows(message),
                                     "shared_crawls": [(self.keys.crawl, message["id"])]})
            moved += len(messages)
        return moved

    def _acknowledge(self) -> None:
        """Trim from Redis the messages the store has committed."""
        if not self._unacked:
            return
        (_, committed) = store.shared_progress(self.conn, self.crawl_id)
        done = 0
        while done < len(self._unacked) and self._unacked[done] <= committed:
            done += 1
        if done and self.lead(done):
            for _ in range(done):
                self._unacked.popleft()

    def _rows(self, message: dict) -> dict[str, list]:
        """A page message as store rows: its records, plus a frontier row per URL admitted
        and a skipped row per URL refused (first element: the seq, or the skip reason)."""
        tables = message["records"]
        for verdict, url, fetch_kind, found_via, depth, referrer, run in message["found"]:
            if isinstance(verdict, int):
                tables.setdefault("frontier", []).append(
                    (verdict, url, fetch_kind, found_via, depth, referrer, run))
                continue
            policy = self.robots.get(origin(url))
            rule = policy.blocking_rule(url, self.user_agent) if verdict == "robots" and policy else None
            self.stats[f"skipped/{verdict}"] += 1
            tables.setdefault("pages", []).append(
                skipped_row(url, fetch_kind, found_via, depth, referrer, verdict, rule))
        return tables

    def flush(self) -> None:
        """Everything sent to Redis so far, committed to the store."""
        backlog = self.client.llen(self.keys.records) - len(self._unacked)
        self.collect(batches=backlog // DRAIN_BATCH + 1)
        super().flush()
        self._acknowledge()

    def close(self, state: str, stats: dict) -> None:
        """End the shared crawl, then the store's: a Redis failure leaves it incomplete."""
        try:
            if self.replaced:
                state = "incomplete"
            else:
                self._end_shared_crawl(state)
        except redis.RedisError as exc:
            logger.error("Redis failed at the end of the crawl (%s): what was still there is lost", exc)
            state = "incomplete"
        # the merge cannot count the URLs found only in a sitemap: Redis decides which are new
        (self.stats["sitemap/only_in_sitemap"],) = self.conn.execute(
            "SELECT count(*) FROM frontier WHERE crawl_id = ? AND found_via = 'sitemap'",
            (self.crawl_id,)).fetchone()
        super().close(state, stats)

    def _end_shared_crawl(self, state: str) -> None:
        """Workers told, waited for (bounded), their records and counters collected, keys deleted."""
        self.client.set(self.keys.done, state)
        self.frontier.leave()
        deadline = time.monotonic() + self.options.redis_lease_ttl + LEAVE_GRACE
        while time.monotonic() < deadline:
            self.collect()
            self.frontier.quiet()  # forgets workers that died meanwhile
            if not self.client.hlen(self.keys.workers):
                break
            time.sleep(POLL_INTERVAL)
        else:
            logger.warning("workers still registered after the crawl ended: %s",
                           ", ".join(w.decode() for w in self.client.hkeys(self.keys.workers)))
        self.flush()
        for name, value in self.client.hgetall(self.keys.stats).items():
            self.stats[name.decode()] += int(value)
        forget_crawl(self.client, self.keys)


def check_redis(options: CrawlOptions) -> None:
    """Raise RuntimeError, saying why, if a crawl could not start (or, with ``resume``,
    re-attach) on ``options.redis_url``: before Scrapy starts, so the user reads one line
    rather than a traceback. A re-attach waits for the dead coordinator's heartbeat to lapse."""
    where = redacted_url(options.redis_url)
    try:
        client = connect(options.redis_url)
        attached = None
        if options.resume and Path(options.store).exists():
            conn = store.connect(options.store, readonly=True)
            try:
                crawl_id = store.resumable_crawl(conn, normalise(options.start_url), options.job)
                attached = reattach(client, conn, crawl_id, options) if crawl_id is not None else None
            finally:
                conn.close()
        running = client.get(CURRENT_KEY)
        if attached is None and running is not None and client.exists(CrawlKeys(running.decode()).coordinator):
            raise RuntimeError(_refusal(client, CrawlKeys(running.decode()), options))
    except redis.RedisError as exc:
        raise RuntimeError(f"Redis at {where} cannot be used: {exc}") from None


def _refusal(client: redis.Redis, keys: CrawlKeys, options: CrawlOptions) -> str:
    """Why a new crawl cannot start while ``keys``' crawl stands."""
    where = redacted_url(options.redis_url)
    if coordinator_alive(client, keys):
        return _ALREADY_RUNNING.format(where=where)
    shared = json.loads(client.get(keys.options) or "{}")
    return _ORPHANED.format(url=shared.get("start_url", "?"), where=where,
                            timeout=client.pttl(keys.coordinator) / 1000)


def coordinator_alive(client: redis.Redis, keys: CrawlKeys) -> bool:
    """Whether the coordinator of ``keys``' crawl sends heartbeats (within one lease TTL)."""
    coordinator = client.get(keys.coordinator)
    return coordinator is not None and bool(client.exists(keys.alive(coordinator.decode())))


def reattach(client: redis.Redis, conn, crawl_id: int, options: CrawlOptions) -> CrawlKeys | None:
    """The keys of the shared crawl that store crawl ``crawl_id`` is on Redis, once its
    coordinator is gone (waiting, at most one lease TTL, for its heartbeat to lapse); None if
    Redis no longer holds it (restarted, abandoned, or the crawl was never shared)."""
    progress = store.shared_progress(conn, crawl_id)
    if progress is None or client.get(CURRENT_KEY) != progress[0].encode():
        return None
    keys = CrawlKeys(progress[0])
    deadline = time.monotonic() + options.redis_lease_ttl + LEAVE_GRACE
    if coordinator_alive(client, keys):
        logger.info("waiting up to %.0f s for the heartbeat of crawl %d's last coordinator to lapse",
                    deadline - time.monotonic(), crawl_id)
    while coordinator_alive(client, keys):
        if time.monotonic() > deadline:
            raise RuntimeError(_ALREADY_RUNNING.format(where=redacted_url(options.redis_url))
                               + f"; its coordinator (of crawl {crawl_id}) still answers")
        time.sleep(POLL_INTERVAL)
    return keys


def take_over(client: redis.Redis, keys: CrawlKeys, worker: str, options: CrawlOptions) -> None:
    """Become the coordinator of ``keys``' crawl (whose last one is gone)."""
    pipe = client.pipeline()
    pipe.set(keys.coordinator, worker, px=int(options.redis_coordinator_timeout * 1000))
    pipe.set(keys.alive(worker), 1, px=int(options.redis_lease_ttl * 1000))
    pipe.execute()


def claim_crawl(client: redis.Redis, options: CrawlOptions, coordinator: str | None = None) -> CrawlKeys:
    """Start a shared crawl on this Redis database, or refuse if one stands."""
    keys = CrawlKeys(secrets.token_hex(6))
    coordinator = coordinator or worker_name()
    claimed, replaced = client.register_script(CLAIM)(keys=[CURRENT_KEY], args=[
        keys.crawl, coordinator, int(options.redis_coordinator_timeout * 1000),
        int(options.redis_lease_ttl * 1000)])
    if not claimed:
        raise RuntimeError(_refusal(client, CrawlKeys(replaced.decode()), options))
    if replaced:
        logger.warning("abandoned shared crawl %s (no coordinator for %g s) replaced: what its workers "
                       "sent is dropped", replaced.decode(), options.redis_coordinator_timeout)
    # Keys of crawls abandoned or ended badly: nobody uses them now.
    stale = [k for k in client.scan_iter(match="seo-audit:*:*", count=1000) if not k.startswith(keys.prefix.encode())]
    if stale:
        client.delete(*stale)
    shared = options.to_json_dict()
    shared.pop("store")  # the coordinator's path: no business of a worker
    shared["resume"] = False
    client.set(keys.options, json.dumps(shared))
    return keys


def republish(client: redis.Redis, keys: CrawlKeys, conn, crawl_id: int) -> int:
    """Share anew a crawl Redis no longer holds, from its store: every URL recorded or queued
    is seen, the queued ones not recorded are queued again in discovery order (their count)."""
    pipe = client.pipeline(transaction=False)
    for table in ("frontier", "pages"):
        urls = [url for (url,) in conn.execute(f"SELECT url FROM {table} WHERE crawl_id = ?", (crawl_id,))]
        for i in range(0, len(urls), 10_000):
            pipe.sadd(keys.seen, *urls[i:i + 10_000])
    pending = conn.execute(
        "SELECT seq, url, fetch_kind, found_via, depth, referrer, pattern_run FROM frontier f "
        "WHERE crawl_id = ? AND NOT EXISTS (SELECT 1 FROM pages p WHERE p.crawl_id = f.crawl_id "
        "AND p.url = f.url) ORDER BY seq", (crawl_id,)).fetchall()
    for i in range(0, len(pending), 10_000):
        pipe.lpush(keys.queue, *(json.dumps(row) for row in pending[i:i + 10_000]))
    admitted, last = conn.execute("SELECT count(*), max(seq) FROM frontier WHERE crawl_id = ?",
                                  (crawl_id,)).fetchone()
    pipe.set(keys.admitted, admitted)
    pipe.set(keys.seq, (last + 1) if last is not None else 0)
    pipe.execute()
    logger.info("Redis no longer held crawl %d: shared anew from the store, %d URLs queued",
                crawl_id, len(pending))
    return len(pending)


def published_robots(client: redis.Redis, keys: CrawlKeys) -> dict[str, tuple[int | None, str]]:
    """origin -> (status, body) of the robots.txt answers the coordinator published."""
    return {site.decode(): tuple(json.loads(answer)) for site, answer in client.hgetall(keys.robots).items()}


def forget_crawl(client: redis.Redis, keys: CrawlKeys) -> None:
    names = list(client.scan_iter(match=keys.prefix + "*", count=1000))
    if names:
        client.delete(*names)
    if client.get(CURRENT_KEY) == keys.crawl.encode():
        client.delete(CURRENT_KEY)


def join_crawl(client: redis.Redis, wait: float) -> tuple[CrawlKeys, CrawlOptions]:
    """The crawl running on this Redis database, waiting up to ``wait`` seconds for one."""
    deadline = time.monotonic() + wait
    while True:
        crawl = client.get(CURRENT_KEY)
        raw = client.get(CrawlKeys(crawl.decode()).options) if crawl else None
        if raw is not None:
            keys = CrawlKeys(crawl.decode())
            return keys, CrawlOptions.from_json_dict({**json.loads(raw), "store": os.devnull})
        if time.monotonic() >= deadline:
            raise LookupError(f"no crawl started on this Redis database within {wait:g} s")
        time.sleep(min(0.5, max(deadline - time.monotonic(), 0.01)))


# --- the spider -------------------------------------------------------------------------------
def _bytes_as_json(value: object) -> dict[str, str]:
    """Records' BLOB values (a page's MinHash signature) through a JSON page message."""
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not a record value")


def _json_as_bytes(obj: dict) -> object:
    return base64.b64decode(obj["$bytes"]) if obj.keys() == {"$bytes"} else obj


class SharedSiteSpider(SiteSpider):
    """The site spider on a shared frontier, as the coordinator or as a worker."""

    def __init__(self, *args, keys: CrawlKeys | None = None, max_idle: float | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = keys  # None: this process is the coordinator and starts the crawl
        self.max_idle = max_idle
        self._idle = IdleStretch()
        self._rechecks_gathered = False
        self._robots_applied = False
        self._closing = False
        self._loops: list[task.LoopingCall] = []

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        # Spider's, not SiteSpider's: that one would open a local session.
        spider = super(SiteSpider, cls).from_crawler(crawler, *args, **kwargs)
        client = connect(spider.options.redis_url)
        spider.session = (CoordinatorSession(spider.options, client) if spider.keys is None
                          else WorkerSession(spider.options, client, spider.keys))
        spider.renderer = spider._renderer()
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    @property
    def coordinator(self) -> bool:
        return self.keys is None

    async def start(self):
        """The coordinator fetches robots.txt, then seeds; one that re-attached knows the
        answers its predecessor published and seeds only what that one left unfetched."""
        if not self.coordinator:
            return
        session = self.session
        missing = sorted(set(session.scope.origins) - set(session.robots))
        for site in missing:
            yield self._robots_request(f"{site}/robots.txt", site, hops=0)
        if not missing:
            self._apply_crawl_delays()
            sitemaps = [resolve(f"{site}/robots.txt", url) for site, policy in sorted(session.robots.items())
                        for url in policy.sitemaps()]
            for output in self._seed(sitemaps):
                yield output

    def _seed(self, robots_sitemaps):
        yield from super()._seed(robots_sitemaps)
        for sitemap, index in self.session.sitemap_index_children():
            yield from self._sitemap_request(sitemap, "sitemap-index", index)

    def on_opened(self, spider):
        heartbeat = task.LoopingCall(self._heartbeat)
        heartbeat.start(max(self.options.redis_lease_ttl / 5, POLL_INTERVAL))
        poll = task.LoopingCall(self._poll)
        poll.start(POLL_INTERVAL, now=False)
        self._loops = [heartbeat, poll]

    # --- robots.txt: the coordinator publishes the answers it got --------------------------
    # The last answer per origin is the one its policy is made from (after redirects).
    def parse_robots(self, response):
        body = response.text if 200 <= response.status < 300 and hasattr(response, "text") else ""
        self.session.robots_answers[response.meta["origin"]] = (response.status, body)
        return super().parse_robots(response)

    def robots_failed(self, failure):
        self.session.robots_answers[failure.request.meta["origin"]] = (None, "")
        return super().robots_failed(failure)

    def request_for(self, entry: Entry):
        if not self.coordinator and not self._robots_applied and not self.session.robots_pending():
            self._apply_crawl_delays()
        return super().request_for(entry)

    def _apply_crawl_delays(self) -> None:
        """A worker honours each host's Crawl-delay as the coordinator does."""
        self._robots_applied = True
        for site, policy in self.session.robots.items():
            delay = policy.crawl_delay(self.session.user_agent)
            if delay and not self.options.ignore_robots:
                self._slow_down(site, delay)

    # --- the loops ---------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        session = self.session
        try:
            requeued = session.frontier.heartbeat()
            over = (None if session.lead() else "coordinator-replaced") if self.coordinator \
                else session.crawl_over()
        except redis.RedisError as exc:
            logger.error("Redis unreachable (%s): stopping this process", exc)
            self._close("redis-error")
            return
        if requeued:
            logger.warning("re-queued %d URLs leased by workers that stopped answering", requeued)
        if over == "coordinator-replaced":
            logger.error("another coordinator took over this crawl (this one stalled past its "
                         "heartbeat): stopping")
        elif over == "coordinator-gone":
            logger.warning("no coordinator for %g s: stopping (what this worker sent waits in Redis "
                           "for `crawl --redis --resume`)", self.options.redis_coordinator_timeout)
        if over is not None:
            self._close(over)

    def _poll(self) -> None:
        """Collect records (coordinator), and when idle take work from the shared queue, or
        see whether the crawl, or this worker's part in it, is over."""
        if self._closing:
            return
        session = self.session
        if self.coordinator:
            session.collect()
        engine = self.crawler.engine
        if not engine.spider_is_idle():
            self._idle.busy()
            return
        if session.robots_pending():
            return
        entry = session.frontier.pop()
        if entry is not None:
            self._idle.busy()
            request = self.request_for(entry)
            if request is not None:
                engine.crawl(request)
            return
        dropped = session.frontier.drop_orphans()
        if dropped:
            logger.warning("%d leased URLs had no request left (a callback failed); released", dropped)
            session.stats["distributed/dropped-leases"] += dropped
        try:
            self.on_idle(self)
        except DontCloseSpider:
            return
        except CloseSpider as exc:
            self._close(exc.reason)
            return
        self._close("finished")

    def _close(self, reason: str) -> None:
        if not self._closing:
            self._closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    # --- end of crawl --------------------------------------------------------------------------
    def on_idle(self, spider):
        """Worker: stay until the crawl is over (or idle ``max_idle`` s in a row). Coordinator:
        once the whole crawl is quiet, merge sitemap-only URLs, then re-check every 202."""
        if not self.coordinator:
            self._rechecks.clear()  # the coordinator re-checks every 202 in the store, at the end
            reason = self.session.crawl_over()
            if reason is None and self.max_idle is not None and self._idle.idle_for() >= self.max_idle:
                reason = "idle"
            if reason is None:
                raise DontCloseSpider
            raise CloseSpider(reason)
        session = self.session
        if session.robots_pending() or not session.frontier.quiet():
            raise DontCloseSpider
        if not self._sitemaps_merged:  # links ran dry everywhere: now the sitemap-only URLs
            self._sitemaps_merged = True
            self._merge_sitemap_urls()
            raise DontCloseSpider
        if not self._rechecks_gathered:  # every process's 202s, from the store
            self._rechecks_gathered = True
            session.flush()
            self._rechecks = [(url, 1, retry_after) for url, retry_after in session.unsettled_202s()]
        super().on_idle(spider)

    def on_closed(self, spider, reason):
        for loop in self._loops:
            if loop.running:
                loop.stop()
        if self.coordinator:
            super().on_closed(spider, reason)
        else:  # no store, no crawl state of its own: why it stopped is all a worker reports
            self.session.close(reason, {})
