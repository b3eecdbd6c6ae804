"""Duplicate rules: crawl traps, URL variants, and pages sharing content, titles or descriptions."""

from __future__ import annotations

import re
from typing import Callable

import pandas as pd

from audit.rules.base import (arrow_texts, derived, found, group_members, indexable_html_mask, map_texts,
                              pages_named, rule, rules_in)
from audit.rules.content import indexable_html

CATEGORY = "duplicates"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"
GOOGLE_DUPLICATES = "https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls"
GOOGLE_TITLES = "https://developers.google.com/search/docs/appearance/title-link"
GOOGLE_SNIPPETS = "https://developers.google.com/search/docs/appearance/snippet"

SESSION_PARAM = re.compile(r"(?i)(?<=[?&;])(?:sid|sessionid|session_id|sessid|phpsessid|jsessionid)=[^&#;]*&?")
_QUERY_VALUE = re.compile(r"=[^&#]*")
_DIGITS = re.compile(r"\d+")
_END_SEPARATOR = re.compile(r"[?&;]$")
_END_SLASH = re.compile(r"/(?=$|\?)")


def url_pattern(urls: pd.Series) -> pd.Series:
    """URLs with query values and digit runs blanked: '/events?month=2031-02' -> '/events?month=*'."""
    blanked = arrow_texts(urls).str.replace(_QUERY_VALUE.pattern, "=*", regex=True)
    return blanked.str.replace(_DIGITS.pattern, "{n}", regex=True).astype("str")


def page_url_patterns(crawl) -> pd.Series:
    """url_pattern of every page's URL, categorical; computed once for crawl_trap and the crawl
    budget."""
    return derived(crawl, "url_patterns", lambda c: url_pattern(c.pages["url"]).astype("category"))


def variant_key(urls: pd.Series) -> pd.Series:
    """URLs with case, trailing slash, parameter order and session ids ironed out."""
    return map_texts(urls, _variant_key)


def _variant_key(url: str) -> str:
    key = url.lower()
    if not ("?" in key or "&" in key or ";" in key or key.endswith(("/", "/\n"))):
        return key  # what the patterns below match needs one of these ('$' also matches before a final newline)
    key = _END_SLASH.sub("", _END_SEPARATOR.sub("", SESSION_PARAM.sub("", key)))
    return _sorted_query(key) if "&" in key else key


def _sorted_query(url: str) -> str:
    base, _, query = url.partition("?")
    return base + "?" + "&".join(sorted(query.split("&")))


def _copies(crawl, hits: pd.DataFrame, group_of: Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
    """Mask on crawl.pages: the pages ``hits`` name beyond the first of their group (``group_of``
    the pages: their group keys), the copies a crawler fetches for nothing."""
    p = crawl.pages
    copy = group_of(p[pages_named(crawl, hits["url"])]).duplicated()
    return pd.Series(p.index.isin(copy.index[copy]), index=p.index)


def _groups(urls: pd.Series, key: pd.Series) -> pd.DataFrame:
    """The ``urls`` whose ``key`` (aligned on them) another of them shares, with the key as
    column 'group'."""
    frame = pd.DataFrame({"url": urls, "group": key})
    frame = frame[frame["group"].notna() & frame["group"].ne("")]
    return frame[frame["group"].duplicated(keep=False)]


@rule(id="crawl-trap", severity="warning",
      severity_why="an endless URL space eats the crawl budget the real pages need, at scale by nature",
      title="Crawl trap or parameter explosion",
      why="An endless or huge URL space (calendars, facets, sort orders) eats the crawl budget that "
          "real pages need.",
      fix="Stop linking the endless URLs (or add rel=nofollow), disallow the pattern in robots.txt, "
          "and make out-of-range pages answer 404.",
      learn_more=CRAWL_BUDGET, thresholds={"max_urls_per_pattern": 50}, waste="trap",
      touches=lambda crawl, hits: page_url_patterns(crawl).isin(url_pattern(hits["url"])),
      reads=("skip_reason", "in_scope", "is_page", "depth"))
def crawl_trap(crawl, t):
    p = crawl.pages
    trap = p["skip_reason"].eq("trap")
    met = p["in_scope"] & (p["is_page"] | trap)
    p = pd.DataFrame({"url": p["url"], "depth": p["depth"], "pattern": page_url_patterns(crawl),
                      "trap": trap})[met]
    groups = p.sort_values("depth").groupby("pattern", observed=True, sort=False).agg(
        url=("url", "first"), urls=("url", "size"), trapped=("trap", "sum"))
    groups = groups.set_axis(groups.index.astype("str"))
    groups = groups[groups["trapped"].gt(0)
                    | (groups.index.str.contains("?", regex=False)
                       & groups["urls"].ge(t["max_urls_per_pattern"]))]
    return found(groups["url"], "pattern " + groups.index + ": " + groups["urls"].astype(str)
                 + " URLs met, " + groups["trapped"].astype(str) + " stopped as a trap")


@rule(id="duplicate-url-variants", severity="warning",
      severity_why="each variant is crawled for nothing and splits the page's signals",
      title="Same page under URLs differing in case, slash, parameter order or session id",
      why="Each variant is crawled separately and splits the page's signals.",
      fix="Link one form of the URL everywhere, redirect the others to it, and keep session ids out of "
          "URLs.",
      learn_more=GOOGLE_DUPLICATES, waste="duplicates",
      touches=lambda crawl, hits: _copies(crawl, hits, lambda pages: variant_key(pages["url"])),
      reads=("status", "is_page", "in_scope"))
def duplicate_url_variants(crawl, t):
    p = crawl.pages
    urls = p.loc[p["status"].eq(200).fillna(False) & p["is_page"] & p["in_scope"], "url"]
    dupes = _groups(urls, variant_key(urls))
    return found(dupes["url"], group_members(dupes, "group", "same URL up to case, slash, "
                                             "parameter order or session id: group"))


@rule(id="duplicate-content", severity="warning",
      severity_why="search engines index one copy and crawl the others for nothing",
      title="Pages with identical content",
      why="Search engines pick one of the copies and crawl the others for nothing.",
      fix="Keep one URL per content: redirect or canonicalise the copies.",
      learn_more=GOOGLE_DUPLICATES, waste="duplicates",
      touches=lambda crawl, hits: _copies(crawl, hits, lambda pages: pages["content_hash"]),
      reads=("indexable", "is_html", "content_hash"))
def duplicate_content(crawl, t):
    p = indexable_html(crawl, "content_hash")
    dupes = _groups(p["url"], p["content_hash"])
    return found(dupes["url"], group_members(dupes, "group", "identical text: group"))


@rule(id="duplicate-title", severity="notice",
      severity_why="hygiene: the pages stay indexed; their search result links look alike",
      title="Duplicate title",
      why="Pages with the same title look alike in search results and may be treated as duplicates.",
      fix="Give every page its own title.",
      learn_more=GOOGLE_TITLES, applies_to=indexable_html_mask, reads=("indexable", "is_html", "title"))
def duplicate_title(crawl, t):
    p = indexable_html(crawl, "title")
    dupes = _groups(p["url"], p["title"].str.strip())
    return found(dupes["url"], group_members(dupes, "group", "title '" + dupes["group"] + "': group"))


@rule(id="duplicate-meta-description", severity="notice",
      severity_why="hygiene: a snippet is still shown, picked from the page text",
      title="Duplicate meta description",
      why="A description shared by several pages says nothing about any of them.",
      fix="Write a description per page, or leave it out.",
      learn_more=GOOGLE_SNIPPETS, applies_to=indexable_html_mask,
      reads=("indexable", "is_html", "meta_description"))
def duplicate_meta_description(crawl, t):
    p = indexable_html(crawl, "meta_description")
    dupes = _groups(p["url"], p["meta_description"].str.strip())
    return found(dupes["url"], group_members(dupes, "group", "description '"
                                             + dupes["group"].str.slice(0, 80) + "': group"))


RULES = rules_in(globals())
