"""robots.txt rules: what it blocks that the site itself points crawlers to, and robots.txt errors."""

from __future__ import annotations

from audit.rules.base import Rule, answers, attempts_match, attempts_text, coded_isin, found, linked_from, text

GOOGLE_ROBOTS = "https://developers.google.com/search/docs/crawling-indexing/robots/robots_txt"
#: link kinds that name a URL as this page's canonical or alternate
SIGNAL_KINDS = ("canonical", "canonical-header", "hreflang")

GOOGLE_STATUS = "https://developers.google.com/crawling/docs/troubleshooting/http-status-codes"


def _blocked(crawl):
    p = crawl.pages
    return p[p["blocked"]]


def _rule(p):
    return "blocked by '" + text(p["robots_rule"]) + "'"


def linked_but_blocked(crawl, t):
    p = _blocked(crawl)
    hit = p[p["inlinks"] > 0]
    return found(hit["url"], _rule(hit) + "; " + hit["url"].map(linked_from(crawl, hit["url"])))


def blocked_in_sitemap(crawl, t):
    p = _blocked(crawl)
    hit = p[p["in_sitemap"]]
    return found(hit["url"], _rule(hit) + "; listed in a sitemap")


def blocked_signal_target(crawl, t):
    p = _blocked(crawl)
    links = crawl.links
    hit = p[p["url"].isin(links.loc[coded_isin(links["kind"], SIGNAL_KINDS), "target"].unique())]
    sources = hit["url"].map(linked_from(crawl, hit["url"], SIGNAL_KINDS))
    return found(hit["url"], _rule(hit) + "; named as canonical or hreflang alternate, " + sources)


def robots_txt_error(crawl, t):
    p = crawl.pages
    robots = p[p["fetch_kind"].eq("robots")]
    failed = attempts_match(
        robots, lambda attempts: any(not isinstance(a, int) or a >= 500 or a == 429 for a in attempts))
    hit = robots[failed | robots["status"].ge(500).fillna(False) | robots["status"].eq(429).fillna(False)
                 | robots["status"].isna()]
    return found(hit["url"], "robots.txt answered " + answers(crawl, hit["url"]) + "; attempts: "
                 + attempts_text(hit))


RULES = [
    Rule("linked-but-blocked", "warning", "robots", "Internal links to a URL blocked by robots.txt",
         "Crawlers may not fetch the URL, yet the site links to it: the link leads nowhere for them and "
         "the URL can still be indexed without its content, from links alone.",
         "Remove the links, or allow the URL in robots.txt if it should be crawled.",
         GOOGLE_ROBOTS, linked_but_blocked),
    Rule("blocked-in-sitemap", "warning", "robots", "Sitemap lists a URL blocked by robots.txt",
         "The sitemap asks crawlers to fetch a URL that robots.txt forbids them to fetch: contradictory "
         "signals.",
         "Drop the URL from the sitemap, or allow it in robots.txt.", GOOGLE_ROBOTS, blocked_in_sitemap),
    Rule("blocked-canonical-or-hreflang-target", "warning", "robots",
         "Canonical or hreflang points to a URL blocked by robots.txt",
         "Crawlers cannot fetch the named URL, so they can confirm neither the canonical nor the "
         "alternate, nor see any noindex it carries: directives on a blocked page are unseeable.",
         "Allow the URL in robots.txt, or point the canonical or hreflang at a crawlable URL.",
         GOOGLE_ROBOTS, blocked_signal_target),
    Rule("robots-txt-error", "critical", "robots", "robots.txt failed: 5xx, 429 or no answer",
         "When robots.txt fails, Google stops crawling the site for about 12 hours, then uses its last "
         "good copy for up to 30 days.",
         "Make robots.txt answer 200 (or 404 if there is none) reliably, on every attempt.", GOOGLE_STATUS, robots_txt_error),
]
