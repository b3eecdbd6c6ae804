"""Redirect rules: links to redirects, chains, loops, temporary and meta-refresh redirects."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import Rule, chain_text, derived, found, linked_from, text

GOOGLE_REDIRECTS = "https://developers.google.com/search/docs/crawling-indexing/301-redirects"
GOOGLE_STATUS = "https://developers.google.com/crawling/docs/troubleshooting/http-status-codes"


def _redirects(crawl) -> pd.DataFrame:
    return crawl.pages[derived(crawl, "redirects", _redirecting)]  # seven rules read them


def _redirecting(crawl) -> pd.Series:
    p = crawl.pages
    return p["status_class"].eq("3xx") & p["redirect_target"].notna()


def _chain_heads(crawl) -> pd.DataFrame:
    """Redirecting URLs no other redirect leads to: where visitors and crawlers enter a chain."""
    r = _redirects(crawl)
    return r[~r["url"].isin(r["redirect_target"])]


def _hops(p: pd.DataFrame) -> pd.Series:
    return p["redirect_chain"].str.len() - 1


def internal_link_to_redirect(crawl, t):
    r = _redirects(crawl)
    hit = r[r["inlinks"].gt(0)]  # the target of a followed <a> link
    sources = hit["url"].map(linked_from(crawl, hit["url"]))
    return found(hit["url"], sources + "; " + chain_text(crawl, hit["redirect_chain"]))


def redirect_chain(crawl, t):
    heads = _chain_heads(crawl)
    hit = heads[_hops(heads).ge(t["min_hops"]) & heads["chain_end"].ne("loop")]
    return found(hit["url"], _hops(hit).astype(str) + " hops: " + chain_text(crawl, hit["redirect_chain"]))


def redirect_loop(crawl, t):
    r = _redirects(crawl)
    hit = r[r["chain_end"].eq("loop")]
    return found(hit["url"], "loop: " + chain_text(crawl, hit["redirect_chain"]))


def too_many_hops(crawl, t):
    heads = _chain_heads(crawl)
    hit = heads[_hops(heads).gt(t["max_hops"]) & heads["chain_end"].ne("loop")]
    ended = hit["chain_end"].map({"too-long": " (walk stopped, still redirecting)"}).fillna("")
    return found(hit["url"], _hops(hit).astype(str) + " hops" + ended + ": "
                 + chain_text(crawl, hit["redirect_chain"]))


def temporary_redirect(crawl, t):
    r = _redirects(crawl)
    hit = r[r["status"].isin([302, 303, 307]) & r["in_scope"]]
    return found(hit["url"], text(hit["status"]) + " to " + hit["redirect_target"])


def meta_refresh_redirect(crawl, t):
    p = crawl.pages
    hit = p[p["meta_refresh_url"].notna() & p["meta_refresh_url"].ne(p["url"])]
    return found(hit["url"], "meta refresh '" + text(hit["meta_refresh"]) + "' to " + hit["meta_refresh_url"])


def redirect_to_error(crawl, t):
    r = _redirects(crawl)
    hit = r[r["final_status"].ge(400).fillna(False) | r["chain_end"].eq("error")]
    return found(hit["url"], chain_text(crawl, hit["redirect_chain"]))


def redirect_off_site(crawl, t):
    r = _redirects(crawl)
    hit = r[~crawl.in_scope(r["final_url"])]
    return found(hit["url"], "leaves the site: " + chain_text(crawl, hit["redirect_chain"]))


RULES = [
    Rule("internal-link-to-redirect", "warning", "redirects", "Internal links point to a redirect",
         "Every link through a redirect costs crawlers an extra request and delays the real page.",
         "Update the links listed to point straight at the final URL.",
         GOOGLE_REDIRECTS, internal_link_to_redirect),
    Rule("redirect-chain", "warning", "redirects", "Redirect chain of two hops or more",
         "Each hop is another request for crawlers and visitors; long chains may not be followed to "
         "the end.",
         "Redirect the first URL straight to the final one, and update links to the final URL.",
         GOOGLE_REDIRECTS, redirect_chain, {"min_hops": 2}),
    Rule("redirect-loop", "critical", "redirects", "Redirect loop",
         "The redirects lead back to a URL already visited: nothing at the end can be crawled or "
         "indexed.",
         "Break the loop: make one URL of the cycle answer 200 or redirect outside it.",
         GOOGLE_REDIRECTS, redirect_loop),
    Rule("redirect-chain-too-long", "critical", "redirects", "More redirect hops than Google follows",
         "Google's crawlers follow up to 10 redirect hops; the content after that is never fetched.",
         "Redirect the first URL straight to the final one.",
         GOOGLE_STATUS, too_many_hops, {"max_hops": 10}),
    Rule("temporary-redirect", "notice", "redirects", "Temporary redirect (302, 303 or 307)",
         "A temporary redirect is a weak canonical signal: search engines may keep the old URL "
         "indexed. For a long-lived move that is not what you want.",
         "Use 301 or 308 if the move is permanent.", GOOGLE_REDIRECTS, temporary_redirect),
    Rule("meta-refresh-redirect", "warning", "redirects", "Meta refresh redirect",
         "A meta refresh needs the page to be fetched and parsed before the redirect is seen, and is "
         "a weaker signal than a server-side redirect.",
         "Replace it with a server-side 301 (permanent) or 302 (temporary).",
         GOOGLE_REDIRECTS, meta_refresh_redirect),
    Rule("redirect-to-error", "critical", "redirects", "Redirect leads to an error",
         "Crawlers and visitors follow the redirect only to land on a 4xx, a 5xx or no answer.",
         "Point the redirect at a working page, or let the old URL answer 404/410.",
         GOOGLE_STATUS, redirect_to_error),
    Rule("redirect-off-site", "notice", "redirects", "Redirect leaves the site",
         "An internal URL sends crawlers to another site: the page's signals go elsewhere. Sometimes "
         "intended (a login provider, a partner), often a leftover.",
         "Check the redirect is intended; link to the external URL directly if it is.",
         GOOGLE_REDIRECTS, redirect_off_site),
]
