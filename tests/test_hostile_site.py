"""The worst of the web, served on 127.0.0.1: the crawl ends within its bounds, records each
fault with the right status or error, keeps every other page, and never leaves its scope."""

from __future__ import annotations

import codecs
import gzip
import time

import pytest

from seo_audit.sitekit import Reply, SiteServer, page, redirect

from .conftest import crawl_site, pages_by_url, read_table

HOSTILE = {
    "reset": "/reset", "hang": "/hang", "drip": "/drip", "big": "/big", "endless": "/endless",
    "bomb": "/bomb", "bad-charset": "/bad-charset", "conflicting-charset": "/conflicting-charset",
    "invalid-utf8": "/invalid-utf8", "bom": "/bom", "nul": "/nul", "binary": "/binary",
    "nested": "/nested", "many-links": "/many-links", "cookies": "/cookies",
    "space-location": "/space-location", "relative-location": "/relative-location",
    "protocol-relative-location": "/protocol-relative-location", "js-redirect": "/js-redirect",
    "file-redirect": "/file-redirect", "ftp-redirect": "/ftp-redirect", "outsider-redirect": "/outsider-redirect",
    "hops": "/hop/0", "rate-limited": "/rate-limited", "unavailable": "/unavailable",
}


def hostile_routes(outsider: str) -> dict:
    filler = "<p>" + "word " * 200 + "</p>"
    long_path = "/long/" + "x" * 2000
    routes = {
        "/": page("Hostile home", "".join(f"<a href='{p}'>{k}</a>" for k, p in HOSTILE.items())
                  + f"<a href='{long_path}'>long</a>"
                  + f"<a href='{outsider}/linked'>outsider</a>"
                  + f"<link rel='canonical' href='{outsider}/canonical'>"
                  + f"<link rel='alternate' hreflang='de' href='{outsider}/de'>"),
        "/reset": Reply(200, "<html><title>Reset</title>" + filler * 50, fault="reset"),
        "/hang": Reply(fault="hang", delay=60),
        "/drip": Reply(200, "<html><title>Drip</title>" + "x" * 200, fault="drip", delay=0.1),
        "/big": Reply(200, "<html><title>Big</title>" + filler * 6000),  # ~6 MB
        "/endless": Reply(200, filler * 50, fault="endless"),
        "/bomb": Reply(200, gzip.compress(b" " * 40_000_000), headers=[("Content-Encoding", "gzip")]),
        "/bad-charset": Reply(200, "<title>Bad charset</title><a href='/ok-1'>x</a>",
                              "text/html; charset=no-such-charset"),
        "/conflicting-charset": Reply(200, "<meta charset='windows-1251'><title>Conflict \u00e9</title>"
                                      "<a href='/ok-2'>x</a>".encode("utf-8"), "text/html; charset=iso-8859-1"),
        "/invalid-utf8": Reply(200, b"<title>Invalid \xff\xfe utf8</title><a href='/ok-3'>x</a>",
                               "text/html; charset=utf-8"),
        "/bom": Reply(200, codecs.BOM_UTF8 + "<title>With BOM</title>".encode(), "text/html"),
        "/nul": Reply(200, b"<title>N\x00UL</title>\x00\x00<a href='/ok-4'>x</a>", "text/html"),
        "/binary": Reply(200, bytes(range(256)) * 400, "text/html; charset=utf-8"),
        "/nested": Reply(200, "<title>Nested</title>" + "<div><span>" * 5000 + "<a href='/ok-5'>deep</a>"),
        "/many-links": page("Many", "".join(f"<a href='/m?i={i}'>{i}</a>" for i in range(10_000))),
        "/m": page("m"),
        long_path: page("Long URL"),
        "/cookies": Reply(200, "<title>Cookies</title>",
                          headers=[("Set-Cookie", f"c{i}={'v' * 100}") for i in range(50)]),
        "/space-location": redirect("/target with space"),
        "/target with space": page("Space target"),
        "/relative-location": redirect("relative-target"),
        "/relative-target": page("Relative target"),
        "/protocol-relative-location": redirect(f"//{outsider.split('//', 1)[1]}/proto"),
        "/js-redirect": redirect("javascript:alert(1)"),
        "/file-redirect": redirect("file:///etc/passwd"),
        "/ftp-redirect": redirect("ftp://127.0.0.1/x"),
        "/outsider-redirect": redirect(f"{outsider}/redirected", 302),
        "/hop/*": lambda hit: (redirect(f"/hop/{int(hit.path.rsplit('/', 1)[1]) + 1}")
                               if int(hit.path.rsplit("/", 1)[1]) < 30 else page("Hop end")),
        "/rate-limited": lambda hit: (Reply(429, "slow down", headers=[("Retry-After", "2")])
                                      if hit.count == 1 else page("Rate limit over")),
        "/unavailable": Reply(503, "down", headers=[("Retry-After", "1")]),
        "/robots.txt": Reply(200, ("User-agent: *\n" + "Disallow: /nothing-here-%d\n" * 1
                                   + "garbage line without colon\n\x00\xff\nDisallow /missing-colon\n"
                                   + "".join(f"Disallow: /junk-{i}/\n" for i in range(20000))
                                   + f"Sitemap: {outsider}/sitemap.xml\nSitemap: /sitemap-bad.xml\n"
                                   + "Sitemap: /sitemap-notgzip.xml.gz\nSitemap: /sitemap-big.xml\n"),
                             "text/plain"),
        "/sitemap-bad.xml": Reply(200, "<urlset><url><loc>", "application/xml"),
        "/sitemap-notgzip.xml.gz": Reply(200, b"\x1f\x8bnot really gzip", "application/gzip"),
    }
    for i in range(1, 6):
        routes[f"/ok-{i}"] = page(f"OK {i}")
    return routes


@pytest.fixture(scope="module")
def outsider():
    """A second loopback server outside the crawl's scope: it must receive no request."""
    with SiteServer({"/*": page("Outside")}) as server:
        yield server


@pytest.fixture(scope="module")
def hostile(outsider, tmp_path_factory):
    routes = hostile_routes(outsider.url)
    with SiteServer(routes) as site:
        big_sitemap = "".join(f"<url><loc>{site.url}/s/{i}</loc></url>" for i in range(60_000))
        routes["/sitemap-big.xml"] = Reply(200, "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/"
                                           f"schemas/sitemap/0.9'>{big_sitemap}</urlset>", "application/xml")
        routes["/s/*"] = page("from sitemap")
        store = tmp_path_factory.mktemp("hostile") / "s.sqlite"
        started = time.monotonic()
        # a timeout generous enough for a loaded machine: only /hang and /drip (20 s) exceed it
        result = crawl_site(site.url + "/", store, timeout=10, max_size=4_000_000, retries=1,
                            trap_cap=100, trap_run=100, check_resources=False, max_pages=2000,
                            concurrency=32)
        yield {"base": site.url, "store": store, "result": result, "pages": pages_by_url(store, result.crawl_id),
               "elapsed": time.monotonic() - started, "hits": dict(site.hits)}


def test_crawl_ends_within_bounds(hostile):
    assert hostile["result"].state in ("complete", "stopped-at-limit")
    # bounded, not fast: ~50 s alone; after tests/test_distributed.py in the same pytest run it has
    # taken up to 160 s on 2 cores. Without the bounds, /hang and /drip would hold it forever.
    assert hostile["elapsed"] < 280


def test_network_faults_become_rows(hostile):
    p, b = hostile["pages"], hostile["base"]
    assert p[b + "/reset"]["error"] == "connection-reset"
    assert p[b + "/hang"]["error"] == "timeout"
    assert p[b + "/drip"]["error"] == "timeout"  # 200 bytes at 10/s: over the 10 s timeout


def test_size_limits(hostile):
    p, b = hostile["pages"], hostile["base"]
    for path in ("/big", "/endless", "/bomb"):
        assert p[b + path]["error"] == "max-size", path


def test_encodings_and_binary(hostile):
    p, b = hostile["pages"], hostile["base"]
    for i in range(1, 6):
        assert p[f"{b}/ok-{i}"]["status"] == 200, f"links read from every odd page ({i})"
    assert p[b + "/bom"]["title"] == "With BOM"
    assert p[b + "/nul"]["title"] == "NUL"
    assert "Invalid" in p[b + "/invalid-utf8"]["title"]
    assert p[b + "/binary"]["status"] == 200


def test_many_links_and_long_url(hostile):
    p, b = hostile["pages"], hostile["base"]
    assert p[b + "/many-links"]["outlinks"] == 10_000
    links = read_table(hostile["store"], "links", hostile["result"].crawl_id)
    assert (links.source == b + "/many-links").sum() == 10_000
    long_url = [u for u in p if u.startswith(b + "/long/")]
    assert len(long_url) == 1 and p[long_url[0]]["status"] == 200


def test_header_abuse(hostile):
    p, b = hostile["pages"], hostile["base"]
    assert p[b + "/cookies"]["status"] == 200
    assert p[b + "/space-location"]["redirect_target"] == b + "/target%20with%20space"
    assert p[b + "/target%20with%20space"]["status"] == 200
    assert p[b + "/relative-location"]["redirect_target"] == b + "/relative-target"
    for path in ("/js-redirect", "/file-redirect", "/ftp-redirect"):
        row = p[b + path]
        assert row["status"] == 301 and row["redirect_target"] is None and row["location"], path


def test_thirty_hops_all_recorded(hostile):
    p, b = hostile["pages"], hostile["base"]
    hops = [p[f"{b}/hop/{i}"] for i in range(31)]
    assert all(h["status"] == 301 for h in hops[:30]) and hops[30]["status"] == 200


def test_rate_limits_recorded_and_honoured(hostile):
    p, b = hostile["pages"], hostile["base"]
    assert p[b + "/rate-limited"]["attempt_statuses"] == [429, 200]
    assert p[b + "/unavailable"]["attempt_statuses"] == [503, 503]


def test_robots_and_sitemaps_abuse(hostile):
    p, b = hostile["pages"], hostile["base"]
    assert p[b + "/robots.txt"]["status"] == 200
    assert p[b + "/sitemap-bad.xml"]["status"] == 200
    assert p[b + "/sitemap-notgzip.xml.gz"]["error"] == "malformed-sitemap"
    sitemap_urls = read_table(hostile["store"], "sitemap_urls", hostile["result"].crawl_id)
    assert (sitemap_urls.sitemap == b + "/sitemap-big.xml").sum() == 60_000


def test_scope_is_a_security_boundary(hostile, outsider):
    assert dict(outsider.hits) == {}, "no request may reach a host outside the scope"
    p = hostile["pages"]
    for path in ("/linked", "/canonical", "/de", "/redirected", "/proto", "/sitemap.xml"):
        url = outsider.url + path
        if url in p:
            assert p[url]["skip_reason"] == "out-of-scope" and p[url]["status"] is None


@pytest.mark.parametrize("robots", [
    Reply(500, "oops", "text/plain"),
    Reply(200, b"\x00\xff\xfe garbage \x00 Disallow: /", "text/plain"),
    Reply(301, b"", None, headers=[("Location", "/robots-moved.txt")]),
])
def test_robots_faults_do_not_stop_the_crawl(serve, tmp_path, robots):
    site = serve({"/": page("Home", "<a href='/ok'>ok</a><a href='/blocked/x'>b</a>"), "/ok": page("OK"),
                  "/blocked/x": page("B"), "/robots.txt": robots,
                  "/robots-moved.txt": Reply(200, "User-agent: *\nDisallow: /blocked/\n", "text/plain")})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite")
    p = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)
    assert p[site.url + "/ok"]["status"] == 200
    assert p[site.url + "/robots.txt"]["status"] == robots.status
    if robots.status == 301:
        assert p[site.url + "/blocked/x"]["skip_reason"] == "robots"


def test_retry_after_slows_the_host_down(serve, tmp_path):
    """After a 429 with Retry-After: 2 the crawl waits about that long before asking the host
    again, then goes back to its own pace."""
    stamps: dict[str, float] = {}

    def limited(hit):
        stamps.setdefault(f"{hit.path}#{hit.count}", time.monotonic())
        if hit.count == 1:
            return Reply(429, "slow down", headers=[("Retry-After", "2")])
        return page("OK now")

    def home(hit):
        stamps["/"] = time.monotonic()
        return page("Home", "<a href='/limited'>l</a>")

    site = serve({"/": home, "/limited": limited})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite", concurrency=1, check_resources=False)
    row = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)[site.url + "/limited"]
    assert row["attempt_statuses"] == [429, 200]
    assert stamps["/limited#2"] - stamps["/limited#1"] >= 0.9  # Scrapy jitters delays by +-50%
