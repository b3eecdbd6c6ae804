"""Indexability rules: noindex pages linked a lot, and canonicals that point the wrong way."""

from __future__ import annotations

import re

import pandas as pd

from audit.rules.base import (answers, derived, found, noindex_directive, page_values, rule, rules_in, text,
                              texts_match, url_host)

CATEGORY = "indexability"
GOOGLE_CANONICAL = "https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls"
GOOGLE_NOINDEX = "https://developers.google.com/search/docs/crawling-indexing/block-indexing"

HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)


def _canonicalised(crawl) -> pd.DataFrame:
    """Fetched pages whose canonical (HTML first, else Link header) names another URL."""
    p = crawl.pages[derived(crawl, "canonicalised", _canonical_elsewhere)]  # six rules read them
    return p.assign(canonical_target=p["canonical"].fillna(p["link_canonical"]))


def _canonical_elsewhere(crawl) -> pd.Series:
    p = crawl.pages
    target = p["canonical"].fillna(p["link_canonical"])
    return target.notna() & target.ne(p["url"]) & p["status"].notna()


def _target(crawl, pages: pd.DataFrame, column: str) -> pd.Series:
    return page_values(crawl, pages["canonical_target"], column)


def _points_to(p: pd.DataFrame, answer: pd.Series) -> pd.Series:
    return "canonical " + p["canonical_target"] + " answers " + answer


@rule(id="noindex-linked", severity="notice",
      severity_why="a noindex page linked a lot costs a fetch per crawl; at scale the crawl budget's "
                   "noindex share says so",
      title="Noindex page with many internal links",
      why="Crawlers fetch the page through every link, then drop it: crawl budget spent on a page "
          "meant to stay out of the index.",
      fix="Check the noindex is intended; if so, link to the page less (or not at all).",
      learn_more=GOOGLE_NOINDEX, thresholds={"min_inlinks": 3}, waste="noindex",
      reads=("noindex", "inlinks", "meta_robots", "x_robots_tag"), needs=("link-graph",))
def noindex_linked(crawl, t):
    p = crawl.pages
    hit = p[p["noindex"] & p["inlinks"].ge(t["min_inlinks"])]
    return found(hit["url"], "noindex (" + noindex_directive(hit) + ") with " + hit["inlinks"].astype(str)
                 + " internal inlinks")


@rule(id="canonical-to-redirect", severity="warning",
      severity_why="an ambiguous signal, usually resolved: signals wasted, pages stay indexed",
      title="Canonical points to a redirect",
      why="A canonical should name the final, indexable URL; a redirect makes the signal ambiguous.",
      fix="Point the canonical at the URL the redirect ends on.",
      learn_more=GOOGLE_CANONICAL,
      reads=("canonical", "link_canonical", "status", "status_class", "final_url", "error"))
def canonical_to_redirect(crawl, t):
    p = _canonicalised(crawl)
    hit = p[_target(crawl, p, "status_class").eq("3xx")]
    return found(hit["url"], _points_to(hit, answers(crawl, hit["canonical_target"]))
                 + " to " + _target(crawl, hit, "final_url"))


@rule(id="canonical-to-error", severity="warning",
      severity_why="search engines ignore a canonical to an error and index the page itself: the signal "
                   "is wasted, the page is not lost",
      title="Canonical points to an error",
      why="The page names as its preferred version a URL that answers 4xx, 5xx or not at all: the "
          "signal is ignored at best.",
      fix="Point the canonical at a working page, usually the page itself.",
      learn_more=GOOGLE_CANONICAL, reads=("canonical", "link_canonical", "status", "status_class", "error"))
def canonical_to_error(crawl, t):
    p = _canonicalised(crawl)
    hit = p[_target(crawl, p, "status_class").isin(["4xx", "5xx", "error"])]
    return found(hit["url"], _points_to(hit, answers(crawl, hit["canonical_target"])))


@rule(id="canonical-to-noindex", severity="warning",
      severity_why="conflicting signals that search engines usually resolve by indexing one of the two",
      title="Canonical points to a noindex page",
      why="The preferred version is excluded from the index: conflicting signals, and possibly neither "
          "URL is indexed.",
      fix="Point the canonical at an indexable page, or remove the noindex from its target.",
      learn_more=GOOGLE_CANONICAL, reads=("canonical", "link_canonical", "status", "noindex"))
def canonical_to_noindex(crawl, t):
    p = _canonicalised(crawl)
    hit = p[_target(crawl, p, "noindex").eq(True)]
    return found(hit["url"], "canonical " + hit["canonical_target"] + " is noindex")


@rule(id="canonical-chain", severity="warning",
      severity_why="a signal that may not be followed to its end: signals wasted",
      title="Canonical chain",
      why="The canonical target names yet another canonical: search engines may not follow the chain.",
      fix="Point every page straight at the final canonical URL.",
      learn_more=GOOGLE_CANONICAL, reads=("canonical", "link_canonical", "status"))
def canonical_chain(crawl, t):
    p = _canonicalised(crawl)
    onward = _canonicalised(crawl).set_index("url")["canonical_target"]
    next_target = p["canonical_target"].map(onward)
    hit = p[next_target.notna()]
    return found(hit["url"], "canonical " + hit["canonical_target"] + " names another canonical "
                 + next_target[hit.index])


@rule(id="canonical-conflict", severity="warning",
      severity_why="two canonicals cancel each other: the signal is wasted",
      title="HTML and HTTP header canonicals disagree",
      why="The rel=canonical in the HTML and the one in the Link header name different URLs; search "
          "engines may ignore both.",
      fix="Send one canonical, or make both name the same URL.",
      learn_more=GOOGLE_CANONICAL, reads=("canonical", "link_canonical"))
def canonical_conflict(crawl, t):
    p = crawl.pages
    hit = p[p["canonical"].notna() & p["link_canonical"].notna() & p["canonical"].ne(p["link_canonical"])]
    return found(hit["url"], "HTML canonical " + hit["canonical"] + " vs Link header canonical "
                 + hit["link_canonical"])


@rule(id="canonicalised-linked", severity="notice",
      severity_why="hygiene: crawlers reach the canonical anyway, one fetch later",
      title="Internal links to a canonicalised page",
      why="The site links to a URL that declares another URL canonical: crawlers fetch the duplicate "
          "first.",
      fix="Link to the canonical URL instead.",
      learn_more=GOOGLE_CANONICAL, thresholds={"min_inlinks": 1}, waste="canonicalised",
      reads=("canonical", "link_canonical", "status", "inlinks"), needs=("link-graph",))
def canonicalised_linked(crawl, t):
    p = _canonicalised(crawl)
    hit = p[p["inlinks"].ge(t["min_inlinks"])]
    return found(hit["url"], hit["inlinks"].astype(str) + " internal inlinks; canonical is "
                 + hit["canonical_target"])


@rule(id="multiple-canonicals", severity="warning",
      severity_why="several canonicals may all be ignored: the signal is wasted",
      title="More than one rel=canonical",
      why="With several canonical tags search engines may ignore all of them.",
      fix="Keep a single rel=canonical in the head.",
      learn_more=GOOGLE_CANONICAL, reads=("canonical_count", "canonical"))
def multiple_canonicals(crawl, t):
    p = crawl.pages
    hit = p[p["canonical_count"].gt(1).fillna(False)]
    return found(hit["url"], hit["canonical_count"].astype(str) + " rel=canonical tags; first: "
                 + text(hit["canonical"]))


@rule(id="canonical-other-host", severity="warning",
      severity_why="the page hands its signals to another site; unintended, it leaves the index for a page "
                   "the site does not control",
      title="Canonical points to another host",
      why="A cross-host canonical asks search engines to index the other site's URL instead of this "
          "one. Right for syndicated copies; a leftover staging, old or partner domain moves the page "
          "out of the index.",
      fix="Check the host is intended; else point the canonical at this site's own URL.",
      learn_more=GOOGLE_CANONICAL, reads=("canonical", "link_canonical", "status", "url"))
def canonical_other_host(crawl, t):
    p = _canonicalised(crawl)
    hit = p[~crawl.in_scope(p["canonical_target"])]
    hosts = hit["canonical_target"].map(url_host)
    return found(hit["url"], "canonical " + hit["canonical_target"] + ": another host, " + hosts
                 + " (recorded, not crawled)")


@rule(id="canonical-not-http", severity="warning",
      severity_why="a canonical that cannot be crawled is ignored: the signal is wasted",
      title="Canonical is not an http(s) URL",
      why="A canonical such as file:/// or a relative path rewritten by a build tool cannot be crawled.",
      fix="Use the absolute https URL of the preferred page.",
      learn_more=GOOGLE_CANONICAL, reads=("canonical_count", "canonical"))
def canonical_not_http(crawl, t):
    p = crawl.pages
    # The crawler keeps only http(s) canonicals: a tag it counted but could not resolve named
    # something else (file:///, javascript:, an empty href).
    unresolved = p["canonical_count"].gt(0).fillna(False) & p["canonical"].isna()
    elsewhere = texts_match(p["canonical"], lambda canonical: HTTP_URL.match(canonical) is None)
    hit = p[unresolved | elsewhere]
    return found(hit["url"], "rel=canonical " + hit["canonical"].fillna("(unresolvable href)")
                 + " is not an http(s) URL")


RULES = rules_in(globals())
