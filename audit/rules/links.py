"""Link rules: nofollowed internal links and hreflang alternates that do not work."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import Rule, answers, distinct_links, examples, found, page_values

GOOGLE_NOFOLLOW = "https://developers.google.com/search/docs/crawling-indexing/qualify-outbound-links"
GOOGLE_HREFLANG = "https://developers.google.com/search/docs/specialty/international/localized-versions"


def hreflang_pairs(crawl) -> pd.DataFrame:
    """(source, lang, target) for every hreflang alternate a crawled page declares."""
    p = crawl.pages[["url", "hreflang"]].explode("hreflang").dropna(subset=["hreflang"])
    return pd.DataFrame({"source": p["url"], "lang": p["hreflang"].str[0],
                         "target": p["hreflang"].str[1]}).reset_index(drop=True)


def nofollow_internal_link(crawl, t):
    links = crawl.links
    first = distinct_links(crawl, links["kind"].eq("a") & links["nofollow"] & links["internal"], "source")
    listed = examples(first["source"], first["target"], first["total"])
    return found(pd.Series(listed.index), "nofollow links to " + listed.to_numpy())


def hreflang_to_non_200(crawl, t):
    pairs = hreflang_pairs(crawl)
    answer = answers(crawl, pairs["target"])
    bad = pairs[answer.ne("200") & answer.ne("not fetched")]
    return found(bad["source"], "hreflang " + bad["lang"] + " alternate " + bad["target"]
                 + " answers " + answer[bad.index])


def hreflang_not_reciprocal(crawl, t):
    pairs = hreflang_pairs(crawl)
    pairs = pairs[pairs["source"].ne(pairs["target"])]
    checked = pairs[page_values(crawl, pairs["target"], "status").eq(200).fillna(False)]
    back = pd.MultiIndex.from_frame(pairs[["target", "source"]])
    one_way = checked[~pd.MultiIndex.from_frame(checked[["source", "target"]]).isin(back)]
    return found(one_way["source"], "hreflang " + one_way["lang"] + " alternate " + one_way["target"]
                 + " does not link back")


RULES = [
    Rule("nofollow-internal-link", "notice", "links", "Nofollowed internal links",
         "rel=nofollow on links to your own pages hides them from crawlers for no gain; it does not "
         "save crawl budget for pages linked elsewhere.",
         "Remove rel=nofollow from internal links; use robots.txt or noindex for what must stay out.",
         GOOGLE_NOFOLLOW, nofollow_internal_link),
    Rule("hreflang-to-non-200", "warning", "links", "hreflang alternate does not answer 200",
         "Alternates that redirect or fail are ignored, so the language versions are not connected.",
         "Point every hreflang at the final, working URL of each language version.",
         GOOGLE_HREFLANG, hreflang_to_non_200),
    Rule("hreflang-not-reciprocal", "warning", "links", "hreflang without a return link",
         "Each language version must list the others; one-way annotations are ignored.",
         "Add the missing hreflang back to the page listed, on the alternate.",
         GOOGLE_HREFLANG, hreflang_not_reciprocal),
]
