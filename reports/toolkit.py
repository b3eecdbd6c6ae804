"""The report's toolkit sections (issue 16): near-duplicate clusters and structured data types
per URL folder: plain data for templates/toolkit.html.j2, from the crawl and its findings."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from audit.rules.near_duplicates import clusters

#: clusters the report lists, largest first, and URLs it names per cluster (the rule's CSV has all)
SHOWN_CLUSTERS = 20
SHOWN_MEMBERS = 10
#: URL folders the structured data table lists, the most pages first
SHOWN_FOLDERS = 30
_FOLDER = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*(/[^/?#]*/)?", re.I)


@dataclass
class Cluster:
    size: int
    urls: list[str]  # the first SHOWN_MEMBERS, sorted


def near_duplicate_clusters(findings: pd.DataFrame) -> tuple[int, list[Cluster]]:
    """(how many clusters, the largest SHOWN_CLUSTERS) of near-duplicate-content's findings."""
    mine = findings.loc[findings["rule"].eq("near-duplicate-content"), ["url", "evidence"]]
    groups = clusters(mine) if len(mine) else []
    return len(groups), [Cluster(len(group), group[:SHOWN_MEMBERS]) for group in groups[:SHOWN_CLUSTERS]]


@dataclass
class FolderTypes:
    folder: str  # "/products/", or "/" for pages at the root
    pages: int  # HTML pages answering 200
    with_data: int  # of which carry structured data
    types: list[tuple[str, int]]  # type, pages carrying it; most pages first


def url_folder(url: str) -> str:
    """The first path folder of a URL ("/blog/" for /blog/post-1), "/" at the root: where a
    site's templates usually show."""
    match = _FOLDER.match(url)
    return (match.group(1) or "/") if match else "/"


def structured_data_by_folder(pages: pd.DataFrame) -> list[FolderTypes]:
    """Structured data types per URL folder of the HTML pages answering 200; [] if none has any."""
    html = pages.loc[pages["is_html"] & pages["status"].eq(200).fillna(False), ["url", "structured_types"]]
    if not html["structured_types"].map(bool).any():
        return []
    rows: dict[str, list] = {}
    for url, kinds in zip(html["url"], html["structured_types"]):
        kinds = kinds if isinstance(kinds, list) else []
        row = rows.setdefault(url_folder(url), [0, 0, Counter()])
        row[0] += 1
        row[1] += bool(kinds)
        row[2].update(set(kinds))
    shown = sorted(rows.items(), key=lambda item: (-item[1][0], item[0]))[:SHOWN_FOLDERS]
    return [FolderTypes(folder, count, with_data, kinds.most_common())
            for folder, (count, with_data, kinds) in shown]
