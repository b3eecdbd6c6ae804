"""Performance rules: slow answers, huge HTML (how fast a host can be crawled)."""

from __future__ import annotations

from operator import itemgetter

from audit.rules.base import fetched_pages, found, rule, rules_in, text

CATEGORY = "performance"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"


#: how far past its threshold a timing finding must be to count as new when a crawl is compared
#: with the previous one (``--fail-on new``): timings vary from run to run, so one just past the
#: threshold is noise unless the previous crawl found it too (then it persists)
NEW_MARGIN = 0.25


def response_seconds(pages):
    """The server's time to first byte (``ttfb``), else, for crawls stored before it was
    measured, the download latency (``response_time``)."""
    return pages["ttfb"].fillna(pages["response_time"])


@rule(id="slow-response", severity="warning",
      severity_why="slow answers lower the crawl rate of the whole host, wasting budget at scale",
      title="Slow response",
      why="Slow answers lower the rate at which search engines crawl the whole host.",
      fix="Cache the page or speed up what builds it.",
      learn_more=CRAWL_BUDGET, thresholds={"max_seconds": 0.8, "new_margin": NEW_MARGIN},
      reads=("ttfb", "response_time"))
def slow_response(crawl, t):
    p = fetched_pages(crawl, "ttfb", "response_time")
    seconds = response_seconds(p)
    hit = seconds.gt(t["max_seconds"])
    measure = p["ttfb"].notna().map({True: " s to first byte", False: " s to respond"})
    return found(p.loc[hit, "url"], seconds[hit].round(2).astype(str) + measure[hit])


#: timing rules, for comparisons: rule id -> each threshold it judges with the measure it judges
#: it on (a function of the pages); a new finding of one counts as new only where one of its
#: measures is past its threshold in force by the rule's ``new_margin`` (seo_audit.compare).
#: slow-render (audit.rules.rendering) judges the lab timings of a rendered page.
TIMING_RULES = {
    "slow-response": (("max_seconds", response_seconds),),
    "slow-render": (("max_lcp_ms", itemgetter("rendered_lcp_ms")), ("max_load_ms", itemgetter("rendered_load_ms")),
                    ("max_cls", itemgetter("rendered_cls"))),
}


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
