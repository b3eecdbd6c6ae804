"""Crawl budget: the share of fetched URLs that are not indexable pages, and why.

The report's headline number. Every fetched page or resource URL lands in exactly one of:
``indexable`` (an indexable HTML page worth its crawl), one waste cause (the first that applies,
in ``CAUSES`` order), or ``other`` (a working URL that is neither, e.g. an image or a PDF).
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd

from audit.load import Crawl
from audit.rules.base import pages_named
from audit.rules.duplicates import page_url_patterns, url_pattern, variant_key

CAUSES = ("redirects", "errors", "accepted-202-204", "blocked", "noindex", "canonicalised",
          "duplicates", "trap")


def waste_causes(crawl: Crawl, findings: pd.DataFrame) -> pd.Series:
    """Per page row: the first cause of waste (CAUSES) that applies to it, None if none does."""
    # masks on every page, narrowed to the fetched ones at the end: a copy of the fetched
    # pages' columns would cost more than the rest
    p = crawl.pages
    fetched = p["is_page"] & (p["status"].notna() | p["error"].notna())

    def flagged(rule: str) -> pd.Series:
        return fetched & pages_named(crawl, findings.loc[findings["rule"].eq(rule), "url"])

    def copies(rule: str, group_of: Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
        """URLs the rule flags beyond the first of their group: the copies a crawler fetches for nothing."""
        duplicate = p[flagged(rule)]
        copy = group_of(duplicate).duplicated()
        return pd.Series(p.index.isin(copy.index[copy]), index=p.index)

    trap_patterns = url_pattern(findings.loc[findings["rule"].eq("crawl-trap"), "url"])
    reasons = {
        "redirects": p["status_class"].eq("3xx"),
        "errors": p["status_class"].isin(["4xx", "5xx", "error"]) | flagged("soft-404"),
        "accepted-202-204": p["status"].isin([202, 204]).fillna(False).astype(bool),
        # Fetched yet blocked: the crawl was told to ignore robots.txt but recorded the rule.
        "blocked": p["blocked"] | p["robots_rule"].notna(),
        "noindex": p["noindex"],
        "canonicalised": ~p["canonical_self_or_absent"],
        "duplicates": (copies("duplicate-content", lambda pages: pages["content_hash"])
                       | copies("duplicate-url-variants", lambda pages: variant_key(pages["url"]))),
        "trap": page_url_patterns(crawl).isin(trap_patterns),
    }
    cause = pd.Series(None, index=p.index, dtype="object")
    for name in reversed(CAUSES):  # assigned last to first, so the first cause that applies wins
        cause[reasons[name]] = name
    return cause


def crawl_budget(crawl: Crawl, findings: pd.DataFrame) -> dict[str, Any]:
    p = crawl.pages
    fetched = p["is_page"] & (p["status"].notna() | p["error"].notna())
    cause = waste_causes(crawl, findings)[fetched]
    by_cause = {name: int(cause.eq(name).sum()) for name in CAUSES}
    wasted = sum(by_cause.values())
    indexable = int(((p["indexable"] & p["is_html"])[fetched] & cause.isna()).sum())
    return {
        "fetched": len(cause),
        "indexable": indexable,
        "wasted": wasted,
        "waste_share": wasted / len(cause) if len(cause) else 0.0,
        "by_cause": by_cause,
        "other": len(cause) - indexable - wasted,
    }
