"""Performance rules: deep pages, slow answers, huge HTML."""

from __future__ import annotations

from audit.rules.base import Rule, fetched_pages, found, text

CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"
SEONAUT = "https://github.com/StJudeWasHere/seonaut"


def deep_page(crawl, t):
    p = crawl.pages
    hit = p[p["depth"].gt(t["max_depth"]).fillna(False) & p["is_html"] & p["indexable"]]
    return found(hit["url"], text(hit["depth"]) + " clicks from the start page")


def slow_response(crawl, t):
    p = fetched_pages(crawl, "response_time")
    hit = p[p["response_time"].gt(t["max_seconds"])]
    return found(hit["url"], hit["response_time"].round(2).astype(str) + " s to respond")


def large_html(crawl, t):
    p = fetched_pages(crawl, "is_html", "size")
    hit = p[p["is_html"] & p["size"].gt(t["max_bytes"]).fillna(False)]
    return found(hit["url"], text(hit["size"]) + " bytes of HTML")


RULES = [
    Rule("deep-page", "notice", "performance", "Page deep in the site",
         "Pages many clicks from the home page are crawled less often and look less important.",
         "Link to the page from higher up: categories, hubs, related pages.",
         SEONAUT, deep_page, {"max_depth": 4}),
    Rule("slow-response", "warning", "performance", "Slow response",
         "Slow answers lower the rate at which search engines crawl the whole host.",
         "Cache the page or speed up what builds it.", CRAWL_BUDGET, slow_response, {"max_seconds": 0.8}),
    Rule("large-html", "warning", "performance", "Very large HTML",
         "Huge pages are slow to fetch and parse; crawlers may stop reading before the end.",
         "Trim inlined data, paginate long lists, move scripts and styles to files.",
         CRAWL_BUDGET, large_html, {"max_bytes": 1_000_000}),
]
