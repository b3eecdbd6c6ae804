"""Issue 16 "Also": resources behind stylesheets, and what points at another host.

A real crawl of a site on 127.0.0.1 that links, redirects, canonicalises, hreflangs and lists
sitemap URLs on a second site on 127.0.0.2, which counts every request it gets: none may come.
"""

from __future__ import annotations

import pandas as pd
import pytest

from audit import run_audit
from audit.load import load_crawl
from crawler.css import style_attribute_references, stylesheet_references
from seo_audit.sitekit import Reply, SiteServer, page, redirect

from .conftest import crawl_site

PNG = Reply(200, b"\x89PNG\r\n\x1a\n", "image/png")


def css(text: str) -> Reply:
    return Reply(200, text, "text/css")


def site_routes(other: str) -> dict:
    nav = "".join(f"<a href='{path}'>{path}</a> " for path in (
        "/styled", "/moved-away", "/canon-away", "/hreflang-away", "/header-noindex", "/meta-noindex"))
    return {
        "/": page("Home", nav),
        "/about": page("About", "<a href='/header-noindex'>x</a><a href='/meta-noindex'>x</a>"),
        "/contact": page("Contact", "<a href='/header-noindex'>x</a><a href='/meta-noindex'>x</a><a href='/about'>a</a>"),
        "/styled": page("Styled", "<div style=\"background:url('/img/inline-missing.png')\">hero</div>"
                        "<a href='/about'>about</a> <a href='/contact'>contact</a>",
                        head="<link rel='stylesheet' href='/css/main.css'>"
                             "<style>@import '/css/extra.css'; .x{background:url(/img/ok.png)}</style>"),
        "/css/main.css": css("@import url('theme.css');\n/* url(/img/commented.png) */\n"
                             ".a{background:url(../img/ok.png)} .b{background-image:url(\"/img/missing.png\")}"),
        "/css/theme.css": css(".c{background:url(/img/theme-missing.png)}"),
        "/css/extra.css": css(f".d{{background:url({other}/img/far.png)}}"),
        "/img/ok.png": PNG,
        "/moved-away": redirect(f"{other}/landing"),
        "/canon-away": page("Canon", head=f"<link rel='canonical' href='{other}/canon-target'>"),
        "/hreflang-away": page("Hreflang", head=f"<link rel='alternate' hreflang='de' href='{other}/de/'>"),
        "/header-noindex": page("Header", headers=[("X-Robots-Tag", "noindex")]),
        "/meta-noindex": page("Meta", head="<meta name='robots' content='noindex'>"),
        "/robots.txt": lambda hit: Reply(200, f"User-agent: *\nAllow: /\nSitemap: {hit.server.url}/sitemap.xml\n",
                                         "text/plain"),
        "/sitemap.xml": lambda hit: Reply(200, sitemap(hit.server.url, other), "application/xml"),
    }


def sitemap(site: str, other: str) -> str:
    locs = (f"{site}/", f"{site}/header-noindex", f"{site}/meta-noindex", f"{other}/listed-elsewhere")
    return ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs) + "</urlset>")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    with SiteServer({"/landing": page("Landing")}, host="127.0.0.2") as other:
        with SiteServer(site_routes(other.url)) as site:
            store = tmp_path_factory.mktemp("other-hosts") / "store.sqlite"
            result = crawl_site(f"{site.url}/", store)
            crawl = load_crawl(store, result.crawl_id)
            yield {"crawl": crawl, "site": site.url, "other": other.url, "other_hits": dict(other.hits),
                   "hits": dict(site.hits), "findings": run_audit(crawl)}


def findings_of(crawled, rule: str) -> dict[str, str]:
    f = crawled["findings"]
    hit = f[f["rule"].eq(rule)]
    return dict(zip(hit["url"], hit["evidence"]))


def test_the_other_host_gets_no_request(crawled):
    assert crawled["other_hits"] == {}


def test_stylesheets_are_read_and_what_they_reference_is_checked(crawled):
    site, hits = crawled["site"], crawled["hits"]
    assert hits.get("/css/theme.css") and hits.get("/css/extra.css")  # @import, in a file and in <style>
    assert hits.get("/img/missing.png") and hits.get("/img/theme-missing.png") and hits.get("/img/inline-missing.png")
    assert not hits.get("/img/commented.png")
    links = crawled["crawl"].links
    css_links = set(zip(links["source"].astype(str), links["target"].astype(str), links["kind"].astype(str)))
    assert (f"{site}/css/main.css", f"{site}/css/theme.css", "css") in css_links
    assert (f"{site}/css/main.css", f"{site}/img/ok.png", "css-url") in css_links  # ../ from the stylesheet
    assert (f"{site}/styled", f"{site}/img/inline-missing.png", "css-url") in css_links


def test_a_broken_image_behind_a_stylesheet_is_a_broken_link(crawled):
    site = crawled["site"]
    broken = findings_of(crawled, "internal-4xx")
    assert f"linked from {site}/css/main.css" in broken[f"{site}/img/missing.png"]
    assert f"linked from {site}/css/theme.css" in broken[f"{site}/img/theme-missing.png"]
    assert f"linked from {site}/styled" in broken[f"{site}/img/inline-missing.png"]
    assert f"{site}/img/ok.png" not in broken


def test_what_points_at_another_host_is_recorded_with_that_host_not_followed(crawled):
    pages = crawled["crawl"].pages.set_index("url")
    other = crawled["other"]
    for path, via in (("/landing", "redirect"), ("/canon-target", "canonical"), ("/de/", "hreflang"),
                      ("/img/far.png", "css-url")):
        row = pages.loc[other + path]
        assert row["skip_reason"] == "out-of-scope" and row["found_via"] == via, path
        assert pd.isna(row["status"])


def test_redirect_and_canonical_to_another_host_are_findings_naming_it(crawled):
    site, other = crawled["site"], crawled["other"]
    assert other.split("://")[1] in findings_of(crawled, "redirect-off-site")[f"{site}/moved-away"]
    assert other.split("://")[1] in findings_of(crawled, "canonical-other-host")[f"{site}/canon-away"]


def test_a_sitemap_listing_another_host_is_a_finding_with_evidence(crawled):
    site, other = crawled["site"], crawled["other"]
    found = findings_of(crawled, "sitemap-other-host")
    assert list(found) == [f"{other}/listed-elsewhere"]
    assert f"listed in {site}/sitemap.xml" in found[f"{other}/listed-elsewhere"]
    assert "127.0.0.2" in found[f"{other}/listed-elsewhere"]


def test_a_noindex_header_is_a_finding_like_the_meta_tag(crawled):
    site = crawled["site"]
    for rule in ("sitemap-noindex", "noindex-linked"):
        found = findings_of(crawled, rule)
        assert "X-Robots-Tag" in found[f"{site}/header-noindex"], rule
        assert "noindex (noindex)" in found[f"{site}/meta-noindex"], rule


@pytest.mark.parametrize("text, expected", [
    ("@import 'a.css'; @import url(b.css) print;", [("a.css", "css"), ("b.css", "css")]),
    ("a{b:url( x.png )} /* url(no.png) */ c{content:'url(no2.png)'}", [("x.png", "css-url")]),
    ("@media print{@supports (x:y){a{b:url(\"deep.png\")}}}", [("deep.png", "css-url")]),
    ("@font-face{src:url(f.woff2) format('woff2'), local(F)}", [("f.woff2", "css-url")]),
    ("a{b:url(", []), ("}}}{{{", []), ("", []),
])
def test_stylesheet_references(text, expected):
    assert stylesheet_references(text) == expected


def test_style_attribute_references():
    assert style_attribute_references("background: url('/hero.jpg') no-repeat; color: red") == [("/hero.jpg", "css-url")]
    assert style_attribute_references("color: red") == []
