"""Table-driven rule tests on hand-built crawls: one planted positive per rule, the clean shop
as everyone's negative, and near misses that must stay silent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit import RULES
from audit.rules import RULES_BY_ID
from audit.rules.base import CATEGORIES, WASTE_CAUSES
from crawler.minhash import signature
from tests import render_rule_cases, test_rules_security as security_cases
from tests import test_logs as log_cases
from tests.rule_frames import CLEAN_PATHS, link, make_crawl, page, recheck, sitemap_file, skipped, u

BLOCKED = skipped("/private/x", "robots", robots_rule="disallow: /private/")
GONE = page("/gone", status=404, title="Gone")
TEXT = [f"word{i}" for i in range(200)]
OLD = page("/old", status=301, redirect_target="/shoes", content_type=None, title=None, canonical=None)


def hops(prefix: str, count: int, end: str = "/shoes") -> list[dict]:
    """A redirect chain prefix1 -> prefix2 -> ... -> end, ``count`` hops long."""
    paths = [f"{prefix}{i}" for i in range(1, count + 1)] + [end]
    return [page(a, status=301, redirect_target=b, content_type=None, canonical=None)
            for a, b in zip(paths, paths[1:])]




def monitored(job: str, **monitor_facts) -> list[dict]:
    """A 202 page and the status monitor its Location names (fetched as status-url, answered 200)."""
    return [page(f"/jobs/{job}", status=202, location=f"/jobs/{job}/status"),
            page(f"/jobs/{job}/status", fetch_kind="status-url", found_via="status-url",
                 content_type="application/json", title=None, canonical=None, **monitor_facts)]


MONITORED = monitored("1") + monitored("2")
MONITOR_LINKS = [link(f"/jobs/{job}", f"/jobs/{job}/status", kind="status-url") for job in ("1", "2")]
PRIVATE = dict(x_robots_tag="noindex", cache_control="private, no-store, max-age=60")

#: rule id -> (make_crawl arguments, paths the rule must flag, text its evidence must contain)
POSITIVES = {
    "crawlable-202": (dict(pages=[page("/sale", status=202)]), ["/sale"],
                      "inlinks: 1, in a sitemap: no"),
    "crawlable-202-api-endpoint": (
        dict(pages=[page("/api/export", status=202, content_type="application/json")]),
        ["/api/export"], "application/json"),
    "202-persistent": (dict(pages=[page("/report", status=202)],
                            rechecks=[recheck("/report", 1, 202), recheck("/report", 2, 202)]),
                       ["/report"], "still 202 after 2 re-checks"),
    "202-settled-200": (dict(pages=[page("/sale", status=202)],
                             rechecks=[recheck("/sale", 1, 202), recheck("/sale", 2, 200)]),
                        ["/sale"], "202 first, 200 after 2 re-checks"),
    "202-settled-error": (dict(pages=[page("/sale", status=202)],
                               rechecks=[recheck("/sale", 1, error="timeout")]),
                          ["/sale"], "then timeout"),
    "202-without-status-url-or-retry-after": (dict(pages=[page("/checkout/status", status=202)]),
                                              ["/checkout/status"], "without Location"),
    "202-in-sitemap": (dict(pages=[page("/sale", status=202)], sitemap=["/sale"]), ["/sale"], "sitemap"),
    "202-status-url-error": (
        dict(pages=[page("/jobs/1", status=202, location="/jobs/1/status"),
                    page("/jobs/1/status", status=404, fetch_kind="status-url")],
             links=[link("/jobs/1", "/jobs/1/status", kind="status-url")]),
        ["/jobs/1"], "status URL https://shop.test/jobs/1/status answered 404"),
    "crawlable-204": (dict(pages=[page("/empty", status=204)]), ["/empty"], "204 No Content"),
    "unexpected-203-206": (dict(pages=[page("/partial", status=206)]), ["/partial"], "206"),
    "internal-4xx": (dict(pages=[GONE], links=[link("/shoes", "/gone", anchor="Old boots")]),
                     ["/gone"], "https://shop.test/shoes ('Old boots')"),
    "internal-5xx": (dict(pages=[page("/broken", status=500)]), ["/broken"], "500; linked from"),
    "rate-limited-429": (dict(pages=[page("/busy", attempt_statuses=[429, 429, 200])]), ["/busy"],
                         "429, 429, 200"),
    "network-error": (dict(pages=[page("/slow", status=None, error="timeout",
                                       attempt_statuses=["timeout", "timeout"])]),
                      ["/slow"], "timeout; attempts: timeout, timeout"),
    "recovered-after-errors": (dict(pages=[page("/flaky", attempt_statuses=[503, 200])]), ["/flaky"],
                               "503, 200"),
    "soft-404": (dict(pages=[page("/blog/gone", content_hash="h404"),
                             page("/search/none", title="Page not found")],
                      probe={"url": u("/zz-missing"), "status": 200, "content_hash": "h404"}),
                 ["/blog/gone", "/search/none"], "200 OK but"),
    "internal-link-to-redirect": (dict(pages=[OLD]), ["/old"],
                                  "https://shop.test/old -> 301 -> https://shop.test/shoes (200)"),
    "redirect-chain": (dict(pages=hops("/hop", 3)), ["/hop1"], "3 hops: https://shop.test/hop1 -> 301"),
    "redirect-loop": (dict(pages=[page("/l1", status=301, redirect_target="/l2"),
                                  page("/l2", status=302, redirect_target="/l1")]),
                      ["/l1", "/l2"], "-> 302 -> https://shop.test/l1 (301)"),
    "redirect-chain-too-long": (dict(pages=hops("/long", 12)), ["/long1"], "12 hops"),
    "temporary-redirect": (dict(pages=[page("/t", status=302, redirect_target="/shoes")]), ["/t"],
                           "302 to https://shop.test/shoes"),
    "meta-refresh-redirect": (dict(pages=[page("/refresh", meta_refresh="0; url=/shoes",
                                               meta_refresh_url="/shoes")]), ["/refresh"], "0; url=/shoes"),
    "redirect-to-error": (dict(pages=[page("/r", status=301, redirect_target="/gone"), GONE]), ["/r"],
                          "-> https://shop.test/gone (404)"),
    "redirect-off-site": (dict(pages=[page("/out", status=301, redirect_target="https://other.test/x")]),
                          ["/out"], "https://other.test/x (not fetched)"),
    "linked-but-blocked": (dict(pages=[BLOCKED]), ["/private/x"], "blocked by 'disallow: /private/'"),
    "blocked-in-sitemap": (dict(pages=[BLOCKED], sitemap=["/private/x"], nav=False), ["/private/x"],
                           "listed in a sitemap"),
    "blocked-canonical-or-hreflang-target": (
        dict(pages=[BLOCKED, page("/hats", canonical="/private/x")],
             links=[link("/hats", "/private/x", kind="canonical")], nav=False),
        ["/private/x"], "linked from https://shop.test/hats"),
    "robots-txt-error": (dict(pages=[page("/robots.txt", fetch_kind="robots", attempt_statuses=[503, 200])]),
                         ["/robots.txt"], "answered 200; attempts: 503, 200"),
    "noindex-linked": (dict(pages=[page("/tag/red", meta_robots="noindex, follow")],
                            links=[link("/shoes", "/tag/red"), link("/hats", "/tag/red")]),
                       ["/tag/red"], "noindex (noindex, follow) with 3 internal inlinks"),
    "canonical-to-redirect": (dict(pages=[page("/c1", canonical="/old"), OLD]), ["/c1"],
                              "canonical https://shop.test/old answers 301 to https://shop.test/shoes"),
    "canonical-to-error": (dict(pages=[page("/c1", canonical="/gone"), GONE]), ["/c1"], "answers 404"),
    "canonical-to-noindex": (dict(pages=[page("/c1", canonical="/ni"), page("/ni", x_robots_tag="noindex")]),
                             ["/c1"], "is noindex"),
    "canonical-chain": (dict(pages=[page("/c1", canonical="/c2"), page("/c2", canonical="/shoes")]),
                        ["/c1"], "names another canonical https://shop.test/shoes"),
    "canonical-conflict": (dict(pages=[page("/c1", link_canonical="/hats")]), ["/c1"],
                           "vs Link header canonical https://shop.test/hats"),
    "canonicalised-linked": (dict(pages=[page("/c1", canonical="/shoes")]), ["/c1"],
                             "canonical is https://shop.test/shoes"),
    "multiple-canonicals": (dict(pages=[page("/c1", canonical_count=2)]), ["/c1"], "2 rel=canonical"),
    "canonical-not-http": (dict(pages=[page("/doc", canonical="file:///usr/share/doc/index.html"),
                                       page("/doc2", canonical=None, canonical_count=1)]),
                           ["/doc", "/doc2"], "file:///usr/share/doc/index.html"),
    "canonical-other-host": (dict(pages=[page("/story", canonical="https://news.test/story")]), ["/story"],
                             "canonical https://news.test/story: another host, news.test"),
    "sitemap-non-200": (dict(pages=[GONE], sitemap=["/gone"]), ["/gone"], "answers 404"),
    "sitemap-redirect": (dict(pages=[OLD], sitemap=["/old"]), ["/old"], "redirects to https://shop.test/shoes"),
    "sitemap-noindex": (dict(pages=[page("/ni", meta_robots="none")], sitemap=["/ni"]), ["/ni"],
                        "noindex (none)"),
    "sitemap-other-host": (dict(sitemap=["https://old-shop.test:8443/shoes"]), ["https://old-shop.test:8443/shoes"],
                           "listed in https://shop.test/sitemap.xml; another host: old-shop.test:8443"),
    "sitemap-canonicalised": (dict(pages=[page("/c1", canonical="/shoes")], sitemap=["/c1"]), ["/c1"],
                              "canonical is https://shop.test/shoes"),
    "missing-from-sitemap": (dict(pages=[page("/new")]), ["/new"], "in no sitemap"),
    "orphan-page": (dict(pages=[page("/lonely")], sitemap=["/lonely"], nav=False), ["/lonely"],
                    "no internal links"),
    "sitemap-file-error": (dict(pages=[sitemap_file("/sitemap.xml", status=404),
                                       sitemap_file("/news.xml", found_via="sitemap-index", error="not-a-sitemap",
                                                    referrer=u("/sitemap.xml"))]),
                           ["/sitemap.xml", "/news.xml"], "named in robots.txt; answered 404"),
    "no-xml-sitemap": (dict(pages=[sitemap_file("/sitemap.xml", found_via="guess", status=404)]),
                       ["/sitemap.xml"], "robots.txt names no sitemap; answered 404"),
    "crawl-trap": (dict(pages=[page("/events?month=2031-01", depth=2, content_hash="e1"),
                               page("/events?month=2031-02", depth=3, content_hash="e2"),
                               skipped("/events?month=2031-03", "trap", depth=4)]),
                   ["/events?month=2031-01"], "pattern https://shop.test/events?month=*: 3 URLs met, 1 stopped"),
    "url-family-waste": (dict(pages=[page(f"/?s=q{i}", meta_robots="noindex, follow", content_hash=f"s{i}")
                                     for i in range(25)]),
                         ["/?s=q0"], "family search: 25 URLs met, 25 fetched; 86% of the crawl's fetches; "
                                     "fetched pages: noindex 25; fix: robots.txt: Disallow: /?s="),
    "duplicate-url-variants": (dict(pages=[page("/Shoes/", content_hash="other"),
                                           page("/list?b=2&a=1&sid=9"), page("/list?a=1&b=2")]),
                               ["/Shoes/", "/shoes", "/list?b=2&a=1&sid=9", "/list?a=1&b=2"], "group with 2 URLs"),
    "duplicate-content": (dict(pages=[page("/shoes-copy", content_hash="hash /shoes")]),
                          ["/shoes", "/shoes-copy"], "identical text: group with 2 URLs"),
    "duplicate-title": (dict(pages=[page("/hats-2", title="Title of /hats")]), ["/hats", "/hats-2"],
                        "title 'Title of /hats': group with 2 URLs"),
    "duplicate-meta-description": (dict(pages=[page("/hats-2", meta_description="All about /hats")]),
                                   ["/hats", "/hats-2"], "description 'All about /hats'"),
    "deep-page": (dict(pages=[page("/a/b/c/d/e", depth=6)]), ["/a/b/c/d/e"], "6 clicks"),
    "slow-response": (dict(pages=[page("/slow", response_time=2.5)]), ["/slow"], "2.5 s"),
    "large-html": (dict(pages=[page("/huge", size=2_000_000)]), ["/huge"], "2000000 bytes"),
    "nofollow-internal-link": (dict(links=[link("/shoes", "/hats", anchor="hats", nofollow=1)]), ["/shoes"],
                               "nofollow links to https://shop.test/hats"),
    "hreflang-to-non-200": (dict(pages=[page("/en", hreflang=[["fr", u("/fr")]]), page("/fr", status=404)]),
                            ["/en"], "hreflang fr alternate https://shop.test/fr answers 404"),
    "hreflang-not-reciprocal": (dict(pages=[page("/en", hreflang=[["en", u("/en")], ["de", u("/de")]]),
                                            page("/de")]),
                                ["/en"], "alternate https://shop.test/de does not link back"),
    "missing-title": (dict(pages=[page("/untitled", title="  ")]), ["/untitled"], "empty <title>"),
    "missing-meta-description": (dict(pages=[page("/plain", meta_description=None)]), ["/plain"],
                                 "no meta description"),
    "missing-h1": (dict(pages=[page("/flat", h1_count=0)]), ["/flat"], "no <h1>"),
    "multiple-h1": (dict(pages=[page("/loud", h1_count=3)]), ["/loud"], "3 <h1>"),
    "near-duplicate-content": (dict(pages=[page("/red", minhash=signature(TEXT)),
                                           page("/blue", minhash=signature(TEXT[:-1] + ["blue"]))]),
                               ["/red", "/blue"], "% similar to https://shop.test/red"),
    "invalid-json-ld": (dict(pages=[page("/ld", structured_errors=["JSON-LD block 1: Expecting value (line 1, "
                                                                   "column 2)"])]), ["/ld"], "Expecting value"),
    "structured-data-missing-properties": (
        dict(pages=[page("/event", structured_count=1, structured_items=[["json-ld", "Event", ["name"]]])]),
        ["/event"], "Event (json-ld): missing required startDate, location"),
    "status-monitor-public-indexable": (dict(pages=[*MONITORED], links=MONITOR_LINKS),
                                        ["/jobs/1/status", "/jobs/2/status"],
                                        "without noindex; status monitor of https://shop.test/jobs/1"),
    "status-monitor-shared-cacheable": (dict(pages=[*MONITORED]), ["/jobs/1/status", "/jobs/2/status"],
                                        "Cache-Control: (none)"),
    "status-monitor-guessable-id": (dict(pages=[*MONITORED]), ["/jobs/1/status", "/jobs/2/status"],
                                    "job id 2 among sequential ids 1, 2"),
    "status-monitor-no-expiry": (dict(pages=[*MONITORED]), ["/jobs/1/status", "/jobs/2/status"],
                                 "no Expires, no max-age"),
}

POSITIVES.update(render_rule_cases.POSITIVES)

#: (rule id, make_crawl arguments) that look close to a positive but must not fire.
NEAR_MISSES = [
    ("status-monitor-public-indexable", dict(pages=monitored("1", **PRIVATE))),
    ("status-monitor-shared-cacheable", dict(pages=monitored("1", **PRIVATE))),
    ("status-monitor-no-expiry", dict(pages=monitored("1", **PRIVATE))),
    ("status-monitor-guessable-id", dict(pages=monitored("3f2a-9c81b7e2") + monitored("a1b2-77d0e9f1"))),
    ("status-monitor-guessable-id", dict(pages=monitored("1") + monitored("5000"))),
    ("crawlable-202", dict(pages=[page("/sale", status=202)], nav=False)),  # nothing reaches it
    ("crawlable-202", dict(pages=[page("/api/export", status=202, content_type="application/json")])),
    ("crawlable-202-api-endpoint", dict(pages=[page("/sale", status=202)])),
    ("202-persistent", dict(pages=[page("/sale", status=202)],
                            rechecks=[recheck("/sale", 1, 202), recheck("/sale", 2, 200)])),
    ("202-settled-200", dict(pages=[page("/sale", status=202)], rechecks=[recheck("/sale", 1, 202)])),
    ("202-settled-error", dict(pages=[page("/sale", status=202)], rechecks=[recheck("/sale", 1, 200)])),
    ("202-without-status-url-or-retry-after", dict(pages=[page("/sale", status=202, retry_after="5")])),
    ("202-without-status-url-or-retry-after",
     dict(pages=[page("/sale", status=202, content_location="/sale/status")])),
    ("202-status-url-error", dict(pages=[page("/jobs/1", status=202, location="/jobs/1/status"),
                                         page("/jobs/1/status", fetch_kind="status-url")],
                                  links=[link("/jobs/1", "/jobs/1/status", kind="status-url")])),
    ("crawlable-204", dict(pages=[page("/empty", status=204)], nav=False)),
    ("internal-4xx", dict(pages=[page("/busy", status=429)])),
    ("rate-limited-429", dict(pages=[page("/ok", attempt_statuses=[503, 200])])),
    ("recovered-after-errors", dict(pages=[page("/down", status=503, attempt_statuses=[503, 503])])),
    ("soft-404", dict(pages=[page("/thin", word_count=5)])),  # thin, but missing URLs answer 404
    ("redirect-chain", dict(pages=hops("/hop", 1))),
    ("redirect-chain-too-long", dict(pages=hops("/long", 10))),
    ("robots-txt-error", dict(pages=[page("/robots.txt", fetch_kind="robots", status=404)])),
    ("temporary-redirect", dict(pages=[page("/p", status=308, redirect_target="/shoes")])),
    ("redirect-to-error", dict(pages=[OLD])),
    ("redirect-off-site", dict(pages=[OLD])),
    ("linked-but-blocked", dict(pages=[BLOCKED], nav=False)),
    ("noindex-linked", dict(pages=[page("/tag/red", meta_robots="noindex")])),  # 1 inlink < 3
    ("noindex-linked", dict(pages=[page("/tag/red", meta_robots="index, follow")],
                            links=[link("/shoes", "/tag/red"), link("/hats", "/tag/red")])),
    ("canonical-to-error", dict(pages=[page("/c1", canonical="/shoes")])),
    ("canonical-chain", dict(pages=[page("/c1", canonical="/c2"), page("/c2")])),
    ("canonical-not-http", dict(pages=[page("/bare", canonical=None, canonical_count=0)])),
    ("canonical-other-host", dict(pages=[page("/c1", canonical="/shoes")])),
    ("sitemap-other-host", dict(sitemap=["/shoes"])),
    ("canonical-conflict", dict(pages=[page("/c1", link_canonical="/c1")])),
    ("canonicalised-linked", dict(pages=[page("/c1", canonical="/shoes")], nav=False)),
    ("missing-from-sitemap", dict(pages=[page("/new", meta_robots="noindex")])),
    # a guessed /sitemap.xml that fails is no declared sitemap failing...
    ("sitemap-file-error", dict(pages=[sitemap_file("/sitemap.xml", found_via="guess", status=404)])),
    # ...and it is no missing sitemap when robots.txt names one elsewhere
    ("no-xml-sitemap", dict(pages=[sitemap_file("/sitemap.xml", found_via="guess", status=404),
                                   sitemap_file("/sitemap_index.xml")])),
    ("no-xml-sitemap", dict(pages=[sitemap_file("/sitemap.xml", found_via="guess")])),
    ("crawl-trap", dict(pages=[page(f"/search?q={i}", content_hash=f"q{i}") for i in range(5)])),
    ("duplicate-url-variants", dict(pages=[page("/shoes-2")])),
    ("url-family-waste", dict(pages=[page(f"/?s=q{i}", meta_robots="noindex") for i in range(19)])),  # < 20
    ("url-family-waste", dict(pages=[page(f"/tag/{i}", content_hash=f"t{i}") for i in range(30)])),  # indexable
    ("duplicate-content", dict(pages=[page("/shoes-copy", content_hash="hash /shoes", canonical="/shoes")])),
    ("invalid-json-ld", dict(pages=[page("/md", structured_errors=["Microdata/RDFa: ValueError: x"])])),
    ("structured-data-missing-properties",
     dict(pages=[page("/thing", structured_count=1, structured_items=[["json-ld", "Thing", []]])])),
    # exact copies are duplicate-content's
    ("near-duplicate-content", dict(pages=[page(path, content_hash="same", minhash=signature(TEXT))
                                           for path in ("/red", "/red-copy")])),
    ("near-duplicate-content", dict(pages=[page("/red", minhash=signature(TEXT)),
                                           page("/half", minhash=signature(TEXT[:100] + ["x"] * 100))])),
    ("deep-page", dict(pages=[page("/a/b/c/d", depth=4)])),
    ("slow-response", dict(pages=[page("/quick", response_time=0.8)])),
    ("hreflang-not-reciprocal", dict(pages=[page("/en", hreflang=[["de", u("/de")]]),
                                            page("/de", hreflang=[["en", u("/en")]])])),
    ("missing-title", dict(pages=[page("/ni", title=None, meta_robots="noindex")])),
]

POSITIVES.update({
    "custom-search-match": (dict(pages=[page("/promo", search_brand=2), page("/once", search_brand=1)],
                                 settings={"search": {"brand": "Acme"}}),
                            ["/promo", "/once"], "brand: 2 matches of text 'Acme' in the HTML"),
    "custom-search-absent": (dict(pages=[page("/bare", search_gtag=0, search_consent=0)],
                                  settings={"search_absent": {"gtag": "gtag(", "consent": "text:regex:(?i)cookies"}}),
                             ["/bare"], "gtag: no text 'gtag(' in the HTML; consent: no pattern '(?i)cookies' in the visible text"),
})
NEAR_MISSES += [
    # matched a search-absent, or not searched at all (a page that is not HTML has no count)
    ("custom-search-absent", dict(pages=[page("/tagged", search_gtag=1), page("/file.pdf", content_type="application/pdf")],
                                  settings={"search_absent": {"gtag": "gtag("}})),
    ("custom-search-match", dict(pages=[page("/plain", search_brand=0)], settings={"search": {"brand": "Acme"}})),
]
POSITIVES.update(security_cases.POSITIVES)
NEAR_MISSES += security_cases.NEAR_MISSES
NEAR_MISSES += render_rule_cases.NEAR_MISSES


def urls(rule_id: str, crawl) -> set[str]:
    return set(RULES_BY_ID[rule_id].run(crawl)["url"])


def test_every_rule_has_a_positive_case():
    # the log rules' cases need server logs: tests/test_logs.py runs each on real logs of a real crawl
    assert set(POSITIVES) | set(log_cases.EXPECTED) == set(RULES_BY_ID)
    assert not set(POSITIVES) & set(log_cases.EXPECTED)


@pytest.mark.parametrize("rule_id", sorted(POSITIVES))
def test_rule_fires_on_its_planted_urls_with_evidence(rule_id):
    arguments, expected, evidence = POSITIVES[rule_id]
    hits = RULES_BY_ID[rule_id].run(make_crawl(**arguments))
    flagged = set(hits["url"])
    assert {u(path) for path in expected} <= flagged
    assert not (flagged - {u(path) for path in expected}) & {u(path) for path in CLEAN_PATHS}
    assert hits["evidence"].str.contains(evidence, regex=False).any(), hits["evidence"].tolist()
    assert hits["evidence"].map(type).eq(str).all()


@pytest.mark.parametrize("rule_id", sorted(RULES_BY_ID))
def test_rule_is_silent_on_a_clean_site(rule_id):
    assert urls(rule_id, make_crawl()) == set()


@pytest.mark.parametrize("rule_id, arguments", NEAR_MISSES,
                         ids=[f"{rule_id}-{i}" for i, (rule_id, _) in enumerate(NEAR_MISSES)])
def test_rule_is_silent_on_a_near_miss(rule_id, arguments):
    assert urls(rule_id, make_crawl(**arguments)) == set()


def test_chains_are_reported_from_their_first_url_only():
    assert urls("redirect-chain", make_crawl(pages=hops("/hop", 3))) == {u("/hop1")}


def test_missing_from_sitemap_needs_a_site_with_sitemaps():
    crawl = make_crawl(pages=[page("/new")])
    crawl.sitemap_urls = crawl.sitemap_urls.iloc[0:0]
    assert urls("missing-from-sitemap", crawl) == set()


def test_thresholds_change_what_fires():
    crawl = make_crawl(pages=[page("/slowish", response_time=0.5)])
    assert urls("slow-response", crawl) == set()
    assert set(RULES_BY_ID["slow-response"].run(crawl, {"max_seconds": 0.3})["url"]) == {u("/slowish")}


def test_evidence_keeps_hostile_text_as_plain_text():
    title = "<script>alert(1)</script> & 'quotes'"
    crawl = make_crawl(pages=[page("/x1", title=title), page("/x2", title=title)])
    evidence = RULES_BY_ID["duplicate-title"].run(crawl)["evidence"]
    assert evidence.str.contains(title, regex=False).all()


def test_registry_declares_every_rule_fully():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    crawl = make_crawl()
    columns = set(crawl.pages.columns)
    links = {"links." + column for column in crawl.links.columns}
    # a rule may read a whole table of the crawl other than its pages (its certificates, its
    # custom searches), or the server logs joined with it
    tables = {"certificates", "links", "sitemap_urls", "rechecks", "logs", "search_matches"}
    for rule in RULES:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", rule.id), rule.id
        assert rule.severity in ("critical", "warning", "notice"), rule.id
        assert rule.category in CATEGORIES, rule.id
        assert rule.waste is None or rule.waste in WASTE_CAUSES, rule.id
        for text in (rule.title, rule.why, rule.fix, rule.severity_why):
            assert text.strip(), rule.id
        assert rule.reads and set(rule.reads) <= columns | links | tables, (rule.id, set(rule.reads) - columns - links - tables)
        assert re.fullmatch(r"https://\S+", rule.learn_more), rule.id
        assert all(isinstance(v, (int, float)) for v in rule.thresholds.values()), rule.id


def test_every_rule_id_is_named_in_a_test():
    tests = "".join(path.read_text() for path in Path(__file__).parent.glob("test_*.py"))
    assert [rule.id for rule in RULES if f'"{rule.id}"' not in tests] == []


STUBS = [page(f"/go{i}", title=None, meta_description=None, h1_count=0, content_hash="stub",
              meta_refresh="0; url=/shoes", meta_refresh_url="/shoes") for i in range(3)]


@pytest.mark.parametrize("rule_id", ["missing-title", "missing-meta-description", "missing-h1",
                                     "duplicate-content", "duplicate-title", "missing-from-sitemap"])
def test_a_meta_refresh_stub_is_judged_as_a_redirect_not_as_a_page(rule_id):
    crawl = make_crawl(pages=STUBS)
    assert urls(rule_id, crawl) & {u(stub["url"]) for stub in STUBS} == set()
    assert urls("meta-refresh-redirect", crawl) == {stub["url"] for stub in STUBS}
    assert not crawl.pages.set_index("url").loc[[s["url"] for s in STUBS], "indexable"].any()


def test_a_meta_refresh_to_the_page_itself_is_no_redirect():
    crawl = make_crawl(pages=[page("/live", meta_refresh="60", meta_refresh_url="/live")])
    assert crawl.pages.set_index("url").loc[u("/live"), "indexable"]


@pytest.mark.parametrize("rule_id, arguments", [
    ("sitemap-noindex", dict(sitemap=["/ni"])),
    ("noindex-linked", dict(links=[link("/shoes", "/ni"), link("/hats", "/ni")])),
])
def test_a_noindex_sent_only_as_a_header_is_named_in_the_evidence(rule_id, arguments):
    crawl = make_crawl(pages=[page("/ni", meta_robots="index, follow", x_robots_tag="googlebot: noindex")],
                       **arguments)
    hits = RULES_BY_ID[rule_id].run(crawl, RULES_BY_ID[rule_id].thresholds)
    assert "noindex (X-Robots-Tag 'googlebot: noindex')" in hits.set_index("url")["evidence"][u("/ni")]


def test_depth_is_architecture():
    assert RULES_BY_ID["deep-page"].category == "architecture"
    assert RULES_BY_ID["sitemap-file-error"].severity == "warning"
    assert RULES_BY_ID["no-xml-sitemap"].severity == "notice"
