"""Status rules: 202 Accepted first (the reason this tool exists), then the other answers."""

from __future__ import annotations

import re

import pandas as pd

from audit.rules.base import (answers, attempts_match, attempts_text, found, link_rows, linked_from,
                              rule, rules_in, text, texts_match)

CATEGORY = "status"
GOOGLE_STATUS = "https://developers.google.com/crawling/docs/troubleshooting/http-status-codes"
RFC_202 = "https://www.rfc-editor.org/rfc/rfc9110#section-15.3.3"
CRAWL_BUDGET = "https://developers.google.com/crawling/docs/crawl-budget"

#: URL paths or content types that mark a machine endpoint rather than a page.
API_LIKE_URL = r"/api/|/jobs?/|\.json(?:$|\?)"
API_LIKE_TYPE = r"json|xml"
NOT_FOUND_TEXT = re.compile(r"not found|\b404\b|page (?:does not|doesn't) exist|no longer available"
                            r"|nothing (?:was )?found", re.IGNORECASE)


def _api_like(p: pd.DataFrame) -> pd.Series:
    return (p["url"].str.contains(API_LIKE_URL, regex=True)
            | p["content_type"].str.contains(API_LIKE_TYPE, case=False, na=False))


def _reach(p: pd.DataFrame) -> pd.Series:
    """How crawlers reach each URL: "inlinks: 3, in a sitemap: yes"."""
    return ("inlinks: " + p["inlinks"].astype(str) + ", in a sitemap: "
            + p["in_sitemap"].map({True: "yes", False: "no"}))


def _answered_202(crawl) -> pd.DataFrame:
    p = crawl.pages
    return p[p["status"].eq(202).fillna(False) & p["is_page"]]


@rule(id="crawlable-202", severity="critical",
      severity_why="the page enters the index as an empty placeholder, or not at all",
      title="Crawlable page answers 202 Accepted",
      why="202 means the request was accepted but not processed yet. Googlebot waits a limited time, "
          "then indexes whatever it received: usually an empty or placeholder page.",
      fix="Serve indexable pages with 200 and their full content; keep 202 for job endpoints that "
          "crawlers never reach.",
      learn_more=RFC_202, reads=("status", "is_page", "crawlable", "content_type", "inlinks", "in_sitemap"))
def crawlable_202(crawl, t):
    p = _answered_202(crawl)
    hit = p[p["crawlable"] & ~_api_like(p)]
    return found(hit["url"], "202 Accepted on a page; " + _reach(hit))


@rule(id="crawlable-202-api-endpoint", severity="warning",
      severity_why="an endpoint was never meant to be indexed: only crawl budget is lost, on every crawl",
      title="Crawlable API endpoint answers 202",
      why="A job or API endpoint may rightly answer 202, but crawlers reach it through links or "
          "sitemaps and spend their budget on a response that can never be indexed.",
      fix="Stop linking the endpoint from pages, drop it from sitemaps, or disallow it in robots.txt.",
      learn_more=CRAWL_BUDGET, waste="accepted-202-204",
      reads=("status", "is_page", "crawlable", "content_type", "inlinks", "in_sitemap"))
def crawlable_202_api_endpoint(crawl, t):
    p = _answered_202(crawl)
    hit = p[p["crawlable"] & _api_like(p)]
    return found(hit["url"], "202 Accepted on an API-like endpoint (" + text(hit["content_type"])
                 + "); " + _reach(hit))


def _settled(crawl):
    p = _answered_202(crawl)
    return p[p["rechecks_done"] > 0]


def _rechecked(p: pd.DataFrame) -> pd.Series:
    return " after " + p["rechecks_done"].astype(str) + " re-checks"


@rule(id="202-persistent", severity="critical",
      severity_why="the page never answers with its content, so it never enters the index",
      title="202 never settles",
      why="The URL still answered 202 when re-checked after waiting: search engines will only ever "
          "see the unfinished answer.",
      fix="Finish the processing before answering, or answer 200 with the content (or 303 to it) once "
          "it is ready.",
      learn_more=GOOGLE_STATUS, reads=("status", "is_page", "rechecks_done", "settled_status"))
def persistent_202(crawl, t):
    p = _settled(crawl)
    hit = p[p["settled_status"].eq(202).fillna(False)]
    return found(hit["url"], "still 202" + _rechecked(hit))


@rule(id="202-settled-200", severity="warning",
      severity_why="the content does arrive, but a crawler taking the first answer wastes its fetch "
                   "on the placeholder",
      title="202 that becomes 200 later",
      why="The content arrives only on a later request; a crawler that takes the first answer may index "
          "the placeholder.",
      fix="Render the content on the first request, or pre-compute it so the page answers 200 at once.",
      learn_more=GOOGLE_STATUS, reads=("status", "is_page", "rechecks_done", "settled_status"))
def settled_202_to_200(crawl, t):
    p = _settled(crawl)
    hit = p[p["settled_status"].eq(200).fillna(False)]
    return found(hit["url"], "202 first, 200" + _rechecked(hit))


@rule(id="202-settled-error", severity="critical",
      severity_why="the page ends as an error: it never enters the index, or drops out of it",
      title="202 that becomes an error",
      why="The accepted request failed: crawlers first saw a placeholder, then an error page.",
      fix="Fix the failing job behind the URL, or answer with the right error status straight away.",
      learn_more=GOOGLE_STATUS,
      reads=("status", "is_page", "rechecks_done", "settled_status", "settled_error"))
def settled_202_to_error(crawl, t):
    p = _settled(crawl)
    hit = p[p["settled_status"].ge(400).fillna(False) | p["settled_error"].notna()]
    outcome = hit["settled_error"].fillna(text(hit["settled_status"]))
    return found(hit["url"], "202 first, then " + outcome + _rechecked(hit))


@rule(id="202-without-status-url-or-retry-after", severity="notice",
      severity_why="protocol hygiene: search engines do not poll status monitors, other clients do",
      title="202 without a status URL or Retry-After",
      why="A good 202 tells the client where to check progress (a status URL in Location or "
          "Content-Location) and when to look again (Retry-After); without them clients can only guess.",
      fix="Send a Location or Content-Location status monitor URL and a Retry-After header with the 202.",
      learn_more=RFC_202, reads=("status", "is_page", "location", "content_location", "retry_after"))
def no_status_url_or_retry_after(crawl, t):
    p = _answered_202(crawl)
    hit = p[p["location"].isna() & p["content_location"].isna() & p["retry_after"].isna()]
    return found(hit["url"], "202 without Location, Content-Location or Retry-After")


@rule(id="202-in-sitemap", severity="warning",
      severity_why="the sitemap spends crawls on an unfinished answer and loses search engines' trust",
      title="Sitemap lists a URL that answers 202",
      why="A sitemap asks search engines to crawl and index the URL, but it answers with an unfinished "
          "response.",
      fix="List only URLs that answer 200 with their content.",
      learn_more=GOOGLE_STATUS, reads=("status", "is_page", "in_sitemap"))
def in_sitemap_202(crawl, t):
    p = _answered_202(crawl)
    hit = p[p["in_sitemap"]]
    return found(hit["url"], "listed in a sitemap, answers 202 Accepted")


@rule(id="202-status-url-error", severity="notice",
      severity_why="hygiene for the clients of a job API: search engines never read status monitors",
      title="202 points to a broken status URL",
      why="The status monitor a 202 points to fails, so no client can learn when the job is done.",
      fix="Make the status URL answer (200 with the job's state, or 303 to the result).",
      learn_more=RFC_202, reads=("links.kind", "links.target", "status", "error"))
def status_url_error(crawl, t):
    links = link_rows(crawl, "kind = 'status-url'")
    answer = answers(crawl, links["target"])
    bad = links[~answer.str.match(r"^[123]\d\d$") & answer.ne("not fetched")]
    return found(bad["source"], "status URL " + bad["target"] + " answered " + answer[bad.index])


@rule(id="crawlable-204", severity="warning",
      severity_why="an answer with nothing to index: every crawl of it is budget lost",
      title="Crawlable URL answers 204 No Content",
      why="A 204 has no content to index; Google may report it as a soft 404.",
      fix="Answer 200 with content, or a 404/410 if there is nothing at this URL, and stop linking it.",
      learn_more=GOOGLE_STATUS, waste="accepted-202-204",
      reads=("status", "crawlable", "is_page", "inlinks", "in_sitemap"))
def crawlable_204(crawl, t):
    p = crawl.pages
    hit = p[p["status"].eq(204).fillna(False) & p["crawlable"] & p["is_page"]]
    return found(hit["url"], "204 No Content; " + _reach(hit))


@rule(id="unexpected-203-206", severity="notice",
      severity_why="hygiene: the content usually arrives; a proxy or CDN setting to check",
      title="203 or 206 answer to a plain request",
      why="203 (from a transforming proxy) and 206 (a partial range) are not documented for crawlers; "
          "a plain GET without Range should get the full 200 answer.",
      fix="Check the proxy or CDN in front of the site; answer 200 unless the client asked for a range.",
      learn_more=GOOGLE_STATUS, reads=("status", "is_page"))
def unexpected_203_206(crawl, t):
    p = crawl.pages
    hit = p[p["status"].isin([203, 206]).fillna(False) & p["is_page"]]
    return found(hit["url"], "answered " + text(hit["status"]) + " to a plain GET")


def _internal_errors(crawl, status_class: str) -> pd.DataFrame:
    p = crawl.pages
    hit = p[p["status_class"].eq(status_class) & p["status"].ne(429).fillna(False)
            & p["is_page"] & p["in_scope"]]
    sources = hit["url"].map(linked_from(crawl, hit["url"], ("a", "img", "script", "css", "css-url", "iframe")))
    listed = hit["in_sitemap"].map({True: "listed in a sitemap", False: "not linked"}).where(
        hit["found_via"].ne("list"), "in the URL list")
    return found(hit["url"], text(hit["status"]) + "; " + sources.fillna(listed))


@rule(id="internal-4xx", severity="warning",
      severity_why="the URL has no content to lose; the links to it waste crawls and signals at scale",
      title="Internal URL answers 4xx",
      why="Links to missing pages waste crawls and lead visitors to dead ends; the content is treated "
          "as not existing.",
      fix="Fix or remove the links listed, or redirect the URL to its replacement.",
      learn_more=GOOGLE_STATUS, waste="errors",
      reads=("status_class", "status", "is_page", "in_scope", "in_sitemap", "found_via", "links.kind"))
def internal_4xx(crawl, t):
    return _internal_errors(crawl, "4xx")


@rule(id="internal-5xx", severity="critical",
      severity_why="server errors slow crawling for the whole host and, if they last, drop the URLs "
                   "from the index",
      title="Internal URL answers 5xx",
      why="Server errors make crawlers slow down for the whole site and, if they persist, drop the "
          "URLs from the index.",
      fix="Fix the server error; if it is maintenance, answer 503 with Retry-After.",
      learn_more=GOOGLE_STATUS, waste="errors",
      reads=("status_class", "status", "is_page", "in_scope", "in_sitemap", "found_via", "links.kind"))
def internal_5xx(crawl, t):
    return _internal_errors(crawl, "5xx")


@rule(id="rate-limited-429", severity="warning",
      severity_why="this crawler was limited; verified search engine crawlers may not be. If they are, "
                   "crawling slows for the whole host: then raise it to critical",
      title="Crawler rate-limited with 429",
      why="429 tells crawlers to slow down; if it persists, indexed URLs are dropped.",
      fix="Raise the rate limit for verified search engine crawlers, or make the pages cheaper to serve.",
      learn_more=GOOGLE_STATUS, reads=("attempt_statuses", "status"))
def rate_limited(crawl, t):
    p = crawl.pages
    hit = p[attempts_match(p, lambda attempts: 429 in attempts) | p["status"].eq(429).fillna(False)]
    return found(hit["url"], "attempts: " + attempts_text(hit))


@rule(id="network-error", severity="critical",
      severity_why="no answer at all slows crawling for the whole host, and the URL drops out of the index",
      title="Timeout or connection error",
      why="No answer at all: crawlers treat it like a server error and slow down for the whole host.",
      fix="Find why the server drops or stalls the request (timeouts, crashes, limits) and fix it.",
      learn_more=GOOGLE_STATUS, waste="errors", reads=("error", "status", "is_page", "attempt_statuses"))
def network_error(crawl, t):
    p = crawl.pages
    hit = p[p["error"].notna() & p["status"].isna() & p["is_page"]]
    return found(hit["url"], hit["error"] + "; attempts: " + attempts_text(hit))


@rule(id="recovered-after-errors", severity="notice",
      severity_why="a retry got the page; only failures across the site slow the host, and those fire "
                   "internal-5xx or network-error",
      title="Answered only after failed attempts",
      why="The URL failed (5xx or network error) before a retry succeeded: crawlers that do not retry "
          "see the failure, and failures lower the crawl rate.",
      fix="Look for intermittent server errors in the logs for these URLs.",
      learn_more=CRAWL_BUDGET, reads=("attempt_statuses", "status"))
def recovered_after_errors(crawl, t):
    p = crawl.pages
    failed_first = attempts_match(
        p, lambda attempts: any(not isinstance(a, int) or a >= 500 for a in attempts[:-1]))
    hit = p[failed_first & p["status"].lt(500).fillna(False)]
    return found(hit["url"], "attempts: " + attempts_text(hit))


def _reads_as_not_found(title: str) -> bool:
    # every NOT_FOUND_TEXT match holds one of these words, lower-cased (none of their letters has
    # a case-insensitive match that lower() does not fold to it): the slow search skips the rest
    lowered = title.lower()
    return (("found" in lowered or "404" in lowered or "page" in lowered or "longer" in lowered)
            and NOT_FOUND_TEXT.search(title) is not None)


@rule(id="soft-404", severity="warning",
      severity_why="an error page is never indexed anyway; answering 200 wastes crawls on it, re-crawl "
                   "after re-crawl",
      title="Soft 404: a 200 page that reads as not found",
      why="Search engines detect pages that look like errors but answer 200, report them as soft 404s "
          "and keep re-crawling them, wasting crawl budget.",
      fix="Answer 404 or 410 for content that does not exist.",
      learn_more=GOOGLE_STATUS, thresholds={"min_words": 20}, waste="errors",
      reads=("status", "is_html", "is_page", "in_scope", "title", "content_hash", "word_count"))
def soft_404(crawl, t):
    p = crawl.pages
    candidates = p.loc[p["status"].eq(200).fillna(False) & p["is_html"] & p["is_page"] & p["in_scope"],
                       ["url", "title", "content_hash", "word_count"]]
    probe = crawl.probe
    site_soft_404s = probe.get("status") == 200
    same_as_probe = candidates["content_hash"].eq(probe.get("content_hash")) if site_soft_404s \
        else pd.Series(False, index=candidates.index)
    says_not_found = (texts_match(candidates["title"], _reads_as_not_found)
                      | candidates["url"].eq(probe.get("url")))
    tiny = candidates["word_count"].lt(t["min_words"]).fillna(False) & site_soft_404s
    hit = candidates[same_as_probe | says_not_found | tiny]
    reason = pd.Series("tiny page (" + text(hit["word_count"]) + " words) on a site that answers 200"
                       " for missing URLs", index=hit.index)
    reason[says_not_found[hit.index]] = "title reads as not found: '" + text(hit["title"]) + "'"
    reason[same_as_probe[hit.index]] = "same content as the answer to a missing URL (" + \
        str(probe.get("url")) + ")"
    return found(hit["url"], "200 OK but " + reason)


RULES = rules_in(globals())
