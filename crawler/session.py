"""One crawl's state outside Scrapy: the store, the frontier, scope, robots, limits.

The spider asks it two things: "I met this URL, what now?" (``discover``) and "keep this
record" (``record``). Admission decisions (scope, robots, depth, traps, limits) are made
once per URL, here, and an unfetched URL is recorded with the reason it was skipped.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field

from . import store
from .families import FamilySampler, family_of, page_verdict
from .frontier import Entry, Frontier, FrontierLike
from .options import CrawlOptions
from .robots import RobotsPolicy
from .urls import Scope, normalise, origin, repeated_segments, trap_pattern
from .writer import StoreWriter

logger = logging.getLogger(__name__)

#: a path segment repeated this often (/a/a/a/) marks a URL space that grows by itself
MAX_REPEATED_SEGMENTS = 3


@dataclass
class Bundle:
    """Rows that are committed together (see writer.StoreWriter)."""

    pages: list[tuple] = field(default_factory=list)
    links: list[tuple] = field(default_factory=list)
    frontier: list[tuple] = field(default_factory=list)
    sitemap_urls: list[tuple] = field(default_factory=list)
    rechecks: list[tuple] = field(default_factory=list)
    certificates: list[tuple] = field(default_factory=list)
    extractions: list[tuple] = field(default_factory=list)
    search_matches: list[tuple] = field(default_factory=list)
    #: URLs met, awaiting the shared frontier's verdict (crawler.distributed); not a table
    found: list[tuple] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[tuple]]:
        return {k: v for k, v in self.__dict__.items() if v and k != "found"}


def skipped_row(url: str, fetch_kind: str, found_via: str, depth: int | None,
                referrer: str | None, skip: str, rule: str | None, family: str | None = None,
                family_verdict: str | None = None) -> tuple:
    """The pages row of a URL met but not fetched, with the reason (a sampled-out URL: with its
    family and the verdict of the family's sample)."""
    return store.page_row({"url": url, "fetch_kind": fetch_kind, "found_via": found_via,
                           "depth": depth, "referrer": referrer, "skip_reason": skip,
                           "robots_rule": rule, "family": family, "family_verdict": family_verdict})


class CrawlSession:
    def __init__(self, options: CrawlOptions):
        self._init_rules(options)
        self.conn = store.connect(options.store)
        self.crawl_id, resumed = self._open_crawl()
        if resumed:
            self._restore_site()
        self.frontier: FrontierLike = self._new_frontier(resumed)
        self.writer = StoreWriter(options.store, self.crawl_id)
        self.admitted = self._count_admitted() if resumed else 0
        if resumed and self.sampler is not None:
            self._replay_samples()

    def _init_rules(self, options: CrawlOptions) -> None:
        """What admission needs besides a frontier: scope, robots.txt, trap counts, stats."""
        options.validate()
        self.options = options
        self.start_url = normalise(options.start_url)
        self.user_agent = options.user_agent_string
        if options.list_mode:  # the scope is the list's hosts, as given: no scheme twins
            listed = {origin(url) for url in options.list_urls}
            self.scope = Scope.for_start(self.start_url, options.include, options.exclude,
                                         [*options.extra_origins, *sorted(listed)], None)
        else:
            self.scope = Scope.for_start(self.start_url, options.include, options.exclude,
                                         options.extra_origins,
                                         None if options.strict_origin else options.site_ports)
        #: list mode: the list's origins, where links are followed (the scope also has the
        #: origins its redirects lead to, see widen_scope)
        self.list_origins: set[str] = set(self.scope.origins) if options.list_mode else set()
        #: where the crawl's site starts: the start URL, or where its redirects ended (move_scope)
        self.site_url = self.start_url
        self.robots: dict[str, RobotsPolicy] = {}
        self.pattern_counts: Counter[str] = Counter()
        self.stats: Counter[str] = Counter({f"list/{key}": n for key, n in options.list_counts.items()})
        self.started = time.monotonic()
        # per process: a shared (--redis) crawl's workers would each learn a different sample
        # list mode fetches every URL listed: none is sampled out
        self.sampler = (FamilySampler(options.sample_size)
                        if options.sampling and options.redis_url is None and not options.list_mode else None)

    def move_scope(self, url: str) -> None:
        """The start URL redirected to ``url``, on another origin: the site is there, so is the scope."""
        self.scope = self.scope.moved_to(url, self.options.extra_origins)
        self.site_url = url

    def widen_scope(self, origins: set[str], listed: bool) -> None:
        """List mode: ``origins`` join the scope, as origins of the list (``listed``: a sitemap's
        URLs) or as where its redirects lead (fetched, their links not followed)."""
        self.scope = self.scope.with_origins(origins)
        if listed:
            self.list_origins |= origins

    def site_facts(self) -> dict:
        """Where the crawl's site was found, for the crawl's stats (audit and report read them)."""
        origins = self.list_origins if self.options.list_mode else self.scope.origins
        return {"start/site_url": self.site_url, "scope/origins": sorted(origins)}

    def _restore_site(self) -> None:
        """A resumed crawl keeps the site its start URL's redirects led to."""
        row = self.conn.execute("SELECT stats FROM crawls WHERE id = ?", (self.crawl_id,)).fetchone()
        site_url = json.loads(row[0]).get("start/site_url") if row and row[0] else None
        if site_url and self.scope.verdict(site_url) == "out-of-scope":
            self.move_scope(site_url)
        elif site_url:
            self.site_url = site_url

    def record_certificate(self, row: tuple) -> None:
        self.writer.put({"certificates": [row]})

    def _new_frontier(self, resumed: bool) -> FrontierLike:
        """This process's frontier, spilling to the store; a resumed crawl rebuilds it from there."""
        frontier = Frontier()
        frontier.attach_store(self.conn, self.crawl_id, self.flush)
        self.resumed_pending = frontier.resume(self.conn, self.crawl_id) if resumed else None
        return frontier

    # --- crawl bookkeeping -------------------------------------------------------------
    def _open_crawl(self) -> tuple[int, bool]:
        if self.options.resume:
            crawl_id = store.resumable_crawl(self.conn, self.start_url, self.options.job)
            if crawl_id is not None:
                self.conn.execute("UPDATE crawls SET state = 'running' WHERE id = ?", (crawl_id,))
                self.conn.commit()
                logger.info("Resuming crawl %s of %s", crawl_id, self.start_url)
                return crawl_id, True
            logger.info("Nothing to resume for %s: starting a new crawl", self.start_url)
        return store.new_crawl(self.conn, self.start_url, self.options.recorded(), self.options.job,
                               "list" if self.options.list_mode else "site"), False

    def _count_admitted(self) -> int:
        """Queued URLs, less those sampled out when their turn came (see sampled_out_now)."""
        (count,) = self.conn.execute(
            "SELECT count(*) FROM frontier f WHERE crawl_id = ? AND NOT EXISTS (SELECT 1 FROM pages p "
            "WHERE p.crawl_id = f.crawl_id AND p.url = f.url AND p.skip_reason = 'sampled-out')",
            (self.crawl_id,)).fetchone()
        return count

    def _replay_samples(self) -> None:
        """The sampler as the crawl left it: the texts and family verdicts of the pages fetched,
        in the order they came, and the families whose members were already sampled out."""
        rows = self.conn.execute(
            "SELECT family, family_verdict, content_hash FROM pages WHERE crawl_id = ? AND "
            "skip_reason IS NULL AND (family_verdict IS NOT NULL OR content_hash IS NOT NULL) "
            "ORDER BY fetched_at", (self.crawl_id,))
        for family, verdict, content_hash in rows:
            self.sampler.is_duplicate(content_hash)
            if family is not None and verdict is not None:
                self.sampler.observe(family, verdict)
        for family, verdict in self.conn.execute(
                "SELECT DISTINCT family, family_verdict FROM pages WHERE crawl_id = ? AND "
                "skip_reason = 'sampled-out'", (self.crawl_id,)):
            self.sampler.mark_sampled_out(family, verdict)

    def flush(self) -> None:
        self.writer.flush()

    def close(self, state: str, stats: dict) -> None:
        """Commit what is queued and mark the crawl finished; a full disk leaves it 'running'
        (that is, resumable) rather than half-written."""
        self.writer.close()
        if self.sampler is not None and self.sampler.sampled_out_families:
            stats = {**stats, "sampling/sampled_out_families": self.sampler.sampled_out_families}
        try:
            store.finish_crawl(self.conn, self.crawl_id, state, {**stats, **self.stats, **self.site_facts()})
        except sqlite3.Error as exc:
            logger.error("the crawl could not be marked %s in the store: %s", state, exc)
        finally:
            self.conn.close()

    def has_probe(self) -> bool:
        row = self.conn.execute("SELECT probe FROM crawls WHERE id = ?", (self.crawl_id,)).fetchone()
        return bool(row and row[0])

    def set_probe(self, probe: dict) -> None:
        store.set_probe(self.conn, self.crawl_id, probe)

    def unsettled_202s(self) -> list[tuple[str, str | None]]:
        """202 pages with no re-check recorded yet (a resumed crawl re-checks them)."""
        return self.conn.execute(
            "SELECT url, retry_after FROM pages p WHERE crawl_id = ? AND status = 202 AND NOT EXISTS "
            "(SELECT 1 FROM rechecks r WHERE r.crawl_id = p.crawl_id AND r.url = p.url)",
            (self.crawl_id,)).fetchall()

    def record(self, bundle: Bundle) -> None:
        self.writer.put(bundle.as_dict())

    # --- admission ---------------------------------------------------------------------
    def discover(self, url: str, bundle: Bundle, *, fetch_kind: str = "page",
                 found_via: str = "link", depth: int | None = None,
                 referrer: str | None = None, parent: Entry | None = None) -> Entry | None:
        """Admit ``url`` (normalised) to the frontier once, or record why it is skipped.

        ``parent`` is the frontier entry of the page it was found on (referrer defaults to
        its URL). Appends to ``bundle`` the frontier entry or the skipped page row.
        """
        if not self.frontier.mark_seen(url):
            return None
        if parent is not None:
            referrer = referrer or parent.url
        run = self._pattern_run(url, parent)
        skip, rule = self._skip_reason(url, depth, run, fetch_kind)
        if skip == "sampled-out":  # ``rule`` is the family's sample verdict
            self.stats["skipped/sampled-out"] += 1
            bundle.pages.append(skipped_row(url, fetch_kind, found_via, depth, referrer, skip, None,
                                            family_of(url), rule))
            return None
        if skip:
            self.stats[f"skipped/{skip}"] += 1
            bundle.pages.append(skipped_row(url, fetch_kind, found_via, depth, referrer, skip, rule))
            return None
        self.admitted += 1
        entry = self.frontier.push(url, fetch_kind, found_via, depth, referrer, run)
        bundle.frontier.append(tuple(entry))
        return entry

    @staticmethod
    def _pattern_run(url: str, parent: Entry | None) -> int:
        """Same-pattern pages in a row that led to ``url``: a calendar's next month, a session
        id re-appended, page N+1 of a listing. Products found from a category start at 0."""
        if parent is None:
            return 0
        pattern = trap_pattern(url)
        return parent.pattern_run + 1 if pattern and pattern == trap_pattern(parent.url) else 0

    def _skip_reason(self, url: str, depth: int | None, run: int,
                     fetch_kind: str = "page") -> tuple[str | None, str | None]:
        """The reason to skip ``url`` and its detail: the robots.txt rule, or for sampled-out the
        verdict of the family's sample."""
        skip, rule = self._rule_skip_reason(url, depth, run)
        if skip:
            return skip, rule
        verdict = self._sampled_out(url, fetch_kind)
        if verdict:
            return "sampled-out", verdict
        if "?" in url:  # parameter explosions: many URLs of one path and one set of parameters
            pattern = trap_pattern(url)
            self.pattern_counts[pattern] += 1
            if self.pattern_counts[pattern] > self.options.trap_cap:
                return "trap", None
        if self.admitted >= self.options.max_pages:
            return "max-pages", None
        return None, None

    def _rule_skip_reason(self, url: str, depth: int | None, run: int) -> tuple[str | None, str | None]:
        """The skip reasons that depend on the URL alone, not on what was admitted before it."""
        verdict = self.scope.verdict(url)
        if verdict:
            return verdict, None
        if len(url) > self.options.max_url_length:
            return "url-too-long", None
        if not self.options.ignore_robots:
            policy = self.robots.get(origin(url))
            rule = policy.blocking_rule(url, self.user_agent) if policy else None
            if rule:
                return "robots", rule
        if self.options.max_depth is not None and depth is not None and depth > self.options.max_depth:
            return "max-depth", None
        if run > self.options.trap_run or repeated_segments(url) >= MAX_REPEATED_SEGMENTS:
            return "trap", None
        return None, None

    # --- URL families ------------------------------------------------------------------
    def _sampled_out(self, url: str, fetch_kind: str) -> str | None:
        if self.sampler is None or fetch_kind != "page":
            return None
        return self.sampler.sampled_out_url(url)

    def learn(self, entry: Entry, row: dict) -> None:
        """Note a fetched page's family and what it says in its row and in the family's sample."""
        if self.sampler is None or entry.fetch_kind != "page":
            return
        duplicate = self.sampler.is_duplicate(row.get("content_hash"))
        family = family_of(entry.url)
        if family is None:
            return
        verdict = page_verdict(entry.url, row, duplicate)
        row["family"], row["family_verdict"] = family, verdict
        if self.sampler.sampled_out(family):
            return
        self.sampler.observe(family, verdict)
        if self.sampler.sampled_out(family):
            logger.info("URL family %s sampled out: its first %d pages all say %s; the rest are "
                        "recorded, not fetched", family, self.sampler.sample_size,
                        self.sampler.sampled_out(family))

    def sampled_out_now(self, entry: Entry) -> bool:
        """Whether a queued URL's family was sampled out since it was queued: if so it is
        recorded as sampled-out instead of being fetched."""
        verdict = self._sampled_out(entry.url, entry.fetch_kind)
        if not verdict:
            return False
        self.stats["skipped/sampled-out"] += 1
        self.admitted -= 1
        self.record(Bundle(pages=[skipped_row(entry.url, entry.fetch_kind, entry.found_via, entry.depth,
                                              entry.referrer, "sampled-out", None,
                                              family_of(entry.url), verdict)]))
        return True

    def set_robots(self, origin_url: str, policy: RobotsPolicy) -> None:
        self.robots[origin_url] = policy

    def robots_pending(self) -> bool:
        return any(o not in self.robots for o in self.scope.origins)

    def elapsed(self) -> float:
        return time.monotonic() - self.started
