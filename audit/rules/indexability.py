"""Indexability rules: noindex pages linked a lot, and canonicals that point the wrong way."""

from __future__ import annotations

import re

import pandas as pd

from audit.rules.base import Rule, answers, derived, found, page_values, text, texts_match

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


def noindex_linked(crawl, t):
    p = crawl.pages
    hit = p[p["noindex"] & p["inlinks"].ge(t["min_inlinks"])]
    directive = text(hit["meta_robots"]).where(hit["meta_robots"].notna(),
                                               "X-Robots-Tag '" + text(hit["x_robots_tag"]) + "'")
    return found(hit["url"], "noindex (" + directive + ") with " + hit["inlinks"].astype(str)
                 + " internal inlinks")


def canonical_to_redirect(crawl, t):
    p = _canonicalised(crawl)
    hit = p[_target(crawl, p, "status_class").eq("3xx")]
    return found(hit["url"], _points_to(hit, answers(crawl, hit["canonical_target"]))
                 + " to " + _target(crawl, hit, "final_url"))


def canonical_to_error(crawl, t):
    p = _canonicalised(crawl)
    hit = p[_target(crawl, p, "status_class").isin(["4xx", "5xx", "error"])]
    return found(hit["url"], _points_to(hit, answers(crawl, hit["canonical_target"])))


def canonical_to_noindex(crawl, t):
    p = _canonicalised(crawl)
    hit = p[_target(crawl, p, "noindex").eq(True)]
    return found(hit["url"], "canonical " + hit["canonical_target"] + " is noindex")


def canonical_chain(crawl, t):
    p = _canonicalised(crawl)
    onward = _canonicalised(crawl).set_index("url")["canonical_target"]
    next_target = p["canonical_target"].map(onward)
    hit = p[next_target.notna()]
    return found(hit["url"], "canonical " + hit["canonical_target"] + " names another canonical "
                 + next_target[hit.index])


def canonical_conflict(crawl, t):
    p = crawl.pages
    hit = p[p["canonical"].notna() & p["link_canonical"].notna() & p["canonical"].ne(p["link_canonical"])]
    return found(hit["url"], "HTML canonical " + hit["canonical"] + " vs Link header canonical "
                 + hit["link_canonical"])


def canonicalised_linked(crawl, t):
    p = _canonicalised(crawl)
    hit = p[p["inlinks"].ge(t["min_inlinks"])]
    return found(hit["url"], hit["inlinks"].astype(str) + " internal inlinks; canonical is "
                 + hit["canonical_target"])


def multiple_canonicals(crawl, t):
    p = crawl.pages
    hit = p[p["canonical_count"].gt(1).fillna(False)]
    return found(hit["url"], hit["canonical_count"].astype(str) + " rel=canonical tags; first: "
                 + text(hit["canonical"]))


def canonical_not_http(crawl, t):
    p = crawl.pages
    # The crawler keeps only http(s) canonicals: a tag it counted but could not resolve named
    # something else (file:///, javascript:, an empty href).
    unresolved = p["canonical_count"].gt(0).fillna(False) & p["canonical"].isna()
    elsewhere = texts_match(p["canonical"], lambda canonical: HTTP_URL.match(canonical) is None)
    hit = p[unresolved | elsewhere]
    return found(hit["url"], "rel=canonical " + hit["canonical"].fillna("(unresolvable href)")
                 + " is not an http(s) URL")


RULES = [
    Rule("noindex-linked", "notice", "indexability", "Noindex page with many internal links",
         "Crawlers fetch the page through every link, then drop it: crawl budget spent on a page "
         "meant to stay out of the index.",
         "Check the noindex is intended; if so, link to the page less (or not at all).",
         GOOGLE_NOINDEX, noindex_linked, {"min_inlinks": 3}),
    Rule("canonical-to-redirect", "warning", "indexability", "Canonical points to a redirect",
         "A canonical should name the final, indexable URL; a redirect makes the signal ambiguous.",
         "Point the canonical at the URL the redirect ends on.", GOOGLE_CANONICAL, canonical_to_redirect),
    Rule("canonical-to-error", "critical", "indexability", "Canonical points to an error",
         "The page names as its preferred version a URL that answers 4xx, 5xx or not at all: the "
         "signal is ignored at best.",
         "Point the canonical at a working page, usually the page itself.", GOOGLE_CANONICAL,
         canonical_to_error),
    Rule("canonical-to-noindex", "warning", "indexability", "Canonical points to a noindex page",
         "The preferred version is excluded from the index: conflicting signals, and possibly neither "
         "URL is indexed.",
         "Point the canonical at an indexable page, or remove the noindex from its target.",
         GOOGLE_CANONICAL, canonical_to_noindex),
    Rule("canonical-chain", "warning", "indexability", "Canonical chain",
         "The canonical target names yet another canonical: search engines may not follow the chain.",
         "Point every page straight at the final canonical URL.", GOOGLE_CANONICAL, canonical_chain),
    Rule("canonical-conflict", "warning", "indexability", "HTML and HTTP header canonicals disagree",
         "The rel=canonical in the HTML and the one in the Link header name different URLs; search "
         "engines may ignore both.",
         "Send one canonical, or make both name the same URL.", GOOGLE_CANONICAL, canonical_conflict),
    Rule("canonicalised-linked", "notice", "indexability", "Internal links to a canonicalised page",
         "The site links to a URL that declares another URL canonical: crawlers fetch the duplicate "
         "first.",
         "Link to the canonical URL instead.", GOOGLE_CANONICAL, canonicalised_linked, {"min_inlinks": 1}),
    Rule("multiple-canonicals", "warning", "indexability", "More than one rel=canonical",
         "With several canonical tags search engines may ignore all of them.",
         "Keep a single rel=canonical in the head.", GOOGLE_CANONICAL, multiple_canonicals),
    Rule("canonical-not-http", "warning", "indexability", "Canonical is not an http(s) URL",
         "A canonical such as file:/// or a relative path rewritten by a build tool cannot be crawled.",
         "Use the absolute https URL of the preferred page.", GOOGLE_CANONICAL, canonical_not_http),
]
