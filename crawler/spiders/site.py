"""The site spider: fetch what a search engine would, record what it saw.

Order of a crawl: robots.txt of each origin in scope (followed through up to 5
redirects, as Google does) -> the start URL, a soft-404 probe and the sitemaps -> the
frontier, breadth-first -> sitemap-only URLs once links run dry -> 202 re-checks.
Callbacks turn responses into records (records.py, extract.py) and ask the session
which discovered URLs to fetch; they decide nothing else.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import fields
from pathlib import Path
from typing import get_type_hints
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from .. import store
from ..css import IMPORT, stylesheet_references
from ..errors import describe_failure
from ..extract import extract, looks_like_html
from ..extraction import page_extractions
from ..frontier import Entry
from ..items import PageRecord
from ..options import CrawlOptions
from ..records import (error_row, html_fields, response_row, retry_after_seconds,
                       says_nofollow)
from ..robots import RobotsPolicy
from ..session import Bundle, CrawlSession
from ..tls import CertificateCheck, check_certificate
from ..urls import looks_like_file, normalise, origin, resolve

#: link kinds fetched as resources (HEAD first) rather than as pages; stylesheets (css) are
#: fetched with GET, to read what they reference in turn (css-url: a url() of a stylesheet)
RESOURCE_KINDS = frozenset({"img", "script", "css", "css-url", "link", "iframe"})
#: link kinds a crawler follows even from a nofollow page: they are signals, not votes
SIGNAL_KINDS = frozenset({"canonical", "hreflang", "meta-refresh", "js-redirect"})
ROBOTS_MAX_HOPS = 5
#: redirects of the start URL followed to find the site (Google follows 10)
START_MAX_HOPS = 10
MAX_SITEMAPS = 1000
#: seconds at most for robots.txt of the other scheme (see _robots_request) and a certificate check
TWIN_ROBOTS_TIMEOUT = 5.0
CERTIFICATE_TIMEOUT = 10.0
#: Retry-After assumed for a 202 that gives none
DEFAULT_RECHECK_WAIT = 1.0


def options_from_text(arguments: dict[str, str]) -> dict:
    """CrawlOptions fields from strings (Scrapy's -a values), converted by their declared types."""
    hints = get_type_hints(CrawlOptions)
    converted = {}
    for name, text in arguments.items():
        hint = str(hints[name])
        if text.lower() in ("", "none") and "None" in hint:
            converted[name] = None
        elif "bool" in hint:
            converted[name] = text.lower() in ("1", "true", "yes", "on")
        elif "int" in hint:
            converted[name] = int(text)
        elif "float" in hint:
            converted[name] = float(text)
        elif "list" in hint:
            converted[name] = [part for part in text.split(",") if part]
        elif "dict" in hint:
            converted[name] = json.loads(text)
        else:
            converted[name] = text
    return converted


def _link_row(source: str, target: str, kind: str, anchor: str = "", nofollow: bool = False,
              seen_in: str = "raw"):
    return (source, target, kind, anchor, int(nofollow), seen_in)


class SiteSpider(Spider):
    name = "site"

    def __init__(self, url: str | None = None, options: CrawlOptions | None = None,
                 store: str = "seo-audit.sqlite", **arguments):
        """``options`` from `seo-audit crawl`, or ``-a`` arguments from `scrapy crawl site`:
        -a url=... [-a store=crawl.sqlite] [-a max_pages=5000 -a ignore_robots=true ...]."""
        names = {f.name for f in fields(CrawlOptions)}
        super().__init__(**{k: v for k, v in arguments.items() if k not in names})
        if options is None:
            if not url:
                raise ValueError("give the start URL: scrapy crawl site -a url=https://example.com/")
            options = CrawlOptions(start_url=url, store=Path(store),
                                   **options_from_text({k: v for k, v in arguments.items() if k in names}))
        self.options = options
        self._extraction = options.extraction()
        self._sitemaps_merged = False
        self._sitemaps_seen = 0
        self._rechecks: list[tuple[str, int, str | None]] = []  # (url, attempt, retry-after)
        self._recheck_timer = None
        #: the start URL's redirects: the hop awaited, the hops so far, and what waits for the end
        self._door: str | None = None
        self._door_chain: list[str] = []
        self._door_sitemaps: list[str | None] = []
        self._door_next: tuple[str, Entry] | None = None  # a hop waiting for its origin's robots.txt
        self._certificates_checked: set[str] = set()
        self._certificate_checks = 0  # checks under way

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.session = CrawlSession(spider.options)
        spider.renderer = spider._renderer()
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    def _renderer(self):
        """The renderer of --render auto|all on this spider's session, None with --render off."""
        if self.options.render == "off":
            return None
        from ..render import Renderer

        return Renderer(self.options, self.session, self._add_links, store.page_row)

    # --- start: robots.txt first ---------------------------------------------------------
    async def start(self):
        for request in self._robots_requests():
            yield request

    def _robots_requests(self) -> list[Request]:
        """robots.txt of each origin in scope not yet known; its certificate checked if HTTPS."""
        self._check_certificates()
        sites = [site for site in sorted(self.session.scope.origins) if site not in self.session.robots]
        return [self._robots_request(f"{site}/robots.txt", site, hops=0,
                                     twin=site in self.session.scope.twins) for site in sites]

    def _site_origin(self) -> str:
        return origin(self.session.site_url)

    def _robots_request(self, url: str, site: str, hops: int, twin: bool = False) -> Request:
        meta = {"origin": site, "hops": hops, "url": url,
                "entry_fields": {"fetch_kind": "robots", "found_via": "robots"}}
        if twin:
            # the other scheme's robots.txt is asked for in case links use that scheme: a host
            # that does not answer there must not hold the crawl up for the full timeout
            meta.update(download_timeout=min(self.options.timeout, TWIN_ROBOTS_TIMEOUT), max_retry_times=0)
        return Request(url, callback=self.parse_robots, errback=self.robots_failed,
                       dont_filter=True, meta=meta)

    # --- HTTPS certificates: checked apart, once per host ------------------------------
    def _check_certificates(self) -> None:
        from twisted.internet import threads  # here: importing it early would install the wrong reactor

        for site in sorted(self.session.scope.origins - self._certificates_checked):
            self._certificates_checked.add(site)
            parts = urlsplit(site)
            if parts.scheme != "https":
                continue
            self._certificate_checks += 1
            timeout = min(self.options.timeout, CERTIFICATE_TIMEOUT)
            done = threads.deferToThread(check_certificate, parts.hostname, parts.port or 443,
                                         timeout=timeout, cafile=self.options.ca_bundle)
            done.addCallback(self._certificate_checked)
            done.addErrback(lambda failure: self.logger.error("certificate check failed: %s", failure.value))
            done.addBoth(self._certificate_check_over)

    def _certificate_checked(self, check: CertificateCheck) -> None:
        if check.problem:
            self.logger.warning("HTTPS certificate of %s:%s: %s (%s)", check.host, check.port,
                                check.problem, check.detail)
        self.session.record_certificate(check.row())

    def _certificate_check_over(self, _) -> None:
        self._certificate_checks -= 1

    def parse_robots(self, response):
        meta = response.meta
        row = self._row(response)
        self.session.frontier.mark_seen(meta["url"])
        bundle = Bundle(pages=[store.page_row(row)])
        target = row["redirect_target"]
        if target and meta["hops"] < ROBOTS_MAX_HOPS and self.session.scope.verdict(target) is None:
            bundle.links.append(_link_row(meta["url"], target, "redirect"))
            yield PageRecord(bundle)
            yield self._robots_request(target, meta["origin"], meta["hops"] + 1)
            return
        yield PageRecord(bundle)
        body = response.text if 200 <= response.status < 300 and hasattr(response, "text") else ""
        policy = RobotsPolicy.from_response(response.status, body)
        yield from self._robots_known(meta["origin"], policy, base=meta["url"])

    def robots_failed(self, failure):
        meta = failure.request.meta
        self.session.frontier.mark_seen(meta["url"])
        yield PageRecord(Bundle(pages=[store.page_row(self._failure_row(failure))]))
        yield from self._robots_known(meta["origin"], RobotsPolicy.from_response(None, ""))

    def _robots_known(self, site: str, policy: RobotsPolicy, base: str | None = None):
        self._apply_robots(site, policy)
        if not self.session.robots_pending():
            if self._door_next:
                yield from self._door_hop(*self._door_next)
            else:
                yield from self._seed([resolve(base or site, s) for s in policy.sitemaps()])

    def _apply_robots(self, site: str, policy: RobotsPolicy) -> None:
        self.session.set_robots(site, policy)
        delay = policy.crawl_delay(self.session.user_agent)
        if delay and not self.options.ignore_robots:
            self._slow_down(site, delay)

    def _slow_down(self, site: str, delay: float) -> None:
        """Honour Crawl-delay: the slot's delay, now and for a slot made later."""
        downloader = self.crawler.engine.downloader
        host = urlsplit(site).hostname or ""
        downloader.per_slot_settings.setdefault(host, {})["delay"] = delay
        if host in downloader.slots:
            downloader.slots[host].delay = max(downloader.slots[host].delay, delay)
        self.crawler.stats.set_value("robots/crawl_delay", delay)

    def _seed(self, robots_sitemaps: list[str | None]):
        session = self.session
        bundle = Bundle()
        entry = session.discover(session.start_url, bundle, found_via="start", depth=0)
        yield PageRecord(bundle)
        if entry is not None and not self.options.strict_origin:
            # the site is where the start URL's redirects end: its probe and sitemap wait for that
            self._door, self._door_chain, self._door_sitemaps = entry.url, [entry.url], robots_sitemaps
            return
        yield from self._seed_site(robots_sitemaps)

    def _seed_site(self, robots_sitemaps: list[str | None]):
        """The soft-404 probe and the sitemaps of the site (its origin known)."""
        session = self.session
        site = self._site_origin()
        if not session.has_probe():
            probe_url = f"{site}/seo-audit-probe-{secrets.token_hex(6)}"
            yield Request(probe_url, callback=self.parse_probe, errback=self.probe_failed,
                          dont_filter=True, meta={"url": probe_url, "entry_fields": {}})
        # On a resume, sitemaps already recorded are seen, so only missing ones are fetched.
        declared = [u for u in robots_sitemaps if u]
        guessed = f"{site}/sitemap.xml"
        for url in declared:
            yield from self._sitemap_request(url, "robots")
        if guessed not in declared:
            yield from self._sitemap_request(guessed, "guess")
        if session.resumed_pending is not None:
            self._rechecks.extend((url, 1, retry_after) for url, retry_after in session.unsettled_202s())

    # --- sitemaps ----------------------------------------------------------------------
    def _sitemap_request(self, url: str, found_via: str, referrer: str | None = None):
        if self._sitemaps_seen >= MAX_SITEMAPS or self.session.scope.verdict(url):
            return
        if not self.session.frontier.mark_seen(url):
            return  # a sitemap index that lists itself, or a sitemap listed twice
        self._sitemaps_seen += 1
        yield Request(url, callback=self.parse_sitemap, errback=self.fetch_failed, dont_filter=True,
                      meta={"url": url, "entry_fields": {"fetch_kind": "sitemap",
                                                         "found_via": found_via,
                                                         "referrer": referrer}})

    def parse_sitemap(self, response):
        url = response.meta["url"]
        row = self._row(response)
        bundle = Bundle(pages=[])
        children = []
        body = response.body
        if 200 <= response.status < 300:
            try:
                if body[:2] == b"\x1f\x8b":
                    body = gunzip(body, max_size=self.options.max_size)
                sitemap = Sitemap(body)
                kind = sitemap.type
                for item in sitemap:
                    loc = normalise(item.get("loc", ""))
                    if not loc:
                        continue
                    if kind == "sitemapindex":
                        children.append(loc)
                        bundle.links.append(_link_row(url, loc, "sitemap"))
                    elif kind == "urlset":
                        bundle.sitemap_urls.append((url, loc, item.get("lastmod")))
                if kind not in ("urlset", "sitemapindex"):
                    row["error"] = "not-a-sitemap"
            except Exception as exc:  # noqa: BLE001 - bad gzip, empty or non-XML body
                row["error"] = "malformed-sitemap"
                self.logger.info("Sitemap %s unreadable: %s", url, exc)
        bundle.pages.append(store.page_row(row))
        self.crawler.stats.inc_value("sitemap/urls", len(bundle.sitemap_urls))
        yield PageRecord(bundle)
        for child in children:
            yield from self._sitemap_request(child, "sitemap-index", url)

    # --- the soft-404 probe --------------------------------------------------------------
    def parse_probe(self, response):
        probe = {"url": response.meta["url"], "status": response.status, "size": len(response.body)}
        if looks_like_html(self._content_type(response), response.body):
            facts = extract(response.text, response.meta["url"])
            probe.update(title=facts.title, content_hash=facts.content_hash,
                         word_count=facts.word_count)
        self.session.set_probe(probe)
        return []

    def probe_failed(self, failure):
        self.session.set_probe({"url": failure.request.meta["url"], "error": describe_failure(failure)})
        return []

    # --- pages and resources -------------------------------------------------------------
    def request_for(self, entry: Entry) -> Request | None:
        """The Request for a frontier entry (called by the scheduler when there is room)."""
        method = "HEAD" if entry.fetch_kind == "resource" and entry.found_via != IMPORT else "GET"
        fields = {"fetch_kind": entry.fetch_kind, "found_via": entry.found_via,
                  "depth": entry.depth, "referrer": entry.referrer}
        try:
            return Request(entry.url, method=method, callback=self.parse, errback=self.fetch_failed,
                           dont_filter=True, meta={"entry": entry, "url": entry.url,
                                                   "entry_fields": fields})
        except ValueError as exc:
            self.session.record(Bundle(pages=[store.page_row(
                {**fields, "url": entry.url, "error": "invalid-url", "attempt_statuses": [str(exc)]})]))
            return None

    def parse(self, response):
        entry: Entry = response.meta["entry"]
        request = response.request
        status = response.status
        if request.method == "HEAD" and status in (405, 501):
            # HEAD not supported: ask again with GET, as a browser would fetch it
            yield request.replace(method="GET", meta={**response.meta, "attempts": []})
            return
        session = self.session
        url = entry.url
        row = self._row(response)
        bundle = Bundle()
        child_depth = entry.depth + 1 if entry.depth is not None else None
        target = row["redirect_target"]
        door = []
        if target:
            bundle.links.append(_link_row(url, target, "redirect"))
        if url == self._door:
            door = self._through_door(target, bundle, entry)
        elif target:
            door = self._redirect(target, bundle, entry)
        if status == 202:
            self._note_202(url, row, entry, bundle)
        facts = None
        if request.method == "GET" and looks_like_html(row["content_type"], response.body):
            facts = extract(response.text, url)
            row.update(html_fields(facts))
            if self._extraction and 200 <= status < 300:
                values, matches = page_extractions(response.text, self._extraction)
                bundle.extractions += [(url, *v) for v in values]
                bundle.search_matches += [(url, *m) for m in matches]
            follow = 200 <= status < 300 and not says_nofollow(facts.meta_robots, row["x_robots_tag"])
            self._add_links(url, facts.links, bundle, follow, child_depth, entry)
        elif request.method == "GET" and entry.found_via == IMPORT and 200 <= status < 300 \
                and "css" in (row["content_type"] or "text/css").lower():
            self._stylesheet(response, bundle, child_depth, entry)
        if row["link_canonical"]:
            bundle.links.append(_link_row(url, row["link_canonical"], "canonical-header"))
            self._follow(row["link_canonical"], "canonical", bundle, True, entry.depth, entry)
        session.learn(entry, row)
        session.stats["fetched"] += 1
        if self.renderer is not None and facts is not None and status == 200:  # as Google: 200s only
            # the page is recorded once its render is merged in: raw and rendered commit together
            yield from self.renderer.take(url, response, row, facts, bundle, entry, child_depth)
        else:
            bundle.pages.insert(0, store.page_row(row))
            yield PageRecord(bundle)
        yield from door

    def _redirect(self, target: str, bundle: Bundle, entry: Entry) -> list:
        """A redirect met: its target admitted (or recorded as skipped); the requests it needs first."""
        self.session.discover(target, bundle, fetch_kind=entry.fetch_kind, found_via="redirect",
                              depth=entry.depth, parent=entry)
        return []

    # --- the start URL's redirects: where the site is ------------------------------------
    def _through_door(self, target: str | None, bundle: Bundle, entry: Entry) -> list:
        """The start URL (or one of its redirect hops) answered: follow its redirect to where the
        site is, moving the scope there if it is another origin; else the site is found."""
        session = self.session
        if not target or target in self._door_chain or len(self._door_chain) > START_MAX_HOPS:
            if target:  # a loop, or too many hops: recorded as any redirect is, no further
                session.discover(target, bundle, fetch_kind=entry.fetch_kind, found_via="redirect",
                                 depth=entry.depth, parent=entry)
            return self._door_closed()
        self._door_chain.append(target)
        if session.scope.verdict(target) == "out-of-scope":
            session.move_scope(target)
            self.logger.info("the start URL %s redirects to %s: crawling that site (scope %s)",
                             session.start_url, target, ", ".join(sorted(session.scope.origins)))
            if session.robots_pending():
                self._door_next = (target, entry)
                return self._robots_requests()
        return list(self._door_hop(target, entry, bundle))

    def _door_hop(self, target: str, entry: Entry, bundle: Bundle | None = None):
        """Admit the start URL's next hop (robots.txt of its origin known)."""
        self._door_next = None
        own = bundle is None
        bundle = Bundle() if own else bundle
        session = self.session
        session.site_url = target
        hop = session.discover(target, bundle, fetch_kind=entry.fetch_kind, found_via="redirect",
                               depth=entry.depth, parent=entry)
        if own:
            yield PageRecord(bundle)
        if hop is None:  # not fetched (robots.txt, exclusions...): the site is found as far as it can be
            yield from self._door_closed()
        else:
            self._door = hop.url

    def _door_closed(self) -> list:
        self._door = None
        if len(self._door_chain) > 1:
            self.crawler.stats.set_value("start/redirect_hops", len(self._door_chain) - 1)
        site = self._site_origin()
        sitemaps = self._door_sitemaps
        if site in self.session.robots and site != origin(self.session.start_url):
            sitemaps = [resolve(site, s) for s in self.session.robots[site].sitemaps()]
        return list(self._seed_site(sitemaps))

    def _add_links(self, url: str, links, bundle: Bundle, follow: bool, depth: int | None,
                   parent: Entry, seen_in: str = "raw") -> None:
        """Record a page's links (seen in its raw HTML or only in its rendered DOM) and follow them."""
        for link in links:
            bundle.links.append(_link_row(url, link.target, link.kind, link.anchor, link.nofollow, seen_in))
            self._follow(link.target, link.kind, bundle,
                         follow and (not link.nofollow or link.kind in SIGNAL_KINDS),
                         depth=depth, parent=parent)

    def _follow(self, target: str, kind: str, bundle: Bundle, follow: bool,
                depth: int | None, parent: Entry) -> None:
        if kind in RESOURCE_KINDS:
            if self.options.check_resources:
                self.session.discover(target, bundle, fetch_kind="resource", found_via=kind,
                                      depth=depth, parent=parent)
        elif follow:
            fetch_kind = "resource" if looks_like_file(target) else "page"
            via = "link" if kind == "a" else kind
            self.session.discover(target, bundle, fetch_kind=fetch_kind, found_via=via,
                                  depth=depth, parent=parent)

    def _stylesheet(self, response, bundle: Bundle, depth: int | None, entry: Entry) -> None:
        """A stylesheet's @import and url() references: links from it, checked as resources."""
        text = response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace")
        # relative to the stylesheet, not to the page; each reference once
        references = dict.fromkeys((resolve(entry.url, href), kind) for href, kind in stylesheet_references(text))
        for target, kind in references:
            if target:
                bundle.links.append(_link_row(entry.url, target, kind))
                self._follow(target, kind, bundle, True, depth=depth, parent=entry)

    def fetch_failed(self, failure):
        self.session.stats["errors"] += 1
        yield PageRecord(Bundle(pages=[store.page_row(self._failure_row(failure))]))
        if failure.request.meta["url"] == self._door:
            yield from self._door_closed()

    # --- 202 Accepted: where is the content, and what does it settle to? ------------------
    def _note_202(self, url: str, row: dict, entry: Entry, bundle: Bundle) -> None:
        self._rechecks.append((url, 1, row["retry_after"]))
        for status_url in {row["location"], row["content_location"]} - {None}:
            target = resolve(url, status_url)
            if target:
                bundle.links.append(_link_row(url, target, "status-url"))
                self.session.discover(target, bundle, fetch_kind="status-url", found_via="status-url",
                                      depth=entry.depth, parent=entry)

    def _launch_rechecks(self, due: list[tuple[str, int, str | None]], waited: float) -> None:
        self._recheck_timer = None
        for url, attempt, _ in due:
            self.crawler.engine.crawl(Request(
                url, callback=self.parse_recheck, errback=self.recheck_failed, dont_filter=True,
                meta={"url": url, "recheck": attempt, "waited": waited}))

    def parse_recheck(self, response):
        meta = response.meta
        retry_after = response.headers.get("Retry-After")
        retry_after = retry_after.decode("latin-1") if retry_after else None
        if response.status == 202 and meta["recheck"] < self.options.recheck_attempts:
            self._rechecks.append((meta["url"], meta["recheck"] + 1, retry_after))
        yield PageRecord(Bundle(rechecks=[(meta["url"], meta["recheck"], meta["waited"],
                                           response.status, None, retry_after, time.time())]))

    def recheck_failed(self, failure):
        meta = failure.request.meta
        yield PageRecord(Bundle(rechecks=[(meta["url"], meta["recheck"], meta["waited"], None,
                                           describe_failure(failure), None, time.time())]))

    # --- end of crawl --------------------------------------------------------------------
    def on_idle(self, spider):
        """Links ran dry: add sitemap-only URLs, then re-check 202s, then let the crawl end."""
        if self.session.robots_pending() or self._certificate_checks:
            raise DontCloseSpider
        if not self._sitemaps_merged:
            self._sitemaps_merged = True
            if self._merge_sitemap_urls():
                raise DontCloseSpider
        if self._recheck_timer is not None:
            raise DontCloseSpider
        if self._rechecks and self.options.recheck_attempts > 0:
            due, self._rechecks = self._rechecks, []
            waits = [retry_after_seconds(ra) for _, _, ra in due]
            wait = min(max((w if w is not None else DEFAULT_RECHECK_WAIT) for w in waits),
                       self.options.recheck_max_wait)
            from twisted.internet import reactor  # here: importing it early would install the wrong one

            self._recheck_timer = reactor.callLater(wait, self._launch_rechecks, due, wait)
            raise DontCloseSpider

    def _merge_sitemap_urls(self) -> bool:
        session = self.session
        session.flush()
        bundle = Bundle()
        added = 0
        # row by row: the sitemaps' URLs, as many as the site's, are not held in a list at once
        rows = session.conn.execute(
            "SELECT url, min(sitemap) FROM sitemap_urls WHERE crawl_id = ? GROUP BY url",
            (session.crawl_id,))
        for url, sitemap in rows:
            if session.discover(url, bundle, found_via="sitemap", depth=None, referrer=sitemap):
                added += 1
        session.record(bundle)
        self.crawler.stats.set_value("sitemap/only_in_sitemap", added)
        return added > 0

    def on_closed(self, spider, reason):
        state = {"finished": "complete", "shutdown": "incomplete"}.get(reason, "stopped-at-limit")
        if reason == "cancelled":
            state = "incomplete"
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        self.session.close(state, stats)

    # --- rows ----------------------------------------------------------------------------
    @staticmethod
    def _content_type(response) -> str | None:
        value = response.headers.get("Content-Type")
        return value.decode("latin-1") if value else None

    def _row(self, response) -> dict:
        meta = response.meta
        return response_row(url=meta["url"], entry_fields=meta.get("entry_fields", {}),
                            method=response.request.method, status=response.status,
                            headers=response.headers, body_size=len(response.body),
                            latency=meta.get("download_latency"), ttfb=meta.get("ttfb"),
                            attempts=meta.get("attempts", []))

    def _failure_row(self, failure) -> dict:
        meta = failure.request.meta
        return error_row(url=meta["url"], entry_fields=meta.get("entry_fields", {}),
                         method=failure.request.method, error=describe_failure(failure),
                         attempts=meta.get("attempts", []))
