"""A real crawl of the fixture site: every planted case leaves the record it should."""

from __future__ import annotations

import pytest

from seo_audit.sitekit import SiteServer

from .conftest import crawl_site, pages_by_url, read_table
from .fixture_site import add_sitemap, routes


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site_routes = routes()
    with SiteServer(site_routes) as site:
        add_sitemap(site_routes, site.url)
        store = tmp_path_factory.mktemp("crawl") / "store.sqlite"
        result = crawl_site(f"{site.url}/", store, max_size=5 * 1024 * 1024)
        yield {"base": site.url, "store": store, "result": result, "hits": dict(site.hits),
               "pages": pages_by_url(store, result.crawl_id)}


def test_crawl_completes(crawled):
    assert crawled["result"].state == "complete"
    assert crawled["result"].finish_reason == "finished"


def test_start_page_recorded_with_facts(crawled):
    home = crawled["pages"][crawled["base"] + "/"]
    assert home["status"] == 200
    assert home["depth"] == 0
    assert home["found_via"] == "start"
    assert home["title"] == "Home"
    assert home["h1_count"] == 1
    assert home["content_type"].startswith("text/html")
    assert home["response_time"] is not None and home["response_time"] >= 0
    assert home["size"] > 0 and home["word_count"] > 0 and home["content_hash"]


def test_every_redirect_hop_is_a_row_even_into_a_seen_url(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert [p[b + f"/chain/{i}"]["status"] for i in (1, 2, 3)] == [301, 302, 301]
    assert p[b + "/chain/1"]["redirect_target"] == b + "/chain/2"
    assert p[b + "/chain/3"]["redirect_target"] == b + "/about"  # about was already crawled
    assert p[b + "/about"]["status"] == 200
    assert crawled["hits"]["/about"] == 1, "a redirect into a seen URL must not refetch it"
    links = read_table(crawled["store"], "links", crawled["result"].crawl_id)
    hops = links[links.kind == "redirect"].set_index("source")["target"]
    assert hops[b + "/chain/2"] == b + "/chain/3"


def test_redirect_loop_recorded_and_ends(crawled):
    p, b = crawled["pages"], crawled["base"]
    for hop, nxt in (("a", "b"), ("b", "c"), ("c", "a")):
        assert p[f"{b}/loop/{hop}"]["status"] == 301
        assert p[f"{b}/loop/{hop}"]["redirect_target"] == f"{b}/loop/{nxt}"
    assert crawled["hits"]["/loop/a"] == 1


def test_offsite_redirect_recorded_not_followed(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p[b + "/offsite-redirect"]["redirect_target"] == "https://external.example/landing"
    assert p["https://external.example/landing"]["skip_reason"] == "out-of-scope"
    assert p["https://external.example/landing"]["status"] is None


def test_errors_and_statuses(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p[b + "/gone"]["status"] == 404
    assert p[b + "/server-error"]["status"] == 500
    assert p[b + "/server-error"]["attempt_statuses"] == [500, 500, 500]
    assert p[b + "/slow"]["error"] == "timeout" and p[b + "/slow"]["status"] is None


def test_retry_keeps_the_first_503(crawled):
    flaky = crawled["pages"][crawled["base"] + "/flaky"]
    assert flaky["status"] == 200
    assert flaky["attempt_statuses"] == [503, 200]


def test_202_recorded_rechecked_and_status_url_fetched(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p[b + "/accepted"]["status"] == 202
    assert p[b + "/accepted"]["retry_after"] == "1"
    job = p[b + "/jobs/1"]
    assert job["found_via"] == job["fetch_kind"] == "status-url" and job["status"] == 200
    rechecks = read_table(crawled["store"], "rechecks", crawled["result"].crawl_id)
    settled = rechecks.sort_values("attempt").groupby("url")["status"].apply(list).to_dict()
    assert settled[b + "/accepted"] == [200]
    assert settled[b + "/accepted-forever"] == [202, 202]  # bounded: recheck_attempts=2


def test_robots_blocked_recorded_with_rule(crawled):
    p, b = crawled["pages"], crawled["base"]
    blocked = p[b + "/private/secret"]
    assert blocked["skip_reason"] == "robots"
    assert blocked["robots_rule"] == "disallow: /private/"
    assert "/private/secret" not in crawled["hits"]
    assert p[b + "/robots.txt"]["fetch_kind"] == "robots" and p[b + "/robots.txt"]["status"] == 200


def test_sitemaps_gzip_index_and_sitemap_only_pages(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p[b + "/orphan"]["status"] == 200
    assert p[b + "/orphan"]["found_via"] == "sitemap" and p[b + "/orphan"]["depth"] is None
    assert p[b + "/private/in-sitemap"]["skip_reason"] == "robots"
    sm = read_table(crawled["store"], "sitemap_urls", crawled["result"].crawl_id)
    assert set(sm.url) == {b + "/", b + "/orphan", b + "/private/in-sitemap", b + "/about"}
    assert (sm.sitemap == b + "/sitemap-pages.xml").all()
    assert crawled["hits"]["/sitemap.xml.gz"] == 1  # the index lists itself: fetched once
    assert p[b + "/about"]["depth"] == 1  # link depth wins over sitemap membership


def test_resources_checked_head_then_get(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p[b + "/logo.png"]["fetch_kind"] == "resource" and p[b + "/logo.png"]["method"] == "HEAD"
    assert p[b + "/missing.png"]["status"] == 404
    assert p[b + "/style.css"]["status"] == 200
    assert p[b + "/broken.pdf"]["status"] == 404
    assert p[b + "/files/report.pdf"]["status"] == 200
    no_head = p[b + "/no-head"]
    assert no_head["fetch_kind"] == "page" and no_head["status"] == 200


def test_head_fallback_to_get_on_405(serve, tmp_path):
    from seo_audit.sitekit import Reply, page

    site = serve({"/": page("Home", "<img src='/pic.jpg'>"),
                  "/pic.jpg": lambda hit: Reply(405, b"") if hit.method == "HEAD"
                  else Reply(200, b"JPEG", "image/jpeg")})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite")
    pic = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)[site.url + "/pic.jpg"]
    assert pic["method"] == "GET" and pic["status"] == 200


def test_non_fetchable_links_not_recorded_or_fetched(crawled):
    urls = crawled["pages"].keys()
    assert not any(u.startswith(("mailto:", "tel:", "javascript:")) for u in urls)
    links = read_table(crawled["store"], "links", crawled["result"].crawl_id)
    assert not links.target.str.startswith(("mailto:", "javascript:", "tel:")).any()


def test_links_resolved_like_a_browser(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p[b + "/elsewhere/target"]["status"] == 200  # <base href>
    assert p["http://external.example/proto"]["skip_reason"] == "out-of-scope"  # protocol-relative
    assert p[b + "/from-malformed"]["status"] == 200 and p[b + "/unquoted"]["status"] == 200
    assert p[b + "/end-of-huge"]["status"] == 200  # link at the end of a 3 MB page


def test_external_links_never_fetched_and_links_table(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p["https://external.example/"]["skip_reason"] == "out-of-scope"
    links = read_table(crawled["store"], "links", crawled["result"].crawl_id)
    home_links = links[links.source == b + "/"]
    img = home_links[home_links.target == b + "/logo.png"].iloc[0]
    assert img.kind == "img" and img.anchor == "logo"
    assert set(home_links[home_links.kind == "a"].target) >= {b + "/about", "https://external.example/"}
    assert "/only-nofollow" not in crawled["hits"]
    nf = links[(links.source == b + "/nofollowed-page")].iloc[0]
    assert nf.nofollow == 1


def test_meta_robots_and_headers(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert "noindex" in p[b + "/noindex"]["meta_robots"]
    assert "/only-from-noindex" not in crawled["hits"]  # nofollow page: links recorded, not followed
    canon = p[b + "/canonicalised"]
    assert canon["canonical"] == b + "/about"
    assert canon["link_canonical"] == b + "/about"
    assert canon["x_robots_tag"] == "noarchive"


def test_traps_capped_and_recorded(crawled):
    p = crawled["pages"]
    calendar = [r for u, r in p.items() if "/calendar?" in u]
    assert sum(r["status"] == 200 for r in calendar) == 9  # months 1-9: a run of 8 after the first
    assert any(r["skip_reason"] == "trap" for r in calendar)
    sessions = [r for u, r in p.items() if "/session?" in u]
    assert sum(r["status"] == 200 for r in sessions) == 9
    grown = [u for u, r in p.items() if "/a/a/" in u and r["skip_reason"] == "trap"]
    assert grown, "a path that grows a segment each time is capped"


def test_huge_binary_and_encodings(crawled):
    p, b = crawled["pages"], crawled["base"]
    assert p[b + "/huge"]["status"] == 200 and p[b + "/huge"]["size"] > 3_000_000
    assert p[b + "/binary.bin"]["status"] == 200
    assert p[b + "/latin1"]["title"] == "Café crème"


def test_probe_recorded(crawled):
    from crawler import store

    conn = store.connect(crawled["store"], readonly=True)
    probe = store.crawls(conn)[0]["probe"]
    assert probe["status"] == 404 and "seo-audit-probe" in probe["url"]


def test_max_size_recorded(serve, tmp_path):
    from seo_audit.sitekit import Reply, page

    site = serve({"/": page("Home", "<a href='/big'>big</a>"), "/big": Reply(200, b"x" * 300_000)})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite", max_size=100_000)
    big = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)[site.url + "/big"]
    assert big["error"] == "max-size" and big["status"] is None


def test_gzip_bomb_stopped(serve, tmp_path):
    import gzip

    from seo_audit.sitekit import Reply, page

    bomb = gzip.compress(b"<html>" + b" " * 50_000_000)
    site = serve({"/": page("Home", "<a href='/bomb'>b</a>"),
                  "/bomb": Reply(200, bomb, headers=[("Content-Encoding", "gzip")])})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite", max_size=1_000_000)
    row = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)[site.url + "/bomb"]
    assert row["error"] == "max-size"


def test_limits_max_pages_and_depth(serve, tmp_path):
    from seo_audit.sitekit import page

    chain = {"/": page("0", "<a href='/p1'>1</a>")}
    chain.update({f"/p{i}": page(str(i), f"<a href='/p{i + 1}'>next</a><a href='/q{i}'>q</a>")
                  for i in range(1, 30)})
    site = serve(chain)
    result = crawl_site(site.url + "/", tmp_path / "d.sqlite", max_depth=3, check_resources=False)
    p = pages_by_url(tmp_path / "d.sqlite", result.crawl_id)
    assert max(r["depth"] for r in p.values() if r["status"] == 200) == 3
    assert p[site.url + "/p4"]["skip_reason"] == "max-depth"
    result = crawl_site(site.url + "/", tmp_path / "m.sqlite", max_pages=5)
    p = pages_by_url(tmp_path / "m.sqlite", result.crawl_id)
    assert sum(1 for r in p.values() if r["fetch_kind"] == "page" and r["status"]) == 5


def test_ignore_robots_fetches_blocked(serve, tmp_path):
    from seo_audit.sitekit import Reply, page

    site = serve({"/": page("Home", "<a href='/private/x'>x</a>"), "/private/x": page("X"),
                  "/robots.txt": Reply(200, "User-agent: *\nDisallow: /private/\n", "text/plain")})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite", ignore_robots=True)
    assert pages_by_url(tmp_path / "s.sqlite", result.crawl_id)[site.url + "/private/x"]["status"] == 200


def test_secret_headers_sent_but_never_stored(serve, tmp_path):
    from seo_audit.sitekit import page

    seen = {}

    def home(hit):
        seen["auth"] = hit.headers.get("Authorization")
        return page("Home")

    site = serve({"/": home})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite",
                        headers={"Authorization": "Bearer s3cr3t-token"})
    assert seen["auth"] == "Bearer s3cr3t-token"
    assert b"s3cr3t-token" not in (tmp_path / "s.sqlite").read_bytes()
    assert result.state == "complete"


def test_numbered_catalogue_is_not_a_trap(serve, tmp_path):
    """Products /p/N found from category pages are real pages, however many there are."""
    from seo_audit.sitekit import page

    routes = {"/": page("Home", "".join(f"<a href='/c/{c}'>c</a>" for c in range(5)))}
    for c in range(5):
        routes[f"/c/{c}"] = page("Cat", "".join(f"<a href='/p/{c * 40 + i}'>p</a>" for i in range(40)))
    routes["/p/*"] = page("Product")
    site = serve(routes)
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite")  # trap_cap=10, trap_run=8
    p = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)
    assert sum(1 for u, r in p.items() if "/p/" in u and r["status"] == 200) == 200


def test_opens_no_listening_port():
    """Scrapy's telnet console and remote-control port stay off unless asked for."""
    from crawler.options import CrawlOptions
    from crawler.runner import scrapy_settings

    settings = scrapy_settings(CrawlOptions(start_url="http://127.0.0.1:1/"))
    assert not settings.getbool("TELNETCONSOLE_ENABLED")
    assert not settings.getbool("REMOTE_CONTROL_ENABLED")


def test_no_callback_source_parsed_per_response():
    """Scrapy's return-value check re-parses a bound callback's source on each response (its
    weak-keyed cache never holds a bound method): it stays off."""
    from crawler.options import CrawlOptions
    from crawler.runner import scrapy_settings

    settings = scrapy_settings(CrawlOptions(start_url="http://127.0.0.1:1/"))
    assert not settings.getbool("WARN_ON_GENERATOR_RETURN_VALUE")


def test_googlebot_preset_sent_and_matched_in_robots(serve, tmp_path):
    from seo_audit.sitekit import Reply, page

    agents = []

    def home(hit):
        agents.append(hit.headers.get("User-Agent"))
        return page("Home", "<a href='/nogoogle'>x</a>")

    site = serve({"/": home, "/nogoogle": page("No Google"),
                  "/robots.txt": Reply(200, "User-agent: Googlebot\nDisallow: /nogoogle\n", "text/plain")})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite", user_agent="googlebot-smartphone")
    assert "Googlebot/2.1" in agents[0] and "Mobile" in agents[0]
    row = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)[site.url + "/nogoogle"]
    assert row["skip_reason"] == "robots" and row["robots_rule"] == "disallow: /nogoogle"


def test_crawl_delay_honoured(serve, tmp_path):
    import time

    from seo_audit.sitekit import Reply, page

    stamps = []

    def timed(hit):
        stamps.append(time.monotonic())
        return page("P", "".join(f"<a href='/p{i}'>{i}</a>" for i in range(4)))

    site = serve({"/": timed, "/p*": timed,
                  "/robots.txt": Reply(200, "User-agent: *\nCrawl-delay: 0.5\n", "text/plain")})
    crawl_site(site.url + "/", tmp_path / "s.sqlite", check_resources=False)
    assert len(stamps) == 5
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    # Scrapy randomises the delay between 0.5x and 1.5x (0.25-0.75 s here); without it the
    # gaps would be milliseconds
    assert min(gaps) >= 0.2, gaps


def test_max_duration_stops_the_crawl(serve, tmp_path):
    import time

    from seo_audit.sitekit import Reply

    def endless(hit):  # /p1 -> /p2 -> ... each answer takes 0.3 s
        number = int(hit.path[2:] or 0) if hit.path.startswith("/p") else 0
        return Reply(200, f"<a href='/p{number + 1}'>next</a>", delay=0.3)

    site = serve({"/*": endless})
    started = time.monotonic()
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite", max_duration=2, concurrency=1, trap_run=1000)
    assert time.monotonic() - started < 20
    assert result.state == "stopped-at-limit" and result.finish_reason == "closespider_timeout"


def test_memory_guard_stops_cleanly(serve, tmp_path):
    """Past memory_limit_mb the crawl stops itself (Scrapy's MEMUSAGE check), resumable."""
    from seo_audit.sitekit import Reply

    site = serve({"/*": lambda hit: Reply(200, "".join(f"<a href='/{hit.count}-{i}'>x</a>"
                                                       for i in range(5)), delay=0.05)})
    result = crawl_site(site.url + "/", tmp_path / "s.sqlite", memory_limit_mb=20, concurrency=2)
    assert result.finish_reason == "memusage_exceeded" and result.state == "stopped-at-limit"
