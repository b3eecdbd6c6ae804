"""Crawl budget: the share of fetched URLs that are not indexable pages, and why.

The report's headline number. Every fetched page or resource URL lands in exactly one of:
``indexable`` (an indexable HTML page worth its crawl), one waste cause (the first that applies,
in ``CAUSES`` order), or ``other`` (a working URL that is neither, e.g. an image or a PDF).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from audit.load import Crawl
from audit.rules.duplicates import url_pattern, variant_key

CAUSES = ("redirects", "errors", "accepted-202-204", "blocked", "noindex", "canonicalised",
          "duplicates", "trap")


def crawl_budget(crawl: Crawl, findings: pd.DataFrame) -> dict[str, Any]:
    p = crawl.pages
    fetched = p[p["is_page"] & (p["status"].notna() | p["error"].notna())]

    def flagged(rule: str) -> pd.Series:
        return fetched["url"].isin(findings.loc[findings["rule"].eq(rule), "url"])

    trap_patterns = url_pattern(findings.loc[findings["rule"].eq("crawl-trap"), "url"])
    reasons = {
        "redirects": fetched["status_class"].eq("3xx"),
        "errors": fetched["status_class"].isin(["4xx", "5xx", "error"]) | flagged("soft-404"),
        "accepted-202-204": fetched["status"].isin([202, 204]).fillna(False).astype(bool),
        # Fetched yet blocked: the crawl was told to ignore robots.txt but recorded the rule.
        "blocked": fetched["blocked"] | fetched["robots_rule"].notna(),
        "noindex": fetched["noindex"],
        "canonicalised": ~fetched["canonical_self_or_absent"],
        "duplicates": (_copies(fetched, flagged("duplicate-content"), fetched["content_hash"])
                       | _copies(fetched, flagged("duplicate-url-variants"), variant_key(fetched["url"]))),
        "trap": url_pattern(fetched["url"]).isin(trap_patterns),
    }
    cause = pd.Series(None, index=fetched.index, dtype="object")
    for name in reversed(CAUSES):  # assigned last to first, so the first cause that applies wins
        cause[reasons[name]] = name
    by_cause = {name: int(cause.eq(name).sum()) for name in CAUSES}
    wasted = sum(by_cause.values())
    indexable = int((fetched["indexable"] & fetched["is_html"] & cause.isna()).sum())
    return {
        "fetched": len(fetched),
        "indexable": indexable,
        "wasted": wasted,
        "waste_share": wasted / len(fetched) if len(fetched) else 0.0,
        "by_cause": by_cause,
        "other": len(fetched) - indexable - wasted,
    }


def _copies(fetched: pd.DataFrame, duplicate: pd.Series, group: pd.Series) -> pd.Series:
    """Duplicates beyond the first URL of their group: the copies a crawler fetches for nothing."""
    first_of_group = ~group[duplicate].duplicated()
    return duplicate & ~fetched.index.isin(first_of_group[first_of_group].index)
