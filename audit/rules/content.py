"""On-page basics every auditor checks: title, meta description, h1."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import found, indexable_html_mask, rule, rules_in, text, texts_match

CATEGORY = "content"
GOOGLE_TITLES = "https://developers.google.com/search/docs/appearance/title-link"
GOOGLE_SNIPPETS = "https://developers.google.com/search/docs/appearance/snippet"
GOOGLE_HEADINGS = "https://developers.google.com/search/docs/appearance/visual-elements-gallery"


def indexable_html(crawl, *columns: str) -> pd.DataFrame:
    """URL and ``columns`` of the indexable HTML pages (only the columns a rule reads: most
    pages are indexable HTML, and copying all their columns costs more than the rules). A
    redirect of any kind (a meta refresh stub too) is not one: it is judged as a redirect."""
    return crawl.pages.loc[indexable_html_mask(crawl), ["url", *columns]]


def _blank(values: pd.Series) -> pd.Series:
    return ~texts_match(values, lambda value: value.strip() != "")


@rule(id="missing-title", severity="warning",
      severity_why="the page's main relevance signal and search result link are lost, usually on many "
                   "pages at once (a template)",
      title="Missing or empty title",
      why="The title is the main source of the link text in search results; without one search engines "
          "make one up.",
      fix="Give every page a unique, descriptive <title>.",
      learn_more=GOOGLE_TITLES, applies_to=indexable_html_mask, reads=("indexable", "is_html", "title"))
def missing_title(crawl, t):
    p = indexable_html(crawl, "title")
    hit = p[_blank(p["title"])]
    return found(hit["url"], hit["title"].isna().map({True: "no <title>", False: "empty <title>"}))


@rule(id="missing-meta-description", severity="notice",
      severity_why="hygiene: descriptions are not a ranking signal; a snippet is taken from the page",
      title="Missing meta description",
      why="Search engines then pick a snippet from the page text, which may not sell the page.",
      fix="Write a short, specific meta description.",
      learn_more=GOOGLE_SNIPPETS, applies_to=indexable_html_mask,
      reads=("indexable", "is_html", "meta_description"))
def missing_meta_description(crawl, t):
    p = indexable_html(crawl, "meta_description")
    hit = p[_blank(p["meta_description"])]
    return found(hit["url"], "no meta description")


@rule(id="missing-h1", severity="notice",
      severity_why="hygiene: headings help readers and search engines, the page is indexed without one",
      title="No h1 heading",
      why="A main heading tells visitors and search engines what the page is about.",
      fix="Add one <h1> naming the page's topic.",
      learn_more=GOOGLE_HEADINGS, applies_to=indexable_html_mask, reads=("indexable", "is_html", "h1_count"))
def missing_h1(crawl, t):
    p = indexable_html(crawl, "h1_count")
    hit = p[p["h1_count"].fillna(0).eq(0)]
    return found(hit["url"], "no <h1>")


@rule(id="multiple-h1", severity="notice",
      severity_why="hygiene: HTML allows several h1; it only blurs the page's main topic",
      title="Several h1 headings",
      why="Several main headings blur what the page is about.",
      fix="Keep one <h1>; make the others <h2>.",
      learn_more=GOOGLE_HEADINGS, applies_to=indexable_html_mask, reads=("indexable", "is_html", "h1_count"))
def multiple_h1(crawl, t):
    p = indexable_html(crawl, "h1_count")
    hit = p[p["h1_count"].gt(1).fillna(False)]
    return found(hit["url"], text(hit["h1_count"]) + " <h1> elements")


RULES = rules_in(globals())
