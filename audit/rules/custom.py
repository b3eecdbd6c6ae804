"""Custom search rules: the pages where a ``--search`` matched, and those lacking a
``--search-absent`` (crawler.extraction). Silent on a crawl made without searches."""

from __future__ import annotations

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
    evidence = pd.Series("", index=p.index, dtype=object)
    for search in definitions_of(crawl.meta).searches:
        column = SEARCH_PREFIX + search.name
        if search.absent != absent or column not in p:
            continue
        matches = p[column]
        hit = matches.eq(0).fillna(False).to_numpy(bool) if absent else matches.gt(0).fillna(False).to_numpy(bool)
        said = (f"{search.name}: no {_where(search)}" if absent
                else search.name + ": " + matches[hit].map(lambda n: f"{n} match" + ("es" if n != 1 else ""))
                + f" of {_where(search)}")
        evidence[hit] = (evidence[hit] + "; ").where(evidence[hit].ne(""), "") + said
    hit = evidence.ne("")
    return found(p.loc[hit, "url"], evidence[hit].astype("str"))


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
