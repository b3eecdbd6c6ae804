"""On-page basics every auditor checks: title, meta description, h1."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import Rule, found, text, texts_match

GOOGLE_TITLES = "https://developers.google.com/search/docs/appearance/title-link"
GOOGLE_SNIPPETS = "https://developers.google.com/search/docs/appearance/snippet"
GOOGLE_HEADINGS = "https://developers.google.com/search/docs/appearance/visual-elements-gallery"


def indexable_html(crawl, *columns: str) -> pd.DataFrame:
    """URL and ``columns`` of the indexable HTML pages (only the columns a rule reads: most
    pages are indexable HTML, and copying all their columns costs more than the rules)."""
    p = crawl.pages
    return p.loc[p["indexable"] & p["is_html"], ["url", *columns]]


def _blank(values: pd.Series) -> pd.Series:
    return ~texts_match(values, lambda value: value.strip() != "")


def missing_title(crawl, t):
    p = indexable_html(crawl, "title")
    hit = p[_blank(p["title"])]
    return found(hit["url"], hit["title"].isna().map({True: "no <title>", False: "empty <title>"}))


def missing_meta_description(crawl, t):
    p = indexable_html(crawl, "meta_description")
    hit = p[_blank(p["meta_description"])]
    return found(hit["url"], "no meta description")


def missing_h1(crawl, t):
    p = indexable_html(crawl, "h1_count")
    hit = p[p["h1_count"].fillna(0).eq(0)]
    return found(hit["url"], "no <h1>")


def multiple_h1(crawl, t):
    p = indexable_html(crawl, "h1_count")
    hit = p[p["h1_count"].gt(1).fillna(False)]
    return found(hit["url"], text(hit["h1_count"]) + " <h1> elements")


RULES = [
    Rule("missing-title", "warning", "content", "Missing or empty title",
         "The title is the main source of the link text in search results; without one search engines "
         "make one up.",
         "Give every page a unique, descriptive <title>.", GOOGLE_TITLES, missing_title),
    Rule("missing-meta-description", "notice", "content", "Missing meta description",
         "Search engines then pick a snippet from the page text, which may not sell the page.",
         "Write a short, specific meta description.", GOOGLE_SNIPPETS, missing_meta_description),
    Rule("missing-h1", "notice", "content", "No h1 heading",
         "A main heading tells visitors and search engines what the page is about.",
         "Add one <h1> naming the page's topic.", GOOGLE_HEADINGS, missing_h1),
    Rule("multiple-h1", "notice", "content", "Several h1 headings",
         "Several main headings blur what the page is about.",
         "Keep one <h1>; make the others <h2>.", GOOGLE_HEADINGS, multiple_h1),
]
