"""Segments: parts of a site the report, the crawl budget and compare break down by.

A job file's ``[segments]`` table, in order, first match wins::

    [segments]
    blog = "/blog/"                                   # a regex searched in the URL
    products = { extract = "page_type", regex = "^product$" }   # on a custom extraction's value

A URL no definition matches is in ``other``. With no definition, a URL's segment is its first
path folder (``/blog/`` for /blog/a-post), ``/`` for the home page and other pages at the root;
past MAX_FOLDERS folders, the ones with the fewest URLs are counted as ``other``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

OTHER = "other"
#: folders a default segmentation keeps (by URL count); a report of a thousand segments reads as none
MAX_FOLDERS = 50
_FIRST_FOLDER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(/[^/?#]+/)")


@dataclass(frozen=True)
class SegmentRule:
    name: str
    pattern: re.Pattern
    extract: str | None = None  # the custom extraction whose value is matched; None: the URL


def parse_segments(table: Mapping[str, Any], extract_names: Iterable[str] | None = None) -> list[SegmentRule]:
    """The checked rules of a ``[segments]`` table; ValueError names a bad one. ``extract_names``:
    the crawl's custom extractions (None: not checked)."""
    if not isinstance(table, Mapping):
        raise ValueError(f"segments must be a table of name = regex, not {table!r}")
    rules = []
    for name, definition in table.items():
        if not str(name).strip() or name == OTHER:
            raise ValueError(f"segment name {name!r} is empty or reserved")
        extract = None
        if isinstance(definition, Mapping):
            unknown = set(definition) - {"extract", "regex"}
            if unknown or not isinstance(definition.get("regex"), str) or not isinstance(
                    definition.get("extract"), str):
                raise ValueError(f"segment {name}: expected {{extract = \"NAME\", regex = \"...\"}}, "
                                 f"not {dict(definition)!r}")
            extract, pattern = definition["extract"], definition["regex"]
            if extract_names is not None and extract not in set(extract_names):
                raise ValueError(f"segment {name}: no custom extraction named {extract!r} (--extract {extract}=...)")
        elif isinstance(definition, str):
            pattern = definition
        else:
            raise ValueError(f"segment {name}: must be a regex or {{extract, regex}}, not {definition!r}")
        try:
            rules.append(SegmentRule(str(name), re.compile(pattern), extract))
        except re.error as exc:
            raise ValueError(f"segment {name}: bad regex {pattern!r}: {exc}") from None
    return rules


def first_folders(urls: pd.Series) -> pd.Series:
    """Each URL's first path folder ("/blog/"), "/" for a page at the root."""
    return urls.astype("str").str.extract(_FIRST_FOLDER, expand=False).fillna("/")


def assign_segments(pages: pd.DataFrame, rules: list[SegmentRule]) -> pd.Series:
    """The segment of each page (module docstring): ``pages`` needs ``url`` and, for rules on an
    extraction, its ``extract_NAME`` column (a list's first value is matched, a count as text)."""
    if not rules:
        folders = first_folders(pages["url"])
        kept = folders.value_counts().index[:MAX_FOLDERS]
        # one text per segment, not one per page (a million pages hold a few dozen segments)
        codes, names = pd.factorize(folders.where(folders.isin(kept), OTHER))
        return pd.Series(names.to_numpy(dtype=object)[codes], index=pages.index, dtype="str")
    segment = np.full(len(pages), None, dtype=object)
    for rule in rules:
        column = f"extract_{rule.extract}" if rule.extract else "url"
        values = pages[column] if column in pages else pd.Series(None, index=pages.index, dtype=object)
        texts = [_text(v) for v in values.to_numpy(dtype=object)]
        hit = np.fromiter((t is not None and rule.pattern.search(t) is not None for t in texts),
                          dtype=bool, count=len(texts))
        segment[hit & (segment == None)] = rule.name  # noqa: E711 - elementwise on an object array
    segment[segment == None] = OTHER  # noqa: E711
    return pd.Series(segment, index=pages.index, dtype="str")


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def segment_of_urls(urls: pd.Series, pages: pd.DataFrame) -> pd.Series:
    """The segment of each URL by its page's ``segment``; a URL no page has: ``other``."""
    rows = pd.Index(pages["url"]).get_indexer(urls)
    known = pages["segment"].to_numpy(dtype=object)
    out = np.where(rows >= 0, known[np.maximum(rows, 0)] if len(known) else OTHER, OTHER)
    return pd.Series(out, index=urls.index, dtype="str")


def segment_budget(pages: pd.DataFrame, cause: pd.Series, worth: pd.Series,
                   findings: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per segment (most URLs first): its URLs, fetches, indexable pages, wasted fetches, waste
    share and causes (as audit.crawl_budget counts them: ``cause`` and ``worth`` are its per
    fetched page; most first, ties in the order the pages met them), and its findings per rule."""
    if "segment" not in pages:
        return {}
    segment = pages["segment"]
    counts = segment.value_counts()
    of_fetched = segment.loc[cause.index]
    fetched = of_fetched.value_counts()
    indexable = worth.groupby(of_fetched).sum()
    # each segment's causes, most first, ties in the order the pages met them: the (segment,
    # cause) pairs in the order first met, stably sorted by their count
    pairs = (pd.DataFrame({"segment": of_fetched, "cause": cause}).dropna(subset=["cause"])
             .groupby(["segment", "cause"], sort=False).size().sort_values(ascending=False, kind="stable"))
    by_cause: dict[str, dict[str, int]] = {}
    for (name, why), n in pairs.items():
        by_cause.setdefault(name, {})[str(why)] = int(n)
    by_rule = (findings.assign(segment=segment_of_urls(findings["url"], pages))
               .groupby(["segment", "rule"]).size() if len(findings) else pd.Series(dtype=int))
    out = {}
    for name, urls in counts.items():
        causes, fetches = by_cause.get(name, {}), int(fetched.get(name, 0))
        wasted = sum(causes.values())
        rules = by_rule.loc[name] if name in by_rule.index.get_level_values(0) else pd.Series(dtype=int)
        out[str(name)] = {
            "urls": int(urls), "fetched": fetches, "indexable": int(indexable.get(name, 0)),
            "wasted": wasted, "waste_share": wasted / fetches if fetches else 0.0,
            "by_cause": causes,
            "findings": {str(k): int(v) for k, v in rules.items()},
        }
    return out
