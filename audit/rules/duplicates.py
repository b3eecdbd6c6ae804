"""Duplicate rules: crawl traps, URL variants, and pages sharing content, titles or descriptions."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import Rule, found, group_members
from audit.rules.content import indexable_html

CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"
GOOGLE_DUPLICATES = "https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls"
GOOGLE_TITLES = "https://developers.google.com/search/docs/appearance/title-link"
GOOGLE_SNIPPETS = "https://developers.google.com/search/docs/appearance/snippet"

SESSION_PARAM = r"(?i)(?<=[?&;])(?:sid|sessionid|session_id|sessid|phpsessid|jsessionid)=[^&#;]*&?"


def url_pattern(urls: pd.Series) -> pd.Series:
    """URLs with query values and digit runs blanked: '/events?month=2031-02' -> '/events?month=*'."""
    return (urls.str.replace(r"=[^&#]*", "=*", regex=True)
            .str.replace(r"\d+", "{n}", regex=True))


def variant_key(urls: pd.Series) -> pd.Series:
    """URLs with case, trailing slash, parameter order and session ids ironed out."""
    key = urls.str.lower().str.replace(SESSION_PARAM, "", regex=True).str.replace(r"[?&;]$", "", regex=True)
    key = key.str.replace(r"/(?=$|\?)", "", regex=True)
    several = key.str.contains("&", regex=False)
    key[several] = key[several].map(_sorted_query)
    return key


def _sorted_query(url: str) -> str:
    base, _, query = url.partition("?")
    return base + "?" + "&".join(sorted(query.split("&")))


def _groups(frame: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Rows of ``frame`` whose ``key`` is shared with another row, with the key as column 'group'."""
    frame = frame.assign(group=key)
    frame = frame[frame["group"].notna() & frame["group"].ne("")]
    return frame[frame["group"].duplicated(keep=False)]


def crawl_trap(crawl, t):
    p = crawl.pages
    p = p[p["in_scope"] & (p["is_page"] | p["skip_reason"].eq("trap"))]
    p = p.assign(pattern=url_pattern(p["url"]), trap=p["skip_reason"].eq("trap"))
    groups = p.sort_values("depth").groupby("pattern", sort=False).agg(
        url=("url", "first"), urls=("url", "size"), trapped=("trap", "sum"))
    groups = groups[groups["trapped"].gt(0)
                    | (groups.index.str.contains("?", regex=False)
                       & groups["urls"].ge(t["max_urls_per_pattern"]))]
    return found(groups["url"], "pattern " + groups.index + ": " + groups["urls"].astype(str)
                 + " URLs met, " + groups["trapped"].astype(str) + " stopped as a trap")


def duplicate_url_variants(crawl, t):
    p = crawl.pages
    p = p[p["status"].eq(200).fillna(False) & p["is_page"] & p["in_scope"]]
    dupes = _groups(p, variant_key(p["url"]))
    return found(dupes["url"], group_members(dupes, "group", "same URL up to case, slash, "
                                             "parameter order or session id: group"))


def duplicate_content(crawl, t):
    p = indexable_html(crawl)
    dupes = _groups(p, p["content_hash"])
    return found(dupes["url"], group_members(dupes, "group", "identical text: group"))


def duplicate_title(crawl, t):
    p = indexable_html(crawl)
    dupes = _groups(p, p["title"].str.strip())
    return found(dupes["url"], group_members(dupes, "group", "title '" + dupes["group"] + "': group"))


def duplicate_meta_description(crawl, t):
    p = indexable_html(crawl)
    dupes = _groups(p, p["meta_description"].str.strip())
    return found(dupes["url"], group_members(dupes, "group", "description '"
                                             + dupes["group"].str.slice(0, 80) + "': group"))


RULES = [
    Rule("crawl-trap", "warning", "duplicates", "Crawl trap or parameter explosion",
         "An endless or huge URL space (calendars, facets, sort orders) eats the crawl budget that "
         "real pages need.",
         "Stop linking the endless URLs (or add rel=nofollow), disallow the pattern in robots.txt, "
         "and make out-of-range pages answer 404.",
         CRAWL_BUDGET, crawl_trap, {"max_urls_per_pattern": 50}),
    Rule("duplicate-url-variants", "warning", "duplicates",
         "Same page under URLs differing in case, slash, parameter order or session id",
         "Each variant is crawled separately and splits the page's signals.",
         "Link one form of the URL everywhere, redirect the others to it, and keep session ids out of "
         "URLs.", GOOGLE_DUPLICATES, duplicate_url_variants),
    Rule("duplicate-content", "warning", "duplicates", "Pages with identical content",
         "Search engines pick one of the copies and crawl the others for nothing.",
         "Keep one URL per content: redirect or canonicalise the copies.",
         GOOGLE_DUPLICATES, duplicate_content),
    Rule("duplicate-title", "notice", "duplicates", "Duplicate title",
         "Pages with the same title look alike in search results and may be treated as duplicates.",
         "Give every page its own title.", GOOGLE_TITLES, duplicate_title),
    Rule("duplicate-meta-description", "notice", "duplicates", "Duplicate meta description",
         "A description shared by several pages says nothing about any of them.",
         "Write a description per page, or leave it out.", GOOGLE_SNIPPETS, duplicate_meta_description),
]
