"""Sitemap rules: URLs a sitemap should not list, indexable pages it misses, and orphans."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import Rule, answers, found

GOOGLE_SITEMAPS = "https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"


def _listed(crawl) -> pd.Series:
    """Mask on crawl.pages: the in-scope URLs a sitemap lists."""
    p = crawl.pages
    return p["in_sitemap"] & p["in_scope"]


def _sitemaps_of(crawl, urls: pd.Series) -> pd.Series:
    listings = crawl.sitemap_urls
    first = listings[listings["url"].isin(urls)].drop_duplicates("url").set_index("url")["sitemap"]
    return "listed in " + urls.map(first)


def sitemap_non_200(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & (p["status"].notna() & p["status"].ne(200).fillna(True) & p["status_class"].ne("3xx")
                              | p["status_class"].eq("error"))]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; answers " + answers(crawl, hit["url"]))


def sitemap_redirect(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & p["status_class"].eq("3xx")]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; redirects to " + hit["final_url"])


def sitemap_noindex(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & p["noindex"]]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; noindex")


def sitemap_canonicalised(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & ~p["canonical_self_or_absent"]]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; canonical is "
                 + hit["canonical"].fillna(hit["link_canonical"]))


def missing_from_sitemap(crawl, t):
    if crawl.sitemap_urls.empty:
        return found(pd.Series(dtype="str"), "")
    p = crawl.pages
    hit = p[p["indexable"] & p["is_html"] & ~p["in_sitemap"]]
    return found(hit["url"], "indexable page, in no sitemap")


def orphan_page(crawl, t):
    p = crawl.pages
    hit = p[_listed(crawl) & p["inlinks"].eq(0) & p["url"].ne(crawl.start_url)]
    return found(hit["url"], _sitemaps_of(crawl, hit["url"]) + "; no internal links to it")


def sitemap_file_error(crawl, t):
    p = crawl.pages
    sitemaps = p[p["fetch_kind"].eq("sitemap")]
    hit = sitemaps[sitemaps["status"].ne(200).fillna(True)]
    return found(hit["url"], "sitemap answered " + answers(crawl, hit["url"]))


RULES = [
    Rule("sitemap-non-200", "warning", "sitemaps", "Sitemap lists a URL that does not answer 200",
         "Sitemaps should list only the canonical, indexable URLs; errors in them waste crawls and "
         "make search engines trust the sitemap less.",
         "Remove or fix the URL.", GOOGLE_SITEMAPS, sitemap_non_200),
    Rule("sitemap-redirect", "warning", "sitemaps", "Sitemap lists a redirect",
         "A redirecting URL is not the canonical one; crawlers spend an extra request per listing.",
         "List the final URL instead.", GOOGLE_SITEMAPS, sitemap_redirect),
    Rule("sitemap-noindex", "warning", "sitemaps", "Sitemap lists a noindex page",
         "The sitemap asks for indexing, the page refuses it: conflicting signals and wasted crawls.",
         "Drop the URL from the sitemap, or remove the noindex.", GOOGLE_SITEMAPS, sitemap_noindex),
    Rule("sitemap-canonicalised", "warning", "sitemaps", "Sitemap lists a canonicalised URL",
         "The URL names another URL as canonical; sitemaps should list the canonical versions only.",
         "List the canonical URL instead.", GOOGLE_SITEMAPS, sitemap_canonicalised),
    Rule("missing-from-sitemap", "notice", "sitemaps", "Indexable page missing from the sitemaps",
         "The site has sitemaps, but this indexable page is not in any: search engines learn about it "
         "and its changes later.",
         "Add the page (with <lastmod>) to a sitemap.", CRAWL_BUDGET, missing_from_sitemap),
    Rule("orphan-page", "warning", "sitemaps", "Orphan page: in a sitemap, no internal links",
         "Only the sitemap leads to the page: crawlers see it as unimportant and visitors never find "
         "it.",
         "Link to the page from related pages, or drop it from the sitemap if it is obsolete.",
         GOOGLE_SITEMAPS, orphan_page),
    Rule("sitemap-file-error", "critical", "sitemaps", "Sitemap file does not answer 200",
         "A sitemap that cannot be fetched tells search engines nothing.",
         "Fix the sitemap URL or the URL named in robots.txt and Search Console.",
         GOOGLE_SITEMAPS, sitemap_file_error),
]
