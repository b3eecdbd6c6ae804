"""Smoke test of the benchmark's site generator: 50 pages, linked up, sizes in range. No nginx."""

import os
import sys
from collections import deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from lxml import html as lxml_html

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import sitegen  # noqa: E402

ORIGIN = "http://127.0.0.1:8080"
N = 50


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("benchsite")
    stats = sitegen.generate_site(str(root), N, ORIGIN, seed=1)
    return root, stats


def _links(root, path):
    with open(os.path.join(root, sitegen.path_to_file(path)), "rb") as fh:
        doc = lxml_html.fromstring(fh.read())
    return doc, [a.get("href") for a in doc.iter("a") if a.get("href")]


def test_every_page_reachable_from_root(site):
    root, _ = site
    seen, queue, targets_missing = {"/"}, deque(["/"]), []
    kinds = {"relative": 0, "root-relative": 0, "absolute": 0}
    while queue:
        path = queue.popleft()
        _, hrefs = _links(root, path)
        assert len(hrefs) >= 35, f"{path} has only {len(hrefs)} links"
        for h in hrefs:
            if h.startswith("http"):
                kinds["absolute"] += 1
            elif h.startswith("/"):
                kinds["root-relative"] += 1
            elif ":" not in h:
                kinds["relative"] += 1
            url = urldefrag(urljoin(ORIGIN + path, h))[0]
            u = urlsplit(url)
            if u.scheme != "http" or u.netloc != "127.0.0.1:8080":
                continue  # external and mailto: links are never fetched
            if not os.path.exists(os.path.join(root, sitegen.path_to_file(u.path))):
                targets_missing.append((path, h))
                continue
            if u.path not in seen:
                seen.add(u.path)
                queue.append(u.path)
    assert not targets_missing, targets_missing[:5]
    assert seen == {sitegen.page_path(i) for i in range(N)}
    assert all(v > 0 for v in kinds.values()), kinds


def test_sizes_and_head(site):
    root, stats = site
    assert stats["pages"] == N
    for i in range(N):
        path = sitegen.page_path(i)
        size = os.path.getsize(os.path.join(root, sitegen.path_to_file(path)))
        assert 15 * 1024 <= size <= 40 * 1024, (path, size)
        doc, _ = _links(root, path)
        assert doc.findtext(".//title")
        assert doc.xpath("//link[@rel='canonical']/@href") == [ORIGIN + path]
        assert doc.xpath("//nav//a")
        assert doc.xpath("//img/@src")
    hreflang = [i for i in range(N) if i % 97 == 0]
    assert hreflang  # page 0 carries hreflang alternates
    doc, _ = _links(root, "/")
    assert len(doc.xpath("//link[@rel='alternate'][@hreflang]")) == 3


def test_robots_sitemap_and_determinism(site, tmp_path):
    root, _ = site
    robots = (root / "robots.txt").read_text()
    assert f"Sitemap: {ORIGIN}/sitemap.xml" in robots
    sm = (root / "sitemap.xml").read_text()
    assert sm.count("<loc>") == N
    # referenced resources exist
    for res in ("static/site.css", "static/app.js", "static/vendor.js", "favicon.ico", "img/photo-00.jpg"):
        assert (root / res).exists()
    # same seed, same bytes
    assert sitegen.build_page(7, N, ORIGIN, 1) == (root / sitegen.path_to_file(sitegen.page_path(7))).read_text()
    assert sitegen.build_page(7, N, ORIGIN, 2) != sitegen.build_page(7, N, ORIGIN, 1)


def test_sitemap_index_for_large_sites(tmp_path, monkeypatch):
    monkeypatch.setattr(sitegen, "SITEMAP_CHUNK", 20)
    sitegen._write_static(str(tmp_path), N, ORIGIN)
    idx = (tmp_path / "sitemap.xml").read_text()
    assert "<sitemapindex" in idx and idx.count("<loc>") == 3
    assert sum((tmp_path / f"sitemap-{k}.xml").read_text().count("<loc>") for k in (1, 2, 3)) == N


def test_the_crawl_phase_peak_is_taken_from_the_timeline_up_to_the_crawls_end():
    import crawl_bench

    timeline = [(0.0, 20.0), (2.0, 180.0), (4.0, 190.0), (6.0, 300.0), (8.0, 250.0)]
    # the crawl finished 5 s after the process started: its peak is 190, the audit's 300 after it
    assert crawl_bench.crawl_phase_rss(timeline, 1000.0, 1005.0) == 190.0
    assert crawl_bench.crawl_phase_rss(timeline, 1000.0, 999.0) is None  # finished before the first sample
