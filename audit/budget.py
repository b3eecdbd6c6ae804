"""Crawl budget: the share of fetched URLs that are not indexable pages, and why; and how much
of the crawl each rule's findings reach.

The report's headline number. Every fetched page or resource URL lands in exactly one of:
``indexable`` (an indexable HTML page worth its crawl), one waste cause (the first that applies,
in ``WASTE_CAUSES`` order), or ``other`` (a working URL that is neither, e.g. an image or a PDF).
A cause is what the pages say (their status, robots, canonical...) plus the pages that the
findings of the rules declaring it as their ``waste`` touch (a soft 404, a duplicate's copies,
a trap's pattern).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from audit.load import Crawl
from audit.rules import RULES_BY_ID, WASTE_CAUSES, Rule
from audit.rules.base import fetched, indexable_html_mask, pages_named
from audit.rules.families import RULE_ID as FAMILY_RULE_ID, family_budget
from audit.segments import segment_budget

#: the pages columns crawl_budget and waste_causes read besides those of the rules whose findings
#: they count (Rule.touched): the causes, the fetched and indexable pages, the segments, and the
#: URL families (family_budget reads what the family rule reads, enabled or not)
PAGES_READ = ("url", "status", "error", "status_class", "is_page", "is_redirect", "blocked", "robots_rule",
              "noindex", "canonical_self_or_absent", "indexable", "is_html", "segment",
              *RULES_BY_ID[FAMILY_RULE_ID].reads)


def waste_causes(crawl: Crawl, findings: pd.DataFrame,
                 touched: dict[str, pd.Series] | None = None) -> pd.Series:
    """Per page row, fetched or not: the first cause of waste (WASTE_CAUSES) that applies to it,
    None if none does. ``touched``: _touched_by_rule's, if already known."""
    # masks on every page (crawl_budget narrows them to the fetched ones): a copy of the
    # fetched pages' columns would cost more than the rest
    p = crawl.pages
    if touched is None:
        touched = _touched_by_rule(crawl, findings)
    reasons = {
        "redirects": p["status_class"].eq("3xx") | p["is_redirect"],
        "errors": p["status_class"].isin(["4xx", "5xx", "error"]),
        "accepted-202-204": p["status"].isin([202, 204]).fillna(False).astype(bool),
        # Fetched yet blocked: the crawl was told to ignore robots.txt but recorded the rule.
        "blocked": p["blocked"] | p["robots_rule"].notna(),
        "noindex": p["noindex"],
        "canonicalised": ~p["canonical_self_or_absent"],
        "duplicates": pd.Series(False, index=p.index),
        "trap": pd.Series(False, index=p.index),
    }
    for rule_id, pages in touched.items():
        cause = RULES_BY_ID[rule_id].waste
        if cause is not None:
            reasons[cause] = reasons[cause] | pages
    cause = pd.Series(None, index=p.index, dtype="object")
    for name in reversed(WASTE_CAUSES):  # assigned last to first, so the first cause that applies wins
        cause[reasons[name]] = name
    return cause


def crawl_budget(crawl: Crawl, findings: pd.DataFrame) -> dict[str, Any]:
    """fetched, indexable, wasted, waste_share, by_cause, other; segments (the same per
    segment, audit.segments.segment_budget); and by_rule: how far each fired
    rule's findings reach (see _reach)."""
    is_fetched = fetched(crawl)
    touched = _touched_by_rule(crawl, findings)
    cause = waste_causes(crawl, findings, touched)[is_fetched]
    by_cause = {name: int(cause.eq(name).sum()) for name in WASTE_CAUSES}
    wasted = sum(by_cause.values())
    worth = indexable_html_mask(crawl)[is_fetched] & cause.isna()
    indexable = int(worth.sum())
    return {
        "fetched": len(cause),
        "indexable": indexable,
        "wasted": wasted,
        "waste_share": wasted / len(cause) if len(cause) else 0.0,
        "by_cause": by_cause,
        "other": len(cause) - indexable - wasted,
        "by_rule": _reach(crawl, touched, is_fetched),
        # the URL families that took the crawl, and the URLs sampled out of them (not fetched)
        **family_budget(crawl, findings),
        "segments": segment_budget(crawl.pages, cause, worth, findings),
    }


def _touched_by_rule(crawl: Crawl, findings: pd.DataFrame) -> dict[str, pd.Series]:
    """Per rule with findings (and known to the registry): the pages they touch (Rule.touched)."""
    touched = {}
    for rule_id, hits in findings.groupby("rule", sort=False):
        rule: Rule | None = RULES_BY_ID.get(str(rule_id))
        touched[str(rule_id)] = (rule.touched(crawl, hits) if rule is not None
                                 else pages_named(crawl, hits["url"]))
    return touched


def _reach(crawl: Crawl, touched: dict[str, pd.Series], is_fetched: pd.Series) -> dict[str, dict[str, Any]]:
    """Per rule: the fetched and the indexable pages it touches, the larger of their shares of
    all fetched and all indexable pages ("share", what the report ranks by), whether it touches
    the start URL, and how many pages the rule judges ("applies_to", if it says)."""
    indexable = is_fetched & indexable_html_mask(crawl)
    n_fetched, n_indexable = int(is_fetched.sum()), int(indexable.sum())
    start = crawl.pages["url"].eq(crawl.start_url)
    reach = {}
    for rule_id, pages in touched.items():
        rule = RULES_BY_ID.get(rule_id)
        applies_to = None if rule is None or rule.applies_to is None else int(rule.applies_to(crawl).sum())
        on_fetched, on_indexable = int((pages & is_fetched).sum()), int((pages & indexable).sum())
        reach[rule_id] = {"fetched": on_fetched, "indexable": on_indexable,
                          "share": max(on_fetched / n_fetched if n_fetched else 0.0,
                                       on_indexable / n_indexable if n_indexable else 0.0),
                          "start_url": bool((pages & start).any()), "applies_to": applies_to}
    return reach
