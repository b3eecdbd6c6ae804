"""Link rules: nofollowed internal links and hreflang alternates that do not work."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import answers, distinct_links, examples, found, page_values, rule, rules_in

CATEGORY = "links"
GOOGLE_NOFOLLOW = "https://developers.google.com/search/docs/crawling-indexing/qualify-outbound-links"
GOOGLE_HREFLANG = "https://developers.google.com/search/docs/specialty/international/localized-versions"


def hreflang_pairs(crawl) -> pd.DataFrame:
    """(source, lang, target) for every hreflang alternate a crawled page declares."""
    p = crawl.pages[["url", "hreflang"]].explode("hreflang").dropna(subset=["hreflang"])
    return pd.DataFrame({"source": p["url"], "lang": p["hreflang"].str[0],
                         "target": p["hreflang"].str[1]}).reset_index(drop=True)


@rule(id="nofollow-internal-link", severity="notice",
      severity_why="hygiene: the pages are still found through other links; the nofollow saves nothing",
      title="Nofollowed internal links",
      why="rel=nofollow on links to your own pages hides them from crawlers for no gain; it does not "
          "save crawl budget for pages linked elsewhere.",
      fix="Remove rel=nofollow from internal links; use robots.txt or noindex for what must stay out.",
      learn_more=GOOGLE_NOFOLLOW, reads=("links.kind", "links.nofollow", "links.internal"))
def nofollow_internal_link(crawl, t):
    first = distinct_links(crawl, "kind = 'a' AND nofollow AND internal", "source")
    listed = examples(first["source"], first["target"], first["total"])
    return found(pd.Series(listed.index), "nofollow links to " + listed.to_numpy())


@rule(id="hreflang-to-non-200", severity="warning",
      severity_why="the language versions are not connected: signals wasted, the pages stay indexed",
      title="hreflang alternate does not answer 200",
      why="Alternates that redirect or fail are ignored, so the language versions are not connected.",
      fix="Point every hreflang at the final, working URL of each language version.",
      learn_more=GOOGLE_HREFLANG, reads=("hreflang", "status", "error"))
def hreflang_to_non_200(crawl, t):
    pairs = hreflang_pairs(crawl)
    answer = answers(crawl, pairs["target"])
    bad = pairs[answer.ne("200") & answer.ne("not fetched")]
    return found(bad["source"], "hreflang " + bad["lang"] + " alternate " + bad["target"]
                 + " answers " + answer[bad.index])


@rule(id="hreflang-not-reciprocal", severity="warning",
      severity_why="one-way annotations are ignored: signals wasted, the pages stay indexed",
      title="hreflang without a return link",
      why="Each language version must list the others; one-way annotations are ignored.",
      fix="Add the missing hreflang back to the page listed, on the alternate.",
      learn_more=GOOGLE_HREFLANG, reads=("hreflang", "status"))
def hreflang_not_reciprocal(crawl, t):
    pairs = hreflang_pairs(crawl)
    pairs = pairs[pairs["source"].ne(pairs["target"])]
    checked = pairs[page_values(crawl, pairs["target"], "status").eq(200).fillna(False)]
    back = pd.MultiIndex.from_frame(pairs[["target", "source"]])
    one_way = checked[~pd.MultiIndex.from_frame(checked[["source", "target"]]).isin(back)]
    return found(one_way["source"], "hreflang " + one_way["lang"] + " alternate " + one_way["target"]
                 + " does not link back")


RULES = rules_in(globals())
