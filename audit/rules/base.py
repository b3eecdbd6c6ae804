"""What a rule is, and the evidence helpers the rules share.

A rule is one declared unit: its id, severity, category, words and named thresholds sit
next to its check. A check takes the loaded crawl and the thresholds in force and returns
one row per affected URL: ``url`` and a plain-text ``evidence`` string saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from audit.load import Crawl

SEVERITIES = ("critical", "warning", "notice")
CATEGORIES = ("status", "redirects", "robots", "indexability", "sitemaps", "duplicates",
              "performance", "links", "content")

Check = Callable[[Crawl, Mapping[str, Any]], pd.DataFrame]

#: How many example sources or members an evidence string names before "and N more".
EXAMPLES = 3


@dataclass(frozen=True)
class Rule:
    id: str  # stable kebab-case: configuration and saved findings refer to it
    severity: str
    category: str
    title: str  # what was found, as a heading
    why: str  # why it matters for crawling or indexing
    fix: str  # what to change
    learn_more: str  # URL of the source the rule rests on
    check: Check
    thresholds: Mapping[str, Any] = field(default_factory=dict)

    def run(self, crawl: Crawl, thresholds: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.check(crawl, {**self.thresholds, **(thresholds or {})})


def found(urls: pd.Series, evidence: pd.Series | str) -> pd.DataFrame:
    """The check result: affected URLs with their evidence, aligned on ``urls``' index."""
    frame = pd.DataFrame({"url": urls})
    frame["evidence"] = evidence
    return frame.reset_index(drop=True)


def text(values: pd.Series) -> pd.Series:
    """Values as strings for evidence; missing values read as '-'."""
    return values.astype("str").fillna("-")


def examples(frame: pd.DataFrame, key: str, item: pd.Series, total: pd.Series | None = None) -> pd.Series:
    """Per ``key``: up to EXAMPLES of ``item`` joined with ', ', plus "and N more"; ``total``
    (per key) counts the items when ``frame`` holds only the first few of each key."""
    items = pd.DataFrame({"key": frame[key].to_numpy(), "item": item.to_numpy()})
    grouped = items.groupby("key", sort=False)
    rank, size = grouped.cumcount(), grouped.size() if total is None else total
    # Vectorised join: the first EXAMPLES items side by side, then concatenated column-wise.
    wide = (items.assign(rank=rank)[rank < EXAMPLES].pivot(index="key", columns="rank", values="item")
            .reindex(columns=range(EXAMPLES)).astype("str"))
    shown = wide[0]
    for col in range(1, EXAMPLES):
        shown = shown + (", " + wide[col]).fillna("")
    more = (size.reindex(shown.index) - EXAMPLES).clip(lower=0)
    return shown + (" and " + more.astype(str) + " more").where(more > 0, "")


def distinct_links(crawl: Crawl, mask: pd.Series, key: str) -> tuple[pd.DataFrame, pd.Series]:
    """The distinct (source, target) links where ``mask`` holds, only the first EXAMPLES per
    ``key`` (as text, for examples()), and how many there are per ``key``. Deduplicated and
    counted on ``crawl.links``' codes: a large crawl has tens of millions of links."""
    links = crawl.links.loc[mask, ["source", "target", "anchor"]].drop_duplicates(["source", "target"])
    grouped = links.groupby(key, observed=True, sort=False)
    total = grouped.size()
    first = links[grouped.cumcount() < EXAMPLES]
    first = first.assign(**{col: first[col].astype("str") for col in ("source", "target", "anchor")})
    return first, total.set_axis(total.index.astype("str"))


def attempts_text(p: pd.DataFrame) -> pd.Series:
    """Every attempt's status or error, retries included: "503, 503, 200"."""
    return p["attempt_statuses"].map(lambda attempts: ", ".join(map(str, attempts)))


def link_rows(crawl: Crawl, mask: pd.Series) -> pd.DataFrame:
    """The links where ``mask`` holds, with source, target and anchor as text (``crawl.links``
    holds them as categorical codes: a large crawl has tens of millions of links)."""
    rows = crawl.links[mask]
    return rows.assign(**{col: rows[col].astype("str") for col in ("source", "target", "anchor")})


def linked_from(crawl: Crawl, targets: pd.Series, kinds: tuple[str, ...] = ("a",)) -> pd.Series:
    """Per target URL: "linked from <source> ('<anchor>'), ..." over followed-or-not links."""
    links = crawl.links
    first, total = distinct_links(crawl, links["kind"].isin(kinds) & links["target"].isin(targets), "target")
    anchor = first["anchor"].fillna("").str.strip().str.slice(0, 60)
    item = first["source"] + anchor.map(lambda a: f" ('{a}')" if a else "")
    return "linked from " + examples(first, "target", item, total)


def answers(crawl: Crawl, urls: pd.Series) -> pd.Series:
    """What each URL answered: its status, else its network error, else 'not fetched'."""
    pages = crawl.pages[["url", "status", "error"]].set_index("url")  # not a copy of every column
    status, error = urls.map(pages["status"]), urls.map(pages["error"])
    return status.astype("str").where(status.notna(), error.fillna("not fetched"))


def chain_text(crawl: Crawl, chains: pd.Series) -> pd.Series:
    """Hop chains as "a -> 301 -> b -> 302 -> c (200)"."""
    hops = chains.explode()
    label = dict(zip(hops, answers(crawl, hops)))

    def one(chain: list[str]) -> str:
        parts = [chain[0]]
        for here, there in zip(chain, chain[1:]):
            parts += [label[here], there]
        return " -> ".join(parts) + f" ({label[chain[-1]]})"

    return chains.map(one)


def group_members(frame: pd.DataFrame, key: str, label: str) -> pd.Series:
    """For each row of ``frame``: "<label> with <n> URLs: a, b, c and N more" for its group."""
    size = frame.groupby(key)[key].transform("size")
    shown = frame[key].map(examples(frame, key, frame["url"]))
    return label + " with " + size.astype(str) + " URLs: " + shown


def fetched_pages(crawl: Crawl) -> pd.DataFrame:
    """Pages and resources that got a response."""
    p = crawl.pages
    return p[p["is_page"] & p["status"].notna()]
