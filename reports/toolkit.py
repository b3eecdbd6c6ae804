"""The report's toolkit sections (issue 16): near-duplicate clusters (and structured data):
plain data for templates/toolkit.html.j2, computed from the crawl and its findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from audit.rules.near_duplicates import clusters

#: clusters the report lists, largest first, and URLs it names per cluster (the rule's CSV has all)
SHOWN_CLUSTERS = 20
SHOWN_MEMBERS = 10


@dataclass
class Cluster:
    size: int
    urls: list[str]  # the first SHOWN_MEMBERS, sorted


def near_duplicate_clusters(findings: pd.DataFrame) -> tuple[int, list[Cluster]]:
    """(how many clusters, the largest SHOWN_CLUSTERS) of near-duplicate-content's findings."""
    mine = findings.loc[findings["rule"].eq("near-duplicate-content"), ["url", "evidence"]]
    groups = clusters(mine) if len(mine) else []
    return len(groups), [Cluster(len(group), group[:SHOWN_MEMBERS]) for group in groups[:SHOWN_CLUSTERS]]


def toolkit_sections(crawl: Any, findings: pd.DataFrame) -> dict[str, Any]:
    """What templates/toolkit.html.j2 shows."""
    total, shown = near_duplicate_clusters(findings)
    return {"near_duplicate_total": total, "near_duplicates": shown}
