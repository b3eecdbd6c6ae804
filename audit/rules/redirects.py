"""Redirect rules: links to redirects, chains, loops, temporary and meta-refresh redirects."""

from __future__ import annotations

import pandas as pd

from audit.rules.base import chain_text, derived, found, linked_from, rule, rules_in, text

CATEGORY = "redirects"
GOOGLE_REDIRECTS = "https://developers.google.com/search/docs/crawling-indexing/301-redirects"
GOOGLE_STATUS = "https://developers.google.com/crawling/docs/troubleshooting/http-status-codes"


def _redirects(crawl) -> pd.DataFrame:
    return crawl.pages[derived(crawl, "redirects", _redirecting)]  # seven rules read them


def _redirecting(crawl) -> pd.Series:
    p = crawl.pages
    return p["status_class"].eq("3xx") & p["redirect_target"].notna()


def _site_redirects(crawl) -> pd.Series:
    """Mask on crawl.pages: the site's own redirects."""
    return derived(crawl, "redirects", _redirecting) & crawl.pages["in_scope"]


def _chain_heads(crawl) -> pd.DataFrame:
    """Redirecting URLs no other redirect leads to: where visitors and crawlers enter a chain."""
    r = _redirects(crawl)
    return r[~r["url"].isin(r["redirect_target"])]


def _hops(p: pd.DataFrame) -> pd.Series:
    return p["redirect_chain"].str.len() - 1


@rule(id="internal-link-to-redirect", severity="warning",
      severity_why="every crawl of the site spends a fetch per linked redirect: budget wasted at scale",
      title="Internal links point to a redirect",
      why="Every link through a redirect costs crawlers an extra request and delays the real page.",
      fix="Update the links listed to point straight at the final URL.",
      learn_more=GOOGLE_REDIRECTS, waste="redirects",
      reads=("status_class", "redirect_target", "redirect_chain", "inlinks", "links.kind", "error"), needs=("link-graph",))
def internal_link_to_redirect(crawl, t):
    r = _redirects(crawl)
    hit = r[r["inlinks"].gt(0)]  # the target of a followed <a> link
    sources = hit["url"].map(linked_from(crawl, hit["url"]))
    return found(hit["url"], sources + "; " + chain_text(crawl, hit["redirect_chain"]))


@rule(id="redirect-chain", severity="warning",
      severity_why="each hop is another fetch and a little signal lost; the page at the end is reached",
      title="Redirect chain of two hops or more",
      why="Each hop is another request for crawlers and visitors; long chains may not be followed to "
          "the end.",
      fix="Redirect the first URL straight to the final one, and update links to the final URL.",
      learn_more=GOOGLE_REDIRECTS, thresholds={"min_hops": 2}, waste="redirects",
      reads=("status_class", "redirect_target", "redirect_chain", "chain_end", "error"))
def redirect_chain(crawl, t):
    heads = _chain_heads(crawl)
    hit = heads[_hops(heads).ge(t["min_hops"]) & heads["chain_end"].ne("loop")]
    return found(hit["url"], _hops(hit).astype(str) + " hops: " + chain_text(crawl, hit["redirect_chain"]))


@rule(id="redirect-loop", severity="critical",
      severity_why="nothing at the end of a loop can be fetched: the URLs never enter the index",
      title="Redirect loop",
      why="The redirects lead back to a URL already visited: nothing at the end can be crawled or "
          "indexed.",
      fix="Break the loop: make one URL of the cycle answer 200 or redirect outside it.",
      learn_more=GOOGLE_REDIRECTS, waste="redirects",
      reads=("status_class", "redirect_target", "redirect_chain", "chain_end", "error"))
def redirect_loop(crawl, t):
    r = _redirects(crawl)
    hit = r[r["chain_end"].eq("loop")]
    return found(hit["url"], "loop: " + chain_text(crawl, hit["redirect_chain"]))


@rule(id="redirect-chain-too-long", severity="critical",
      severity_why="Google stops following: the content at the end never enters the index by this path",
      title="More redirect hops than Google follows",
      why="Google's crawlers follow up to 10 redirect hops; the content after that is never fetched.",
      fix="Redirect the first URL straight to the final one.",
      learn_more=GOOGLE_STATUS, thresholds={"max_hops": 10}, waste="redirects",
      reads=("status_class", "redirect_target", "redirect_chain", "chain_end", "error"))
def too_many_hops(crawl, t):
    heads = _chain_heads(crawl)
    hit = heads[_hops(heads).gt(t["max_hops"]) & heads["chain_end"].ne("loop")]
    ended = hit["chain_end"].map({"too-long": " (walk stopped, still redirecting)"}).fillna("")
    return found(hit["url"], _hops(hit).astype(str) + " hops" + ended + ": "
                 + chain_text(crawl, hit["redirect_chain"]))


@rule(id="temporary-redirect", severity="notice",
      severity_why="hygiene: the target is reached and Google treats a lasting 302 as permanent in time",
      title="Temporary redirect (302, 303 or 307)",
      why="A temporary redirect is a weak canonical signal: search engines may keep the old URL "
          "indexed. For a long-lived move that is not what you want.",
      fix="Use 301 or 308 if the move is permanent.",
      learn_more=GOOGLE_REDIRECTS, applies_to=_site_redirects,
      reads=("status_class", "redirect_target", "status", "in_scope"))
def temporary_redirect(crawl, t):
    r = crawl.pages[_site_redirects(crawl)]
    hit = r[r["status"].isin([302, 303, 307])]
    return found(hit["url"], text(hit["status"]) + " to " + hit["redirect_target"])


@rule(id="meta-refresh-redirect", severity="warning",
      severity_why="the stub is fetched and parsed before the redirect is seen, and passes a weaker "
                   "signal: fetches and signals wasted at scale",
      title="Meta refresh redirect",
      why="A meta refresh needs the page to be fetched and parsed before the redirect is seen, and is "
          "a weaker signal than a server-side redirect.",
      fix="Replace it with a server-side 301 (permanent) or 302 (temporary).",
      learn_more=GOOGLE_REDIRECTS, waste="redirects", reads=("meta_refresh", "meta_refresh_url"))
def meta_refresh_redirect(crawl, t):
    p = crawl.pages
    hit = p[p["meta_refresh_url"].notna() & p["meta_refresh_url"].ne(p["url"])]
    return found(hit["url"], "meta refresh '" + text(hit["meta_refresh"]) + "' to " + hit["meta_refresh_url"])


@rule(id="redirect-to-error", severity="critical",
      severity_why="the old URL drops out of the index and what it earned goes to an error",
      title="Redirect leads to an error",
      why="Crawlers and visitors follow the redirect only to land on a 4xx, a 5xx or no answer.",
      fix="Point the redirect at a working page, or let the old URL answer 404/410.",
      learn_more=GOOGLE_STATUS, waste="redirects",
      reads=("status_class", "redirect_target", "redirect_chain", "final_status", "chain_end", "error"))
def redirect_to_error(crawl, t):
    r = _redirects(crawl)
    hit = r[r["final_status"].ge(400).fillna(False) | r["chain_end"].eq("error")]
    return found(hit["url"], chain_text(crawl, hit["redirect_chain"]))


@rule(id="redirect-off-site", severity="notice",
      severity_why="often intended (a login provider, a partner): a leftover to check, not a loss",
      title="Redirect leaves the site",
      why="An internal URL sends crawlers to another site: the page's signals go elsewhere. Sometimes "
          "intended (a login provider, a partner), often a leftover.",
      fix="Check the redirect is intended; link to the external URL directly if it is.",
      learn_more=GOOGLE_REDIRECTS, reads=("status_class", "redirect_target", "redirect_chain", "final_url", "error"))
def redirect_off_site(crawl, t):
    r = _redirects(crawl)
    hit = r[~crawl.in_scope(r["final_url"])]
    return found(hit["url"], "leaves the site: " + chain_text(crawl, hit["redirect_chain"]))


RULES = rules_in(globals())
