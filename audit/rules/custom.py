"""Custom search rules: the pages where a ``--search`` matched, and those lacking a
``--search-absent`` (crawler.extraction). Silent on a crawl made without searches."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.custom import definitions_of
from audit.rules.base import found, rule, rules_in
from crawler.extraction import SEARCH_PREFIX, Search

CATEGORY = "content"
CUSTOM_SEARCH = "https://www.screamingfrog.co.uk/seo-spider/user-guide/configuration/#custom-search"


def _where(search: Search) -> str:
    kind = "pattern" if search.regex else "text"
    return f"{kind} {search.text!r} in the {'visible text' if search.scope == 'text' else 'HTML'}"


def _search_findings(crawl, absent: bool) -> pd.DataFrame:
    """One row per page with the searches of this kind that hit it, named in its evidence."""
    p = crawl.pages
    said: dict[int, list[str]] = {}  # page row -> what each search that hit it says
    for search in definitions_of(crawl.meta).searches:
        column = SEARCH_PREFIX + search.name
        if search.absent != absent or column not in p:
            continue
        matches = p[column].to_numpy(dtype=float, na_value=float("nan"))
        rows = np.flatnonzero(matches == 0) if absent else np.flatnonzero(matches > 0)
        for row in rows.tolist():
            n = int(matches[row])
            said.setdefault(row, []).append(
                f"{search.name}: no {_where(search)}" if absent
                else f"{search.name}: {n} match{'es' if n != 1 else ''} of {_where(search)}")
    rows = sorted(said)
    return found(p["url"].iloc[rows], pd.Series(["; ".join(said[row]) for row in rows],
                                                index=p.index[rows], dtype="str"))


@rule(id="custom-search-match", severity="notice",
      severity_why="a search you defined: what a match means for the site is yours to judge",
      title="Custom search matched",
      why="The page holds text or a pattern a --search looks for: an old brand name, a staging "
          "host, placeholder text, a tracking snippet...",
      fix="Review the pages listed; remove what should not be there, or narrow the search.",
      learn_more=CUSTOM_SEARCH, reads=("search_matches",))
def custom_search_match(crawl, t):
    return _search_findings(crawl, absent=False)


@rule(id="custom-search-absent", severity="notice",
      severity_why="a search you defined: what a missing snippet means for the site is yours to judge",
      title="Custom search not found",
      why="The page lacks text or a pattern a --search-absent expects on every HTML page: an "
          "analytics tag, a consent banner, a required notice...",
      fix="Add what is missing to the pages listed (often one template), or narrow the search.",
      learn_more=CUSTOM_SEARCH, reads=("search_matches",))
def custom_search_absent(crawl, t):
    return _search_findings(crawl, absent=True)


RULES = rules_in(globals())
