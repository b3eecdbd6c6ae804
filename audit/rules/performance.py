"""Performance rules: slow answers, huge HTML (how fast a host can be crawled)."""

from __future__ import annotations

from audit.rules.base import fetched_pages, found, rule, rules_in, text

CATEGORY = "performance"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"


@rule(id="slow-response", severity="warning",
      severity_why="slow answers lower the crawl rate of the whole host, wasting budget at scale",
      title="Slow response",
      why="Slow answers lower the rate at which search engines crawl the whole host.",
      fix="Cache the page or speed up what builds it.",
      learn_more=CRAWL_BUDGET, thresholds={"max_seconds": 0.8}, reads=("response_time",))
def slow_response(crawl, t):
    p = fetched_pages(crawl, "response_time")
    hit = p[p["response_time"].gt(t["max_seconds"])]
    return found(hit["url"], hit["response_time"].round(2).astype(str) + " s to respond")


@rule(id="large-html", severity="warning",
      severity_why="crawlers may stop reading a huge page before its end, at scale",
      title="Very large HTML",
      why="Huge pages are slow to fetch and parse; crawlers may stop reading before the end.",
      fix="Trim inlined data, paginate long lists, move scripts and styles to files.",
      learn_more=CRAWL_BUDGET, thresholds={"max_bytes": 1_000_000}, reads=("is_html", "size"))
def large_html(crawl, t):
    p = fetched_pages(crawl, "is_html", "size")
    hit = p[p["is_html"] & p["size"].gt(t["max_bytes"]).fillna(False)]
    return found(hit["url"], text(hit["size"]) + " bytes of HTML")


RULES = rules_in(globals())
