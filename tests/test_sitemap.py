"""`seo-audit sitemap`: sitemaps of a real crawl, only its indexable pages, valid by the schema."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from audit.load import load_crawl
from reports.sitemaps import IMAGE_NS, SITEMAP_NS, SitemapEntry, entries, lastmod, write_sitemaps
from seo_audit.cli import main
from seo_audit.sitekit import Reply, SiteServer, page, redirect

from .conftest import crawl_site

SCHEMAS = Path(__file__).parent / "sitemap_schemas"
NS = {"s": SITEMAP_NS, "image": IMAGE_NS}
MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def valid(path: Path, name: str) -> etree._ElementTree:
    data = path.read_bytes()
    doc = etree.ElementTree(etree.fromstring(gzip.decompress(data) if path.suffix == ".gz" else data))
    checker = schema(name)
    assert checker.validate(doc), checker.error_log
    return doc


def site_routes() -> dict:
    links = "".join(f"<a href='{path}'>{path}</a> " for path in (
        "/fine", "/dated", "/q?a=1&b=%3Cx%3E", "/moved", "/noindex", "/header-noindex", "/canonicalised",
        "/self-canonical", "/private/blocked", "/gone", "/file.pdf"))
    return {
        "/": page("Home", links + "<img src='/img/one.png'><img src='/img/two&amp;more.png'>"),
        "/fine": page("Fine"),
        "/dated": page("Dated", headers=[("Last-Modified", MODIFIED)]),
        "/q?a=1&b=%3Cx%3E": page("Query"),
        "/moved": redirect("/fine"),
        "/noindex": page("No", head="<meta name='robots' content='noindex'>"),
        "/header-noindex": page("No", headers=[("X-Robots-Tag", "noindex")]),
        "/canonicalised": page("Canon", head="<link rel='canonical' href='/fine'>"),
        "/self-canonical": page("Self", head="<link rel='canonical' href='/self-canonical'>"),
        "/private/blocked": page("Blocked"),
        "/gone": page("Gone", status=404),
        "/file.pdf": Reply(200, b"%PDF-1.4", "application/pdf"),
        "/img/one.png": Reply(200, b"\x89PNG", "image/png"),
        "/robots.txt": Reply(200, "User-agent: *\nDisallow: /private/\n", "text/plain"),
    }


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    with SiteServer(site_routes()) as site:
        store = tmp_path_factory.mktemp("sitemap") / "store.sqlite"
        result = crawl_site(f"{site.url}/", store)
        yield {"base": site.url, "store": store, "crawl_id": result.crawl_id}


def locs(doc) -> list[str]:
    return doc.xpath("//s:loc/text()", namespaces=NS)


def test_only_indexable_pages_with_lastmod_and_images(crawled, tmp_path, capsys):
    b = crawled["base"]
    code = main(["sitemap", "--store", str(crawled["store"]), "--out", str(tmp_path), "--images"])
    assert code == 0, capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sitemap.xml"]
    doc = valid(tmp_path / "sitemap.xml", "urlset-with-images.xsd")
    assert sorted(locs(doc)) == sorted(b + path for path in ("/", "/fine", "/dated", "/q?a=1&b=%3Cx%3E",
                                                             "/self-canonical"))
    assert b"&amp;b=%3Cx%3E" in (tmp_path / "sitemap.xml").read_bytes()  # escaped, not raw
    dated = doc.xpath("//s:url[s:loc=$u]/s:lastmod/text()", u=b + "/dated", namespaces=NS)
    assert dated == ["2015-10-21T07:28:00+00:00"]
    assert doc.xpath("//s:url[s:loc=$u]/s:lastmod", u=b + "/fine", namespaces=NS) == []
    images = doc.xpath("//s:url[s:loc=$u]/image:image/image:loc/text()", u=b + "/", namespaces=NS)
    assert sorted(images) == [b + "/img/one.png", b + "/img/two&more.png"]


def test_no_images_without_the_flag_and_gzip(crawled, tmp_path):
    assert main(["sitemap", "--store", str(crawled["store"]), "--crawl", str(crawled["crawl_id"]),
                 "--out", str(tmp_path), "--gzip"]) == 0
    doc = valid(tmp_path / "sitemap.xml.gz", "sitemap.xsd")
    assert len(locs(doc)) == 5 and not doc.xpath("//image:image", namespaces=NS)


def test_split_at_the_url_limit_with_an_index(crawled, tmp_path):
    crawl = load_crawl(crawled["store"], crawled["crawl_id"])
    written = write_sitemaps(entries(crawl), tmp_path, "https://cdn.example/maps", max_urls=2)
    assert [p.name for p in written.files] == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml",
                                               "sitemap-index.xml"]
    counts = [len(locs(valid(p, "sitemap.xsd"))) for p in written.files[:-1]]
    assert counts == [2, 2, 1] and written.urls == 5
    index = valid(written.index, "siteindex.xsd")
    assert locs(index) == [f"https://cdn.example/maps/sitemap-{n}.xml" for n in (1, 2, 3)]


def test_split_at_the_byte_limit(tmp_path):
    items = [SitemapEntry(f"https://example.com/page/{n:04d}") for n in range(40)]
    written = write_sitemaps(items, tmp_path, "https://example.com/", max_bytes=1000)
    sizes = [p.stat().st_size for p in written.files[:-1]]
    assert len(sizes) > 1 and max(sizes) <= 1000
    listed = [loc for p in written.files[:-1] for loc in locs(valid(p, "sitemap.xsd"))]
    assert listed == [item.loc for item in items]


def test_unusable_urls_left_out_and_counted(tmp_path):
    items = [SitemapEntry("https://example.com/" + "x" * 2100), SitemapEntry("https://example.com/ok"),
             SitemapEntry("https://example.com/\x01")]
    written = write_sitemaps(items, tmp_path, "https://example.com/")
    assert locs(valid(written.files[0], "sitemap.xsd")) == ["https://example.com/ok"]
    assert sum(written.skipped.values()) == 2


def test_nothing_indexable_writes_nothing(tmp_path):
    assert write_sitemaps([], tmp_path, "https://example.com/").files == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("header, expected", [
    (MODIFIED, "2015-10-21T07:28:00+00:00"),
    ("Tue, 15 Nov 1994 08:12:31 +0200", "1994-11-15T06:12:31+00:00"),
    ("yesterday", None), ("", None), (None, None)])
def test_lastmod_from_last_modified(header, expected):
    assert lastmod(header) == expected


def test_missing_store_is_a_store_error(tmp_path, capsys):
    assert main(["sitemap", "--store", str(tmp_path / "none.sqlite"), "--out", str(tmp_path)]) == 4
