"""The page facts: every column of the store's ``pages`` table, declared once.

A fact is a name, a type and a line saying what it records. Everything else follows from
PAGE_FACTS: the pages table of the store's schema, and so the column an older store gains when
it is opened (crawler.store); which values a pages row holds as JSON; the dtype the audit loads
each column as (audit.load), and so pages.csv. A new fact is an entry here plus its extraction;
a fact of the HTML is the crawler.extract.PageFacts field of its name, which a pages row takes
by that name (and rendered_<name> takes the rendered DOM's).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FactType(enum.Enum):
    """How a fact is stored in SQLite and typed when loaded (audit.load)."""

    TEXT = "TEXT"  # str
    INTEGER = "INTEGER"  # pandas Int64 (NULL allowed)
    REAL = "REAL"  # float
    JSON = "JSON"  # a list, stored as its JSON text
    BLOB = "BLOB"  # bytes

    @property
    def sql(self) -> str:
        return "TEXT" if self is FactType.JSON else self.value


TEXT, INTEGER, REAL, JSON, BLOB = FactType.TEXT, FactType.INTEGER, FactType.REAL, FactType.JSON, FactType.BLOB


@dataclass(frozen=True)
class PageFact:
    name: str
    type: FactType
    doc: str  # what it records
    #: most pages hold a text of their own (a title, a hash): the audit holds the column as Arrow
    #: text, 8 bytes a page beside its characters, where a Python string a page takes 57
    distinct: bool = False

    @property
    def sql(self) -> str:
        """Its column in the pages table's CREATE statement."""
        return f"{self.name} {self.type.sql}"


#: the pages columns, in order (after crawl_id)
PAGE_FACTS: tuple[PageFact, ...] = (
    PageFact("url", TEXT,
             "normalised URL (fragment stripped, scheme and host lower-cased, default port dropped)"),
    PageFact("fetch_kind", TEXT, "page (GET), resource (HEAD, GET fallback; a stylesheet GET, to read "
                                 "its references), robots, sitemap, status-url"),
    PageFact("found_via", TEXT, "start, link, sitemap, redirect, canonical, hreflang, meta-refresh, "
                                "status-url; a sitemap file: robots (named in robots.txt), guess "
                                "(/sitemap.xml tried), sitemap-index"),
    PageFact("depth", INTEGER, "clicks from the start URL (redirect hops keep their source's depth); "
                               "NULL if not reached by links"),
    PageFact("referrer", TEXT, "first page that linked here (or the redirecting URL, or the sitemap)"),
    PageFact("skip_reason", TEXT, "why it was not fetched: robots, out-of-scope, max-depth, trap, "
                                  "sampled-out, excluded, scheme; NULL if fetched"),
    PageFact("robots_rule", TEXT, "the robots.txt rule that blocks it, e.g. 'disallow: /private/'"),
    PageFact("method", TEXT, "HTTP method of the final attempt"),
    PageFact("status", INTEGER, "HTTP status of the final attempt (NULL if none: error or skipped)"),
    PageFact("error", TEXT, "network failure instead of a status: timeout, dns, connection-refused, "
                            "connection-reset, max-size, ..."),
    PageFact("attempt_statuses", JSON, "JSON list of every attempt's status or error, retries included, "
                                       "e.g. [503, 503, 200]"),
    PageFact("redirect_target", TEXT, "for 3xx: the Location header resolved against the URL and normalised"),
    PageFact("location", TEXT, "raw Location header"),
    PageFact("content_type", TEXT, "Content-Type header"),
    PageFact("content_length", INTEGER, "Content-Length header (bytes), if sent"),
    PageFact("x_robots_tag", TEXT, "X-Robots-Tag header(s), joined with ', '"),
    PageFact("retry_after", TEXT, "Retry-After header, raw"),
    PageFact("content_location", TEXT, "Content-Location header"),
    PageFact("cache_control", TEXT, "Cache-Control header(s), joined with ', '"),
    PageFact("expires", TEXT, "Expires header, raw"),
    PageFact("link_canonical", TEXT, "rel=canonical target from the Link header, normalised"),
    PageFact("hsts", TEXT, "Strict-Transport-Security header, raw (browsers heed it on HTTPS only)"),
    PageFact("response_time", REAL, "seconds from request to response (Scrapy download latency: counts "
                                    "our own event loop's lag)"),
    PageFact("ttfb", REAL, "seconds from the request leaving to the response's first bytes arriving, by "
                           "the kernel's TCP clocks (crawler.timing); NULL where not measured"),
    PageFact("size", INTEGER, "body bytes received"),
    PageFact("title", TEXT, "<title> text", distinct=True),
    PageFact("meta_description", TEXT, "meta description content", distinct=True),
    PageFact("meta_robots", TEXT, "meta robots / googlebot content, lower-cased, joined with ', '"),
    PageFact("canonical", TEXT, "<link rel=canonical> target, normalised (first one)"),
    PageFact("canonical_count", INTEGER, "number of <link rel=canonical> in the HTML"),
    PageFact("hreflang", JSON, "JSON list of [lang, url] pairs from <link rel=alternate hreflang>"),
    PageFact("meta_refresh", TEXT, "meta refresh content, raw"),
    PageFact("meta_refresh_url", TEXT, "meta refresh target, normalised"),
    PageFact("h1_count", INTEGER, "number of <h1>"),
    PageFact("word_count", INTEGER, "words of visible text"),
    PageFact("content_hash", TEXT, "hash of the visible text (exact-duplicate detection)", distinct=True),
    PageFact("outlinks", INTEGER, "number of distinct links found on the page"),
    PageFact("fetched_at", REAL, "unix time the response arrived"),
    PageFact("family", TEXT, "URL family of a page fetched or sampled out (crawler.families): search, "
                             "feed, login... or a path template with its query keys"),
    PageFact("family_verdict", TEXT, "what the page said for its family's sample: noindex, "
                                     "canonicalised, duplicate, redirect, error, indexable, other; for a "
                                     "sampled-out URL, its family's sample verdict (e.g. noindex)"),
    PageFact("last_modified", TEXT, "Last-Modified header, raw (a sitemap's <lastmod>)"),
    PageFact("structured_types", JSON, "JSON list of the structured data types found (JSON-LD, "
                                       "Microdata, RDFa), e.g. [\"Product\"]"),
    PageFact("structured_count", INTEGER, "number of structured data items (typed nodes, nested ones "
                                          "included); 0 for none"),
    PageFact("structured_errors", JSON, "JSON list of structured data parse errors, with the parser's "
                                        "message"),
    PageFact("structured_items", JSON, "JSON list of [syntax, type, [property names]] per structured "
                                       "data item"),
    PageFact("minhash", BLOB, "MinHash signature of the visible text's word shingles, BLOB "
                              "(crawler.minhash; near-duplicates)"),
    # rendering (--render auto|all, crawler/render.py); NULL on pages not rendered
    PageFact("render_reason", TEXT, "why it was rendered: all, auto-sample, auto-resample, "
                                    "auto-template-differs"),
    PageFact("render_outcome", TEXT, "ok, timeout (past --render-timeout), crashed (browser or page), error"),
    PageFact("render_error", TEXT, "what stopped a render that is not ok"),
    PageFact("render_time", REAL, "seconds the render took, load and settling included"),
    PageFact("rendered_title", TEXT, "<title> text of the rendered DOM", distinct=True),
    PageFact("rendered_meta_description", TEXT, "meta description of the rendered DOM", distinct=True),
    PageFact("rendered_meta_robots", TEXT, "meta robots / googlebot of the rendered DOM, as meta_robots"),
    PageFact("rendered_canonical", TEXT, "<link rel=canonical> target of the rendered DOM, normalised"),
    PageFact("rendered_h1_count", INTEGER, "number of <h1> in the rendered DOM"),
    PageFact("rendered_h1", TEXT, "text of the rendered DOM's first <h1>", distinct=True),
    PageFact("rendered_word_count", INTEGER, "words of visible text in the rendered DOM"),
    PageFact("rendered_content_hash", TEXT, "hash of the rendered DOM's visible text", distinct=True),
    PageFact("rendered_outlinks", INTEGER, "number of distinct links in the rendered DOM"),
    PageFact("rendered_final_url", TEXT, "URL the page ended on after client-side navigation (JS redirects)"),
    PageFact("rendered_differences", JSON, "JSON list of what differs from the raw HTML: links, title, "
                                           "meta_robots, canonical, h1, word_count"),
    PageFact("rendered_console_errors", JSON, "JSON list of console error messages"),
    PageFact("rendered_js_errors", JSON, "JSON list of uncaught exceptions"),
    PageFact("rendered_failed_requests", JSON, "JSON list of [url, error] of sub-resource requests that "
                                               "failed"),
    PageFact("rendered_xhr", JSON, "JSON list of [url, status] of every fetch/XHR the page made"),
    PageFact("rendered_blocked_resources", JSON, "JSON list of [url, type, robots rule] of sub-resources "
                                                 "robots.txt blocked"),
    PageFact("rendered_blocked_changes", JSON, "JSON list of what the blocked resources change (a render "
                                               "without the block)"),
    PageFact("rendered_ttfb_ms", REAL, "lab: time to first byte (ms, Navigation Timing responseStart)"),
    PageFact("rendered_dcl_ms", REAL, "lab: DOMContentLoaded end (ms)"),
    PageFact("rendered_load_ms", REAL, "lab: load event end (ms)"),
    PageFact("rendered_lcp_ms", REAL, "lab: Largest Contentful Paint (ms, PerformanceObserver)"),
    PageFact("rendered_cls", REAL, "lab: Cumulative Layout Shift up to the end of the render"),
    PageFact("rendered_bytes", INTEGER, "lab: bytes transferred (Resource Timing transferSize, "
                                        "same-origin or allowed)"),
    PageFact("rendered_requests", INTEGER, "lab: requests made (the page and its resources)"),
)


def _named(kind: FactType) -> tuple[str, ...]:
    return tuple(fact.name for fact in PAGE_FACTS if fact.type is kind)


#: pages columns, in order, with what each one records
PAGE_COLUMNS: dict[str, str] = {fact.name: fact.doc for fact in PAGE_FACTS}
PAGE_INTEGER_COLUMNS = _named(INTEGER)
PAGE_REAL_COLUMNS = _named(REAL)
#: JSON columns of pages, decoded by the readers
PAGE_JSON_COLUMNS = _named(JSON)
#: pages columns holding bytes, not text
PAGE_BLOB_COLUMNS = _named(BLOB)
