"""List mode's spider: fetch exactly the URLs of a list, as a site crawl fetches its pages.

Order: robots.txt of each host of the list (and the list's sitemap, if any) -> each host's
listed URLs as soon as its robots.txt is known -> their redirect hops to the end, whatever
the host (a new host's robots.txt first) -> links only ``list_depth`` clicks further, within
the list's hosts -> 202 re-checks. No soft-404 probe and no sitemap discovery: the list is the
crawl. Every record is the site spider's.
"""

from __future__ import annotations

from scrapy import Request

from ..frontier import Entry
from ..items import PageRecord
from ..robots import RobotsPolicy
from ..session import Bundle
from ..urls import normalise, origin
from .site import SiteSpider

#: found_via of a listed URL (pages.found_via) and of the list's sitemap
LISTED = "list"


class ListSpider(SiteSpider):
    name = "list"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: origin -> URLs waiting for its robots.txt: (url, found_via, fetch_kind, depth, parent)
        self._waiting: dict[str, list[tuple[str, str, str, int | None, Entry | None]]] = {}
        self._robots_asked: set[str] = set()
        self._listed_urls: set[str] = set()

    async def start(self):
        if self.options.list_sitemap:
            for request in self._sitemap_request(normalise(self.options.list_sitemap), LISTED):
                yield request
        for request in self._listed(self.options.list_urls):
            yield request

    def _listed(self, urls: list[str]) -> list[Request]:
        """Admit listed URLs: at once where their host's robots.txt is known, else once it is."""
        session = self.session
        new = {origin(url) for url in urls} - session.list_origins
        if new:
            session.widen_scope(new, listed=True)
        bundle = Bundle()
        for url in urls:
            if url in self._listed_urls:  # a sitemap's URL listed before (the list has none twice)
                session.stats["list/duplicate"] += 1
                continue
            self._listed_urls.add(url)
            self._admit(bundle, (url, LISTED, "page", 0, None))
        session.record(bundle)
        return self._ask_robots()

    def _admit(self, bundle: Bundle, waiting: tuple[str, str, str, int | None, Entry | None]) -> None:
        url, found_via, fetch_kind, depth, parent = waiting
        site = origin(url)
        if site not in self.session.robots:
            self._waiting.setdefault(site, []).append(waiting)
            return
        self.session.discover(url, bundle, fetch_kind=fetch_kind, found_via=found_via, depth=depth, parent=parent)

    def _ask_robots(self) -> list[Request]:
        self._check_certificates()
        sites = sorted(self.session.scope.origins - self._robots_asked - set(self.session.robots))
        self._robots_asked.update(sites)
        return [self._robots_request(f"{site}/robots.txt", site, hops=0) for site in sites]

    def _robots_known(self, site: str, policy: RobotsPolicy, base: str | None = None):
        self._apply_robots(site, policy)
        bundle = Bundle()
        for waiting in self._waiting.pop(site, []):
            self._admit(bundle, waiting)
        yield PageRecord(bundle)

    # --- what a listed URL leads to ------------------------------------------------------
    def _redirect(self, target: str, bundle: Bundle, entry: Entry) -> list:
        """Every hop is followed to the end, on any host: a host not in the scope joins it (its
        links are still not followed) and the hop waits for its robots.txt."""
        site = origin(target)
        if site not in self.session.scope.origins:
            self.session.widen_scope({site}, listed=False)
        self._admit(bundle, (target, "redirect", entry.fetch_kind, entry.depth, entry))
        return self._ask_robots()

    def _follow(self, target: str, kind: str, bundle: Bundle, follow: bool,
                depth: int | None, parent: Entry) -> None:
        """Links (resources, canonicals and hreflang too) only from pages fewer than list_depth
        clicks from the list, and only within the list's hosts."""
        if (parent.depth is None or parent.depth >= self.options.list_depth
                or origin(target) not in self.session.list_origins):
            return
        super()._follow(target, kind, bundle, follow, depth, parent)

    def parse_sitemap(self, response):
        """The list's sitemap (or a sitemap its index names): every URL it lists is listed."""
        for record in super().parse_sitemap(response):
            yield record
            if isinstance(record, PageRecord) and record.bundle.sitemap_urls:
                urls = [url for _, url, _ in record.bundle.sitemap_urls]
                self.session.stats["list/sitemap_urls"] += len(urls)
                yield from self._listed(urls)

    def _merge_sitemap_urls(self) -> bool:
        return False  # a sitemap's URLs are listed as it is read
