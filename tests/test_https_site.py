"""Sites as they are on the web, served for real on 127.0.0.x: HTTPS with certificates the tests
make, a start URL that redirects (HTTP to HTTPS, apex to www., / to /en/), http:// and https://
of one host as one site, and the security findings of a crawl."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from crawler.tls import check_certificate
from crawler.urls import Scope, scheme_twin
from seo_audit.sitekit import Reply, page, redirect
from tests.conftest import crawl_site, pages_by_url, read_table
from tests.tls_site import PROBLEMS, CertificateAuthority


def seo_audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seo_audit", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def test_ca(tmp_path):
    return CertificateAuthority(tmp_path)


# --- scope: pure ---------------------------------------------------------------------------

@pytest.mark.parametrize("site, ports, twin", [
    ("https://a.test", (80, 443), "http://a.test"),
    ("http://a.test", (80, 443), "https://a.test"),
    ("http://a.test:8080", (80, 443), None),  # a non-default port stays distinct
    ("https://a.test:8443", (8080, 8443), "http://a.test:8080"),
    ("http://[::1]:8080", (8080, 8443), "https://[::1]:8443"),
    ("https://a.test", None, None),  # --strict-origin: no twins
])
def test_scheme_twin(site, ports, twin):
    assert scheme_twin(site, ports) == twin


def test_scope_holds_both_schemes_of_a_host_and_keeps_its_other_rules():
    scope = Scope.for_start("https://a.test/", exclude=[r"/private/"])
    assert scope.verdict("http://a.test/about") is None
    assert scope.verdict("http://a.test/private/x") == "excluded"
    assert scope.verdict("http://a.test:8080/") == "out-of-scope"
    assert scope.verdict("https://www.a.test/") == "out-of-scope"
    assert scope.twins == {"http://a.test"}
    moved = scope.moved_to("https://www.a.test/en/")
    assert moved.origins == {"https://www.a.test", "http://www.a.test"}
    assert moved.verdict("https://a.test/") == "out-of-scope"
    assert moved.verdict("https://www.a.test/private/") == "excluded"


# --- certificates: one check per host -------------------------------------------------------

@pytest.mark.parametrize("problem", [None, *PROBLEMS])
def test_certificate_check_names_the_problem(serve, test_ca, problem):
    host = "127.0.0.2"
    site = serve({"/": page("Home")}, host=host, tls=test_ca.context(host, problem))
    check = check_certificate(host, site.port, timeout=5, cafile=str(test_ca.bundle))
    assert check.problem == problem, check
    assert check.chain_sent == 1 and check.not_after


def test_certificate_check_without_the_ca_is_untrusted_and_bounded(serve, test_ca):
    site = serve({"/": page("Home")}, host="127.0.0.2", tls=test_ca.context("127.0.0.2"))
    # the system store does not know the test CA: a leaf sent alone reads as a missing intermediate
    assert check_certificate("127.0.0.2", site.port, timeout=5).problem == "incomplete-chain"
    plain = serve({"/": page("Home")}, host="127.0.0.2")
    assert check_certificate("127.0.0.2", plain.port, timeout=5).problem == "tls-error"
    assert check_certificate("127.0.0.2", 9, timeout=5).problem == "unreachable"


# --- crawls -------------------------------------------------------------------------------

def https_site(serve, test_ca, host="127.0.0.2"):
    """An HTTPS site with an HTTP twin (one host, two ports named as the site's ports) that
    redirects to it; its pages use http:// here and there."""
    secure_routes, plain_routes = {}, {}
    secure = serve(secure_routes, host=host, tls=test_ca.context(host))
    plain = serve(plain_routes, host=host)
    S, P = secure.url, plain.url
    hsts = [("Strict-Transport-Security", "max-age=31536000")]
    plain_routes.update({
        "/": redirect(S + "/"),
        "/about": redirect(S + "/about", 302),
        "/legacy": page("Legacy", "<p>still on HTTP</p>"),
        "/logo.png": redirect(S + "/logo.png"),
    })
    secure_routes.update({
        "/": page("Home", f"<a href='{P}/about'>About us</a> <a href='/news'>News</a> "
                          f"<a href='{P}/legacy'>Legacy</a> <img src='{P}/logo.png' alt=''>",
                  head=f"<link rel=canonical href='{P}/'><link rel=alternate hreflang=de href='{P}/de'>",
                  headers=hsts),
        "/sitemap.xml": Reply(body=f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                                   f"<url><loc>{S}/news</loc></url><url><loc>{P}/about</loc></url></urlset>",
                              content_type="application/xml"),
        "/about": page("About", headers=hsts),
        "/news": page("News", "<script src='http://127.0.0.9:9/app.js'></script>"),
        "/logo.png": Reply(body=b"png", content_type="image/png"),
    })
    return secure, plain


def test_http_start_url_and_http_links_on_an_https_site(serve, test_ca, tmp_path):
    secure, plain = https_site(serve, test_ca)
    out = tmp_path / "out"
    done = seo_audit("crawl", plain.url + "/", "--out", out, "--http-port", plain.port,
                     "--https-port", secure.port, "--ca-bundle", test_ca.bundle, "--timeout", "5",
                     "--retries", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    S, P = secure.url, plain.url
    # said in the log and on the summary line
    assert f"the start URL {P}/ redirects to {S}/: the crawl's scope is {P}, {S}" in done.stderr
    assert f"crawl 1 ({P}/ -> {S}/): ok" in done.stdout

    pages = pages_by_url(out / "seo-audit.sqlite", 1)
    assert pages[P + "/"]["status"] == 301 and pages[P + "/"]["found_via"] == "start"
    assert pages[S + "/"]["status"] == 200 and pages[S + "/"]["found_via"] == "redirect"
    # the http:// links are internal: fetched, their redirects recorded
    assert pages[P + "/about"]["status"] == 302 and pages[P + "/about"]["skip_reason"] is None
    assert pages[S + "/about"]["status"] == 200 and pages[S + "/about"]["hsts"] == "max-age=31536000"
    assert pages[P + "/logo.png"]["status"] == 301
    assert pages["http://127.0.0.9:9/app.js"]["skip_reason"] == "out-of-scope"
    # the site's probe and sitemap are asked on HTTPS, where the site is
    assert pages[S + "/sitemap.xml"]["status"] == 200 and P + "/sitemap.xml" not in pages

    certificates = read_table(out / "seo-audit.sqlite", "certificates", 1)
    assert certificates[["host", "port", "problem"]].values.tolist() == [["127.0.0.2", secure.port, None]]

    summary = json.loads((out / "summary.json").read_text())
    rules = summary["findings"]["by_rule"]
    for rule_id in ("internal-link-to-http", "mixed-content", "https-canonical-to-http",
                    "http-not-redirected-to-https", "http-to-https-temporary-redirect", "missing-hsts"):
        assert rules[rule_id]["category"] == "security", rule_id
    assert rules["https-hreflang-to-http"]["urls"] == 1 and rules["https-sitemap-url-http"]["urls"] == 1
    assert not any(r.startswith("certificate-") for r in rules)
    assert summary["crawl"]["site"] == {"url": S + "/", "scope": [P, S], "redirect_hops": 1}
    assert summary["certificates"] == [{"host": "127.0.0.2", "port": secure.port, "problem": None,
                                        "detail": "valid", "not_after": certificates["not_after"][0]}]
    # the rule's CSV lists the http:// targets with the HTTPS pages that link to them
    linked = {row["url"]: row["evidence"] for row in _csv_rows(out, "internal-link-to-http")}
    assert linked == {P + "/about": f"linked from {S}/ ('About us')", P + "/legacy": f"linked from {S}/ ('Legacy')"}
    mixed = " ".join(r["evidence"] for r in _csv_rows(out, "mixed-content"))
    assert f"img {P}/logo.png" in mixed and "script http://127.0.0.9:9/app.js" in mixed
    html = (out / "report.html").read_text()
    assert "the crawl followed it" in html and 'id="certificates"' in html


def _csv_rows(out, rule_id):
    import csv

    path = next(out.glob(f"**/*{rule_id}*.csv"))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_apex_to_www_and_root_to_en(serve, tmp_path):
    """The start URL on one host redirects to another (apex -> www.), then / -> /en/: the crawl
    follows, scoped to where it ends; links back to the apex stay outside."""
    www = serve({}, host="127.0.0.4")
    apex = serve({"/": redirect(www.url + "/"), "/x": page("apex page")}, host="127.0.0.3")
    www.routes.update({"/": redirect("/en/"),
                       "/en/": page("Home", f"<a href='/en/a'>a</a> <a href='{apex.url}/x'>apex</a>"),
                       "/en/a": page("A")})
    result = crawl_site(apex.url + "/", tmp_path / "s.sqlite")
    pages = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)
    assert pages[www.url + "/en/a"]["status"] == 200
    assert pages[www.url + "/"]["status"] == 301 and pages[www.url + "/en/"]["status"] == 200
    assert pages[apex.url + "/x"]["skip_reason"] == "out-of-scope"
    assert www.hits["/robots.txt"] == 1  # the new host's robots.txt, read before its pages
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        stats = json.loads(conn.execute("SELECT stats FROM crawls").fetchone()[0])
    assert stats["start/site_url"] == www.url + "/en/" and stats["scope/origins"] == [www.url]
    assert stats["start/redirect_hops"] == 2


def test_start_url_redirects_are_bounded(serve, tmp_path):
    hosts = [serve({}, host=f"127.0.0.{i}") for i in range(10, 23)]
    for here, there in zip(hosts, hosts[1:]):
        here.routes["/"] = redirect(there.url + "/")
    hosts[-1].routes["/"] = page("The end")
    result = crawl_site(hosts[0].url + "/", tmp_path / "s.sqlite")
    pages = pages_by_url(tmp_path / "s.sqlite", result.crawl_id)
    fetched = [h for h in hosts if pages.get(h.url + "/", {}).get("status")]
    assert len(fetched) == 11  # the start URL and 10 hops, as Google follows
    assert pages[hosts[11].url + "/"]["skip_reason"] == "out-of-scope"
    assert hosts[12].hits["/"] == 0


def test_strict_origin_keeps_the_start_urls_origin(serve, tmp_path):
    other = serve({"/": page("Elsewhere")}, host="127.0.0.5")
    site = serve({"/": redirect(other.url + "/")}, host="127.0.0.6")
    done = seo_audit("crawl", site.url + "/", "--out", tmp_path / "out", "--strict-origin")
    assert done.returncode == 3
    assert f"redirects off-site at once, to {other.url}/" in done.stderr
    assert "--strict-origin" in done.stderr and other.hits["/"] == 0


def test_certificate_problems_are_recorded_the_crawl_goes_on_and_the_summary_says_it(
        serve, test_ca, tmp_path):
    bad = {problem: serve({"/": page(problem)}, host=f"127.0.0.{30 + i}",
                          tls=test_ca.context(f"127.0.0.{30 + i}", problem))
           for i, problem in enumerate(PROBLEMS)}
    # a server that speaks no TLS, named with https://
    tls_error = serve({"/": page("plain")}, host="127.0.0.35")
    start = bad["self-signed"]
    start.routes["/"] = page("Home", "".join(f"<a href='{s.url}/'>{p}</a>" for p, s in bad.items()))
    out = tmp_path / "out"
    job = tmp_path / "job.toml"
    named = [s.url for s in bad.values()] + [tls_error.url.replace("http://", "https://")]
    job.write_text("[crawl]\nextra_origins = [" + ", ".join(f'"{url}"' for url in named) + "]\n"
                   f'ca_bundle = "{test_ca.bundle}"\ntimeout = 5\nretries = 0\n')
    done = seo_audit("crawl", start.url + "/", "--config", job, "--out", out, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    crawl_id = json.loads(done.stdout)["crawl_id"]
    pages = pages_by_url(out / "seo-audit.sqlite", crawl_id)
    assert all(pages[s.url + "/"]["status"] == 200 for s in bad.values())  # still crawled
    checks = read_table(out / "seo-audit.sqlite", "certificates", crawl_id)
    assert dict(zip(checks["port"], checks["problem"])) == {**{s.port: p for p, s in bad.items()},
                                                            tls_error.port: "tls-error"}
    rules = json.loads((out / "summary.json").read_text())["findings"]["by_rule"]
    for rule_id in ("certificate-self-signed", "certificate-expired", "certificate-wrong-name",
                    "certificate-incomplete-chain", "certificate-invalid"):
        assert rules[rule_id]["urls"] == 1, rule_id
    html = (out / "report.html").read_text()
    assert "5 with a problem" in html and "certificate has expired" in html


def test_a_resumed_crawl_keeps_the_site_its_start_url_led_to(tmp_path):
    from crawler import store
    from crawler.options import CrawlOptions
    from crawler.session import CrawlSession

    path = tmp_path / "s.sqlite"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, "http://a.test/", {})
    store.finish_crawl(conn, crawl_id, "incomplete", {"start/site_url": "https://www.a.test/en/"})
    conn.close()
    session = CrawlSession(CrawlOptions(start_url="http://a.test/", store=path, resume=True))
    try:
        assert session.crawl_id == crawl_id
        assert session.site_url == "https://www.a.test/en/"
        assert session.scope.origins == {"https://www.a.test", "http://www.a.test"}
        assert session.site_facts()["scope/origins"] == ["http://www.a.test", "https://www.a.test"]
    finally:
        session.close("incomplete", {})
