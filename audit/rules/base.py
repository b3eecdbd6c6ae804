"""What a rule is, and the evidence helpers the rules share.

A rule is one declared unit: its id, severity (and why it has that severity), words and named
thresholds sit next to its check, declared by keyword with the ``@rule(...)`` decorator; its
category is its module's ``CATEGORY``. A check takes the loaded crawl and the thresholds in force
and returns one row per affected URL: ``url`` and a plain-text ``evidence`` string saying why.
A module's ``RULES`` is ``rules_in(globals())``: its rules in the order they are declared.

Besides its words, a rule may declare how far its findings reach (the report ranks and groups
findings by it, see README "Severities"): ``touches``, the pages its findings stand for (by
default the pages they name; a rule reporting one row per URL pattern touches the whole
pattern); ``applies_to``, the pages it judges (a rule flagging nearly all of them is one
site-level finding); ``waste``, the crawl-budget cause (one of ``WASTE_CAUSES``) its touched
pages count as; ``needs``, what it needs of the crawl beyond its pages (``CRAWL_NEEDS``: the
link graph, the site's sitemaps): a crawl without it (list mode) has the rule off, and says why.
"""

from __future__ import annotations

import re
import sys
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, TypeVar

import numpy as np
import pandas as pd

from audit.load import CRAWL_NEEDS, NOINDEX, Crawl
from crawler.store import SEVERITIES

CATEGORIES = ("status", "redirects", "robots", "indexability", "sitemaps", "duplicates",
              "performance", "architecture", "links", "content", "rendering", "security", "structured-data",
              "logs")
#: Causes of wasted crawl budget (audit.budget), in the order a fetch is attributed to them:
#: the first that applies wins.
WASTE_CAUSES = ("redirects", "errors", "accepted-202-204", "blocked", "noindex", "canonicalised",
                "duplicates", "trap")

Check = Callable[[Crawl, Mapping[str, Any]], pd.DataFrame]
#: pages a rule's findings touch: (crawl, the rule's findings) -> mask on crawl.pages
Touches = Callable[[Crawl, pd.DataFrame], pd.Series]
#: pages a rule judges: crawl -> mask on crawl.pages
Population = Callable[[Crawl], pd.Series]

#: How many example sources or members an evidence string names before "and N more".
EXAMPLES = 3

T = TypeVar("T")


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
    severity_why: str = ""  # why this severity, on the scale README's "Severities" gives
    reads: tuple[str, ...] = ()  # the crawl columns the check reads ("links.kind": a links column)
    waste: str | None = None  # the WASTE_CAUSES entry the pages it touches feed, if any
    touches: Touches | None = None  # the pages its findings touch; None: the pages they name
    applies_to: Population | None = None  # the pages it judges; None: not a site-level rule
    needs: tuple[str, ...] = ()  # CRAWL_NEEDS entries the check cannot do without

    def off_for(self, crawl: Crawl) -> str | None:
        """Why this rule cannot judge ``crawl`` (it lacks what the rule needs), or None."""
        lacks = crawl.lacks
        return next((lacks[need] for need in self.needs if need in lacks), None)

    def run(self, crawl: Crawl, thresholds: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.check(crawl, {**self.thresholds, **(thresholds or {})})

    def touched(self, crawl: Crawl, hits: pd.DataFrame) -> pd.Series:
        """Mask on ``crawl.pages``: the pages ``hits`` (this rule's findings) touch."""
        return pages_named(crawl, hits["url"]) if self.touches is None else self.touches(crawl, hits)


def rule(*, id: str, severity: str, severity_why: str, title: str, why: str, fix: str,
         learn_more: str, thresholds: Mapping[str, Any] | None = None,
         reads: tuple[str, ...] = (), waste: str | None = None, touches: Touches | None = None,
         applies_to: Population | None = None, needs: tuple[str, ...] = ()) -> Callable[[Check], Rule]:
    """Declares the check below it as a rule; the rule's category is its module's ``CATEGORY``."""
    if severity not in SEVERITIES:
        raise ValueError(f"rule {id!r}: severity {severity!r} is not one of {SEVERITIES}")
    if not set(needs) <= set(CRAWL_NEEDS):
        raise ValueError(f"rule {id!r}: needs {needs!r}: each must be one of {CRAWL_NEEDS}")
    if waste is not None and waste not in WASTE_CAUSES:
        raise ValueError(f"rule {id!r}: waste {waste!r} is not one of {WASTE_CAUSES}")

    def declare(check: Check) -> Rule:
        category = sys.modules[check.__module__].CATEGORY
        return Rule(id=id, severity=severity, category=category, title=title, why=why, fix=fix,
                    learn_more=learn_more, check=check, thresholds=dict(thresholds or {}),
                    severity_why=severity_why, reads=tuple(reads), waste=waste, touches=touches,
                    applies_to=applies_to, needs=tuple(needs))
    return declare


def rules_in(namespace: Mapping[str, Any]) -> list[Rule]:
    """The rules a module declared, in declaration order (``rules_in(globals())``)."""
    return [value for value in namespace.values() if isinstance(value, Rule)]


def found(urls: pd.Series, evidence: pd.Series | str) -> pd.DataFrame:
    """The check result: affected URLs with their evidence, aligned on ``urls``' index."""
    frame = pd.DataFrame({"url": urls})
    frame["evidence"] = evidence
    return frame.reset_index(drop=True)


def text(values: pd.Series) -> pd.Series:
    """Values as strings for evidence; missing values read as '-'."""
    return values.astype("str").fillna("-")


_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)", re.IGNORECASE)


def url_host(url: str) -> str:
    """The host of a URL with its port, if any ("www.example.com", "127.0.0.2:8080"), lower-cased."""
    match = _HOST.match(url)
    return match.group(1).lower() if match else ""


def noindex_directive(pages: pd.DataFrame) -> pd.Series:
    """What says noindex on each (noindex) page, for evidence: its robots meta tag's content
    ("noindex, follow") when that says it, else "X-Robots-Tag 'noindex'" (a header, which the
    HTML does not show)."""
    in_meta = pages["meta_robots"].str.contains(NOINDEX, case=False, regex=True, na=False)
    return text(pages["meta_robots"]).where(in_meta, "X-Robots-Tag '" + text(pages["x_robots_tag"]) + "'")


def map_texts(texts: pd.Series, func: Callable[[str], str]) -> pd.Series:
    """``func`` of each text, missing values left missing: a plain loop over the texts, several
    times quicker than ``.str`` methods or ``map`` on a million of them."""
    return pd.Series([func(value) if isinstance(value, str) else value for value in texts.to_numpy()],
                     index=texts.index, dtype="str")


def arrow_texts(texts: pd.Series) -> pd.Series:
    """``texts`` as Arrow strings, whose ``.str`` methods run over the column in C (regexes too:
    pandas uses Python's re only where Arrow's would answer otherwise, on non-ASCII text...);
    the pages' texts are Python's (audit.load interns them), whose ``.str`` methods loop in Python."""
    return texts.astype("string[pyarrow]")


def texts_match(texts: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    """Whether ``test`` holds for each text (never for a missing one), in a plain loop as map_texts."""
    return pd.Series([isinstance(value, str) and test(value) for value in texts.to_numpy()],
                     index=texts.index, dtype=bool)


def derived(crawl: Crawl, name: str, compute: Callable[[Crawl], T]) -> T:
    """``compute(crawl)``, computed once per crawl: what several rules (or the crawl budget)
    derive from a million rows. Computed again if the crawl's frames were replaced since."""
    frames = (crawl.pages, crawl.graph, crawl.sitemap_urls)
    memo = vars(crawl).get("_derived")
    if memo is None or any(then() is not now for then, now in zip(memo["frames"], frames)):
        # weak references: a frame the crawl lets go of (its links, once written) is freed
        memo = vars(crawl)["_derived"] = {"frames": tuple(map(weakref.ref, frames))}
    if name not in memo:
        memo[name] = compute(crawl)
    return memo[name]


def _url_index(crawl: Crawl) -> pd.Index:
    # one index of the pages' URLs: its hash table is built on the first look-up, then kept
    return derived(crawl, "url_index", lambda c: pd.Index(c.pages["url"]))


def page_values(crawl: Crawl, urls: pd.Series, column: str) -> pd.Series:
    """``column`` of the page at each URL, aligned on ``urls``; missing for a URL no page has."""
    rows = _url_index(crawl).get_indexer(urls)
    return pd.Series(crawl.pages[column].array.take(rows, allow_fill=True), index=urls.index)


def pages_named(crawl: Crawl, urls: pd.Series) -> pd.Series:
    """Mask on ``crawl.pages``: the pages whose URL is one of ``urls``."""
    rows = _url_index(crawl).get_indexer(urls)
    named = np.zeros(len(crawl.pages), dtype=bool)
    named[rows[rows >= 0]] = True
    return pd.Series(named, index=crawl.pages.index)


def examples(keys: pd.Series, items: pd.Series, total: pd.Series | None = None) -> pd.Series:
    """Per key (in order of first appearance): up to EXAMPLES of its ``items``, in order, joined
    with ', ', plus "and N more"; ``total`` (per item: how many its key has in all) counts them
    when only the first few of each key are given."""
    codes, distinct = pd.factorize(keys)
    order = np.argsort(codes, kind="stable")  # each key's items side by side, still in order
    codes, items = codes[order], items.to_numpy(dtype=object)[order]
    start = np.searchsorted(codes, np.arange(len(distinct)))
    count = np.diff(start, append=len(codes))
    shown = items[start]
    for rank in range(1, EXAMPLES):
        has = count > rank
        shown[has] += ", " + items[start[has] + rank]
    more = (count if total is None else total.to_numpy()[order][start]) - EXAMPLES
    beyond = more > 0
    shown[beyond] += np.array([f" and {n} more" for n in more[beyond]], dtype=object)
    return pd.Series(shown, index=distinct, dtype="str")


def distinct_links(crawl: Crawl, where: str, key: str, params: tuple = (),
                   frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The distinct (source, target) links where the SQL condition ``where`` holds (over
    ``crawl.graph``'s link_facts; ``params`` and ``frames`` as LinkGraph.query takes them), the
    first of each pair in the store's order, only the first EXAMPLES per ``key`` ('source' or
    'target'), with how many there are of their ``key`` in column 'total' (for examples()).
    Deduplicated and counted in DuckDB: a large crawl has hundreds of millions of links."""
    # hash aggregates, not windows: a window sorts every matching link by its partition (1.5M
    # links to 50k blocked URLs at 20M links: twice the time); grouped by the pages' numbers
    # (LinkGraph.add_page_facts), by text only a URL that is no page: half the time of the texts
    return crawl.graph.query(f"""
        WITH matching AS (SELECT row, source, target, anchor, kind, source_id, target_id,
                                 CASE WHEN source_id IS NULL THEN source END AS source_text,
                                 CASE WHEN target_id IS NULL THEN target END AS target_text
                          FROM link_facts WHERE {where}),
        pairs AS (SELECT min(row) AS row, {key}_id AS key_id, {key}_text AS key_text FROM matching
                  GROUP BY source_id, target_id, source_text, target_text),
        keys AS (SELECT count(*) AS total, min(row, {EXAMPLES}) AS shown FROM pairs GROUP BY key_id, key_text)
        SELECT row, source, target, anchor, kind, total FROM matching
        JOIN (SELECT unnest(shown) AS row, total FROM keys) USING (row) ORDER BY row""", params, frames)


def attempts_match(p: pd.DataFrame, test: Callable[[list], bool]) -> pd.Series:
    """``test`` of each row's attempt list, run once per list object: rows with the same attempts
    share one list (audit.load._decoded_lists), a million rows only a few."""
    lists = p["attempt_statuses"].to_numpy()
    ids = np.fromiter(map(id, lists), dtype=np.int64, count=len(lists))
    _, first, which = np.unique(ids, return_index=True, return_inverse=True)
    tested = np.array([test(lists[row]) for row in first], dtype=bool)
    return pd.Series(tested[which], index=p.index)


def attempts_text(p: pd.DataFrame) -> pd.Series:
    """Every attempt's status or error, retries included: "503, 503, 200"."""
    return p["attempt_statuses"].map(lambda attempts: ", ".join(map(str, attempts)))


def link_rows(crawl: Crawl, where: str, params: tuple = (),
              frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The links where the SQL condition ``where`` holds (LinkGraph.select), text as str."""
    return crawl.graph.select(where, params, frames=frames)


def url_frame(urls: pd.Series) -> pd.DataFrame:
    """``urls`` as a frame of one column, url, for a links query to join."""
    return pd.DataFrame({"url": urls.astype(object).to_numpy()})


def linked_targets(crawl: Crawl, urls: pd.Series, kinds: tuple[str, ...]) -> pd.Series:
    """Mask on ``urls``: those a link of one of ``kinds`` points to."""
    hit = crawl.graph.query("SELECT DISTINCT target FROM links WHERE list_contains(?::VARCHAR[], kind) "
                            "AND target IN (SELECT url FROM wanted)", (list(kinds),), {"wanted": url_frame(urls)})
    return urls.isin(hit["target"])


def linked_from(crawl: Crawl, targets: pd.Series, kinds: tuple[str, ...] = ("a",)) -> pd.Series:
    """Per target URL: "linked from <source> ('<anchor>'), ..." over followed-or-not links."""
    to_targets, frames = crawl.graph.to_targets(targets, "wanted")
    first = distinct_links(crawl, f"list_contains(?::VARCHAR[], kind) AND {to_targets}", "target", (list(kinds),), frames)
    item = first["source"] + first["anchor"].map(_quoted_anchor)
    return "linked from " + examples(first["target"], item, first["total"])


def _quoted_anchor(anchor: str | float) -> str:
    """" ('<anchor>')" with the anchor's first 60 characters, or nothing for an empty or missing one."""
    shown = anchor.strip()[:60] if isinstance(anchor, str) else ""
    return f" ('{shown}')" if shown else ""


def answers(crawl: Crawl, urls: pd.Series) -> pd.Series:
    """What each URL answered: its status, else its network error, else 'not fetched'."""
    status, error = page_values(crawl, urls, "status"), page_values(crawl, urls, "error")
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


def group_members(frame: pd.DataFrame, key: str, label: str | pd.Series) -> pd.Series:
    """For each row of ``frame``: "<label> with <n> URLs: a, b, c and N more" for its group."""
    size = frame.groupby(key)[key].transform("size")
    shown = frame[key].map(examples(frame[key], frame["url"]))
    return label + " with " + size.astype(str) + " URLs: " + shown


def fetched(crawl: Crawl) -> pd.Series:
    """Mask on ``crawl.pages``: the pages and resources fetched, answered or failed (what the
    crawl budget counts)."""
    p = crawl.pages
    return p["is_page"] & (p["status"].notna() | p["error"].notna())


def every_fetch(crawl: Crawl, hits: pd.DataFrame) -> pd.Series:
    """``touches`` of a rule whose findings stop or slow the crawling of the whole host."""
    return fetched(crawl)


def indexable_html_mask(crawl: Crawl) -> pd.Series:
    """Mask on ``crawl.pages``: the indexable HTML pages (what on-page rules judge)."""
    p = crawl.pages
    return p["indexable"] & p["is_html"]


def answered(crawl: Crawl) -> pd.Series:
    """Mask on ``crawl.pages``: the pages and resources that got a response."""
    p = crawl.pages
    return p["is_page"] & p["status"].notna()


def fetched_pages(crawl: Crawl, *columns: str) -> pd.DataFrame:
    """URL and ``columns`` of the pages and resources that got a response (only the columns a
    rule reads: copying all of a million rows' columns costs more than most rules)."""
    return crawl.pages.loc[answered(crawl), ["url", *columns]]
