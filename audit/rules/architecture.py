"""Architecture rules: how the site's pages are laid out for crawlers (click depth)."""

from __future__ import annotations

from audit.rules.base import found, indexable_html_mask, rule, rules_in, text

CATEGORY = "architecture"
SEONAUT = "https://github.com/StJudeWasHere/seonaut"


@rule(id="deep-page", severity="notice",
      severity_why="hygiene: the page is still crawled and indexed, only less often",
      title="Page deep in the site",
      why="Pages many clicks from the home page are crawled less often and look less important.",
      fix="Link to the page from higher up: categories, hubs, related pages.",
      learn_more=SEONAUT, thresholds={"max_depth": 4}, applies_to=indexable_html_mask,
      reads=("depth", "is_html", "indexable"), needs=("link-graph",))
def deep_page(crawl, t):
    p = crawl.pages
    hit = p[p["depth"].gt(t["max_depth"]).fillna(False) & indexable_html_mask(crawl)]
    return found(hit["url"], text(hit["depth"]) + " clicks from the start page")


RULES = rules_in(globals())
