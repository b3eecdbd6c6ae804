"""Sitemap rules: URLs a sitemap should not list, indexable pages it misses, orphans, and sitemap
files that fail or are missing."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import (answers, found, indexable_html_mask, noindex_directive, rule, rules_in, text,
                              url_host)

CATEGORY = "sitemaps"
GOOGLE_SITEMAPS = "https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"
SITEMAPS_ORG_LOCATION = "https://www.sitemaps.org/protocol.html#location"
#: found_via of the sitemap the crawler tries at /sitemap.xml when robots.txt names none there
GUESSED = "guess"


def _listed(crawl) -> pd.Series:
    """Mask on crawl.pages: the in-scope URLs a sitemap lists."""
    p = crawl.pages
    return p["in_sitemap"] & p["in_scope"]


def _sitemaps_of(crawl, urls: pd.Series) -> pd.Series:
    listings = crawl.sitemap_urls
    first = listings[listings["url"].isin(urls)].drop_duplicates("url").set_index("url")["sitemap"]
    return "listed in " + urls.map(first)


@rule(id="sitemap-non-200", severity="warning",
      severity_why="crawls wasted on listed errors, and search engines trust the sitemap less",
      title="Sitemap lists a URL that does not answer 200",
      why="Sitemaps should list only the canonical, indexable URLs; errors in them waste crawls and "
          "make search engines trust the sitemap less.",
      fix="Remove or fix the URL.",
      learn_more=GOOGLE_SITEMAPS, reads=("in_sitemap", "in_scope", "status", "status_class", "error"))
def sitemap_non_200(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & (p["status"].notna() & p["status"].ne(200).fillna(True) & p["status_class"].ne("3xx")
                              | p["status_class"].eq("error"))]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; answers " + answers(crawl, hit["url"]))


@rule(id="sitemap-redirect", severity="warning",
      severity_why="an extra fetch per listing and a sitemap search engines trust less",
      title="Sitemap lists a redirect",
      why="A redirecting URL is not the canonical one; crawlers spend an extra request per listing.",
      fix="List the final URL instead.",
      learn_more=GOOGLE_SITEMAPS, reads=("in_sitemap", "in_scope", "status_class", "final_url"))
def sitemap_redirect(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & p["status_class"].eq("3xx")]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; redirects to " + hit["final_url"])


@rule(id="sitemap-noindex", severity="warning",
      severity_why="conflicting signals and crawls wasted on pages that refuse the index",
      title="Sitemap lists a noindex page",
      why="The sitemap asks for indexing, the page refuses it: conflicting signals and wasted crawls.",
      fix="Drop the URL from the sitemap, or remove the noindex.",
      learn_more=GOOGLE_SITEMAPS, reads=("in_sitemap", "in_scope", "noindex", "meta_robots", "x_robots_tag"))
def sitemap_noindex(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & p["noindex"]]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; noindex (" + noindex_directive(hit) + ")")


@rule(id="sitemap-canonicalised", severity="warning",
      severity_why="the sitemap and the canonical disagree: signals wasted",
      title="Sitemap lists a canonicalised URL",
      why="The URL names another URL as canonical; sitemaps should list the canonical versions only.",
      fix="List the canonical URL instead.",
      learn_more=GOOGLE_SITEMAPS,
      reads=("in_sitemap", "in_scope", "canonical_self_or_absent", "canonical", "link_canonical"))
def sitemap_canonicalised(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & ~p["canonical_self_or_absent"]]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; canonical is "
                 + hit["canonical"].fillna(hit["link_canonical"]))


@rule(id="sitemap-other-host", severity="warning",
      severity_why="entries search engines ignore: the pages the sitemap means to announce are not",
      title="Sitemap lists URLs of another host",
      why="A sitemap may list only URLs of its own site (another host only when that host's robots.txt "
          "names the sitemap): search engines skip the other entries, often a staging or old domain.",
      fix="List this site's own URLs; put the other host's URLs in a sitemap on that host.",
      learn_more=SITEMAPS_ORG_LOCATION, reads=("sitemap_urls", "url"))
def sitemap_other_host(crawl, t):
    listings = crawl.sitemap_urls
    elsewhere = listings[~crawl.in_scope(listings["url"])].drop_duplicates("url")
    return found(elsewhere["url"], "listed in " + elsewhere["sitemap"] + "; another host: "
                 + elsewhere["url"].map(url_host) + " (recorded, not crawled)")


@rule(id="missing-from-sitemap", severity="notice",
      severity_why="hygiene: the page is found through links, only later",
      title="Indexable page missing from the sitemaps",
      why="The site has sitemaps, but this indexable page is not in any: search engines learn about it "
          "and its changes later.",
      fix="Add the page (with <lastmod>) to a sitemap.",
      learn_more=CRAWL_BUDGET, applies_to=indexable_html_mask, reads=("indexable", "is_html", "in_sitemap"), needs=("site-sitemaps",))
def missing_from_sitemap(crawl, t):
    if crawl.sitemap_urls.empty:
        return found(pd.Series(dtype="str"), "")
    p = crawl.pages
    hit = p[indexable_html_mask(crawl) & ~p["in_sitemap"]]
    return found(hit["url"], "indexable page, in no sitemap")


@rule(id="orphan-page", severity="warning",
      severity_why="the page is indexed, but with no internal links it gets no signal from the site",
      title="Orphan page: in a sitemap, no internal links",
      why="Only the sitemap leads to the page: crawlers see it as unimportant and visitors never find "
          "it.",
      fix="Link to the page from related pages, or drop it from the sitemap if it is obsolete.",
      learn_more=GOOGLE_SITEMAPS, reads=("in_sitemap", "in_scope", "inlinks"), needs=("link-graph",))
def orphan_page(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & p["inlinks"].eq(0) & p["url"].ne(crawl.start_url)]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; no internal links to it")


@rule(id="sitemap-file-error", severity="warning",
      severity_why="a sitemap the site declares is lost: search engines learn of its URLs later, through "
                   "links; the pages are not lost",
      title="Declared sitemap fails: no 200 answer, or not a sitemap",
      why="A sitemap named in robots.txt (or in a sitemap index) that cannot be fetched or read tells "
          "search engines nothing, and Search Console reports it as an error.",
      fix="Fix the sitemap URL, or the URL named in robots.txt, the sitemap index and Search Console.",
      learn_more=GOOGLE_SITEMAPS, reads=("fetch_kind", "found_via", "referrer", "status", "error"))
def sitemap_file_error(crawl, t):
    sitemaps = _sitemap_files(crawl)
    hit = sitemaps[~sitemaps["found_via"].eq(GUESSED) & _unreadable(sitemaps)]
    named = hit["found_via"].map({"robots": "named in robots.txt"}).fillna(
        "listed in " + text(hit["referrer"]).where(hit["found_via"].eq("sitemap-index"), "the crawl"))
    return found(hit["url"], named + "; " + _sitemap_answer(crawl, hit))


@rule(id="no-xml-sitemap", severity="notice",
      severity_why="sitemaps are optional (Google finds pages through links); one helps a large or "
                   "changing site be crawled sooner: hygiene",
      title="No XML sitemap found",
      why="robots.txt names no sitemap and /sitemap.xml is not one: search engines learn of new and "
          "changed pages only by crawling links.",
      fix="Publish a sitemap of the canonical, indexable URLs (with <lastmod>), name it in robots.txt "
          "with a Sitemap: line, and submit it in Search Console.",
      learn_more=GOOGLE_SITEMAPS, reads=("fetch_kind", "found_via", "status", "error", "referrer"), needs=("site-sitemaps",))
def no_xml_sitemap(crawl, t):
    sitemaps = _sitemap_files(crawl)
    if sitemaps["found_via"].eq("robots").any():
        return found(pd.Series(dtype="str"), "")  # declared ones are judged by sitemap-file-error
    hit = sitemaps[sitemaps["found_via"].eq(GUESSED) & _unreadable(sitemaps)]
    return found(hit["url"], "robots.txt names no sitemap; " + _sitemap_answer(crawl, hit))


def _sitemap_files(crawl) -> pd.DataFrame:
    p = crawl.pages
    return p.loc[p["fetch_kind"].eq("sitemap"), ["url", "found_via", "referrer", "status", "error"]]


def _unreadable(sitemaps: pd.DataFrame) -> pd.Series:
    """No 200 answer, or one the crawler could not read as a sitemap (an HTML page, bad XML)."""
    return sitemaps["status"].ne(200).fillna(True) | sitemaps["error"].notna()


def _sitemap_answer(crawl, sitemaps: pd.DataFrame) -> pd.Series:
    """ "answered 404", "answered 200 (not-a-sitemap)"."""
    answer = "answered " + answers(crawl, sitemaps["url"])
    read_error = sitemaps["status"].notna() & sitemaps["error"].notna()
    return answer.where(~read_error, answer + " (" + text(sitemaps["error"]) + ")")


RULES = rules_in(globals())
