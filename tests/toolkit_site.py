"""Shared by the toolkit tests (issue 16): crawl a fixture site and read results by path."""

from __future__ import annotations

from contextlib import contextmanager

from audit.load import load_crawl
from seo_audit.sitekit import SiteServer

from .conftest import crawl_site


@contextmanager
def crawled_site(routes: dict, tmp_path_factory, name: str):
    """The loaded Crawl of ``routes`` served on 127.0.0.1:0 and crawled from '/'."""
    with SiteServer(routes) as site:
        store = tmp_path_factory.mktemp(name) / "store.sqlite"
        result = crawl_site(f"{site.url}/", store)
        yield load_crawl(store, result.crawl_id)


def by_path(crawl, hits) -> dict[str, str]:
    """A rule's findings as {path: evidence}, the site's origin cut from both."""
    origin = crawl.start_url.rstrip("/")
    return {url.removeprefix(origin): evidence.replace(origin, "")
            for url, evidence in zip(hits["url"], hits["evidence"])}
