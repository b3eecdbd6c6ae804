"""robots.txt rules: what it blocks that the site itself points crawlers to, and robots.txt errors."""

from __future__ import annotations

from audit.rules.base import (answers, attempts_match, attempts_text, every_fetch, found,
                              linked_from, linked_targets, rule, rules_in, text)

CATEGORY = "robots"
GOOGLE_ROBOTS = "https://developers.google.com/search/docs/crawling-indexing/robots/robots_txt"
#: link kinds that name a URL as this page's canonical or alternate
SIGNAL_KINDS = ("canonical", "canonical-header", "hreflang")

GOOGLE_STATUS = "https://developers.google.com/crawling/docs/troubleshooting/http-status-codes"


def _blocked(crawl):
    p = crawl.pages
    return p[p["blocked"]]


def _rule(p):
    return "blocked by '" + text(p["robots_rule"]) + "'"


@rule(id="linked-but-blocked", severity="notice",
      severity_why="usually intended (cart, login, search): blocked URLs cost no fetch; it matters only "
                   "for a URL meant to rank, which then also fires blocked-in-sitemap",
      title="Internal links to a URL blocked by robots.txt",
      why="Crawlers may not fetch the URL, yet the site links to it: the link leads nowhere for them and "
          "the URL can still be indexed without its content, from links alone.",
      fix="Remove the links, or allow the URL in robots.txt if it should be crawled.",
      learn_more=GOOGLE_ROBOTS, reads=("blocked", "robots_rule", "inlinks", "links.kind"), needs=("link-graph",))
def linked_but_blocked(crawl, t):
    p = _blocked(crawl)
    hit = p[p["inlinks"] > 0]
    return found(hit["url"], _rule(hit) + "; " + hit["url"].map(linked_from(crawl, hit["url"])))


@rule(id="blocked-in-sitemap", severity="warning",
      severity_why="contradictory signals: the sitemap's trust and the page's content are wasted",
      title="Sitemap lists a URL blocked by robots.txt",
      why="The sitemap asks crawlers to fetch a URL that robots.txt forbids them to fetch: contradictory "
          "signals.",
      fix="Drop the URL from the sitemap, or allow it in robots.txt.",
      learn_more=GOOGLE_ROBOTS, reads=("blocked", "robots_rule", "in_sitemap"))
def blocked_in_sitemap(crawl, t):
    p = _blocked(crawl)
    hit = p[p["in_sitemap"]]
    return found(hit["url"], _rule(hit) + "; listed in a sitemap")


@rule(id="blocked-canonical-or-hreflang-target", severity="warning",
      severity_why="the canonical or alternate cannot be confirmed: signals wasted, the pages stay indexed",
      title="Canonical or hreflang points to a URL blocked by robots.txt",
      why="Crawlers cannot fetch the named URL, so they can confirm neither the canonical nor the "
          "alternate, nor see any noindex it carries: directives on a blocked page are unseeable.",
      fix="Allow the URL in robots.txt, or point the canonical or hreflang at a crawlable URL.",
      learn_more=GOOGLE_ROBOTS, reads=("blocked", "robots_rule", "links.kind", "links.target"))
def blocked_signal_target(crawl, t):
    p = _blocked(crawl)
    hit = p[linked_targets(crawl, p["url"], SIGNAL_KINDS)]
    sources = hit["url"].map(linked_from(crawl, hit["url"], SIGNAL_KINDS))
    return found(hit["url"], _rule(hit) + "; named as canonical or hreflang alternate, " + sources)


@rule(id="robots-txt-error", severity="critical",
      severity_why="Google stops crawling the whole host while robots.txt fails",
      title="robots.txt failed: 5xx, 429 or no answer",
      why="When robots.txt fails, Google stops crawling the site for about 12 hours, then uses its last "
          "good copy for up to 30 days.",
      fix="Make robots.txt answer 200 (or 404 if there is none) reliably, on every attempt.",
      learn_more=GOOGLE_STATUS, touches=every_fetch,
      reads=("fetch_kind", "status", "error", "attempt_statuses"))
def robots_txt_error(crawl, t):
    p = crawl.pages
    robots = p[p["fetch_kind"].eq("robots")]
    failed = attempts_match(
        robots, lambda attempts: any(not isinstance(a, int) or a >= 500 or a == 429 for a in attempts))
    hit = robots[failed | robots["status"].ge(500).fillna(False) | robots["status"].eq(429).fillna(False)
                 | robots["status"].isna()]
    return found(hit["url"], "robots.txt answered " + answers(crawl, hit["url"]) + "; attempts: "
                 + attempts_text(hit))


RULES = rules_in(globals())
