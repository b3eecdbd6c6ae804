"""URL families: the pure mapping, the sampler, the rule's words, and sampling in real crawls
(a wiki whose every article links its edit, history and print views), resumed after SIGKILL."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

from audit.rules.families import advice, robots_pattern, url_families
from crawler.families import FamilySampler, page_verdict, url_family
from seo_audit.sitekit import Reply, SiteServer, page

H = "https://blog.test"


URL_FAMILIES = [
    (f"{H}/feed/", "feed"),
    (f"{H}/2024/05/a-post/feed/", "feed"),
    (f"{H}/comments/feed/atom/", "feed"),
    (f"{H}/?feed=rss2", "feed"),
    (f"{H}/2024/05/a-post/?replytocom=12", "replytocom"),
    (f"{H}/?s=shoes", "search"),
    (f"{H}/page/2/?s=shoes", "search"),
    (f"{H}/search/shoes/", "search"),
    (f"{H}/wp-login.php?redirect_to=https%3A%2F%2Fblog.test%2F", "login"),
    (f"{H}/wp-admin/post.php?post=3&action=edit", "login"),
    (f"{H}/?attachment_id=7", "attachment"),
    (f"{H}/2024/05/a-post/attachment/1234/", "attachment"),
    (f"{H}/?p=123", "shortlink"),
    (f"{H}/?page_id=9", "shortlink"),
    (f"{H}/author/alice/", "author-archive"),
    (f"{H}/author/alice/page/3/", "author-archive"),
    (f"{H}/?author=2", "author-archive"),
    (f"{H}/2024/", "date-archive"),
    (f"{H}/2024/05/", "date-archive"),
    (f"{H}/2024/05/17/", "date-archive"),
    (f"{H}/2024/05/page/2/", "date-archive"),
    (f"{H}/?m=202405", "date-archive"),
    (f"{H}/2024/05/a-post/comment-page-2/", "comment-pages"),
    (f"{H}/page/4/", "paginated-archive"),
    (f"{H}/category/news/page/2/", "paginated-archive"),
    # generic families: the path template and the set of query keys (verbs keep their value)
    (f"{H}/wiki/Main_Page?action=edit", "/wiki/{slug}?action=edit"),
    (f"{H}/wiki/Other?action=history&offset=5", "/wiki/{slug}?action=history&offset"),
    (f"{H}/shop/shoes/?orderby=price&colour=red", "/shop/{slug}/?colour&orderby"),
    (f"{H}/index.php?title=X&oldid=3", "/index.php?oldid&title"),
    (f"{H}/product/123", "/product/{n}"),
    (f"{H}/product/123?ref=home", "/product/{n}?ref"),
    (f"{H}/2024/05/a-post/", "/{n}/{n}/a-post/"),
    # one of a kind: no family
    (f"{H}/", None),
    (f"{H}/about/", None),
    (f"{H}/category/news/", None),
    (f"{H}/post-12-tips/", None),
]


@pytest.mark.parametrize("url, family", URL_FAMILIES)
def test_url_family(url, family):
    assert url_family(url) == family


def test_the_audit_maps_a_column_of_urls_as_the_crawl_maps_each():
    # the URLs the audit's search rules out, the ones it leaves to family_of, and those whose
    # Unicode or newline only Python's own regexes and lower() read as family_of does
    urls = [url for url, _ in URL_FAMILIES] + [
        f"{H}/wiki/Main_Page", f"{H}/Page/2/", f"{H}/FEED", f"{H}/c1/p1", f"{H}/p/\u0663/", f"{H}/x/12\n",
        f"{H}/\u0130tem?Action=View&a&&=v", f"{H}/2024/05", "blog.test/2024/", f"{H}?x/12", f"{H}"]
    families = url_families(pd.Series(urls, dtype="str"))
    assert families.to_numpy(dtype=object, na_value=None).tolist() == [url_family(url) for url in urls]


@pytest.mark.parametrize("row, duplicate, verdict", [
    ({"status": 200, "content_type": "text/html", "meta_robots": "noindex, follow"}, False, "noindex"),
    ({"status": 200, "content_type": "text/html", "x_robots_tag": "none"}, False, "noindex"),
    ({"status": 200, "content_type": "text/html", "canonical": f"{H}/a"}, False, "canonicalised"),
    ({"status": 200, "content_type": "text/html", "link_canonical": f"{H}/a"}, False, "canonicalised"),
    ({"status": 200, "content_type": "text/html", "canonical": f"{H}/x"}, False, "indexable"),  # self
    ({"status": 200, "content_type": "text/html"}, True, "duplicate"),
    ({"status": 200, "content_type": "text/html"}, False, "indexable"),
    ({"status": 200, "content_type": "application/rss+xml"}, False, "other"),
    ({"status": 301, "redirect_target": f"{H}/a"}, False, "redirect"),
    ({"status": 404, "content_type": "text/html", "meta_robots": "noindex"}, False, "error"),
    ({"status": None, "error": "timeout"}, False, "error"),
])
def test_page_verdict(row, duplicate, verdict):
    assert page_verdict(f"{H}/x", row, duplicate) == verdict


def test_a_family_is_sampled_out_once_its_whole_sample_is_waste():
    sampler = FamilySampler(sample_size=3)
    sampler.observe("search", "noindex")
    sampler.observe("search", "canonicalised")
    assert sampler.sampled_out("search") is None  # a sample of 2 of 3
    sampler.observe("search", "noindex")
    assert sampler.sampled_out("search") == "noindex+canonicalised"
    assert sampler.sampled_out_families == {"search": "noindex+canonicalised"}
    assert sampler.sampled_out("feed") is None and sampler.sampled_out(None) is None


@pytest.mark.parametrize("keeper", ["indexable", "redirect", "error", "other"])
def test_one_page_that_is_not_waste_keeps_the_family(keeper):
    sampler = FamilySampler(sample_size=3)
    for verdict in ("noindex", keeper, "noindex", "noindex", "noindex", "noindex"):
        sampler.observe("f", verdict)
    assert sampler.sampled_out("f") is None  # decided at 3: kept, whatever comes after


def test_duplicates_are_texts_met_before_and_decisions_can_be_restored():
    sampler = FamilySampler(sample_size=30)
    assert [sampler.is_duplicate(h) for h in ("a", "b", "a", None, None)] == [False, False, True,
                                                                              False, False]
    sampler.mark_sampled_out("login", "noindex")
    assert sampler.sampled_out("login") == "noindex"
    with pytest.raises(ValueError):
        FamilySampler(sample_size=0)


@pytest.mark.parametrize("family, verdicts, line", [
    ("/wiki/{slug}?action=edit", {"noindex": 9}, "Disallow: /wiki/*?*action=edit"),
    ("/{slug}?sort", {"canonicalised": 9}, "link the canonical URLs these pages name instead, or "
                                           "robots.txt: Disallow: /*?*sort="),
    ("/product/{n}", {"duplicate": 3}, "Disallow: /product/*"),
    ("search", {"noindex": 3}, "Disallow: /?s="),
    ("replytocom", {}, "Disallow: /*?replytocom="),
])
def test_advice_names_a_robots_line_or_canonical(family, verdicts, line):
    assert line in advice(family, verdicts)


def test_robots_pattern_of_a_plain_path_family():
    assert robots_pattern("/shop/{n}/reviews") == "/shop/*/reviews"


# --- sampling in real crawls -----------------------------------------------------------------
ARTICLES = 40
VIEWS = ("?action=edit", "?action=history", "?printable=yes")


def wiki() -> dict:
    """A wiki: every article links its edit and history forms (noindex) and its print view
    (canonicalised to the article), the way MediaWiki does."""
    routes = {"/": page("Wiki", "".join(f"<a href='/wiki/A{i}'>A{i}</a> " for i in range(ARTICLES)))}
    for i in range(ARTICLES):
        views = "".join(f"<a href='/wiki/A{i}{view}'>{view}</a> " for view in VIEWS)
        routes[f"/wiki/A{i}"] = Reply(200, f"<html><head><title>Article {i}</title></head><body>"
                                           f"<p>Text of article {i}.</p>{views}</body></html>", delay=0.005)
        for view in VIEWS[:2]:
            routes[f"/wiki/A{i}{view}"] = Reply(
                200, f"<html><head><title>{view} A{i}</title><meta name='robots' content='noindex'>"
                     f"</head><body><form>{view} of {i}</form></body></html>", delay=0.02)
        routes[f"/wiki/A{i}?printable=yes"] = Reply(
            200, f"<html><head><title>Article {i}</title><link rel='canonical' href='/wiki/A{i}'>"
                 f"</head><body><p>Printable {i}</p></body></html>", delay=0.02)
    return routes


def crawl(url: str, out, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seo_audit", "crawl", url, "--out", str(out), "--concurrency", "1",
            "--timeout", "5", "--sample-size", "5", *extra]


def outcomes(store) -> dict[str, tuple]:
    with sqlite3.connect(store) as conn:
        return {url: tuple(rest) for url, *rest in conn.execute(
            "SELECT url, status, skip_reason, family, family_verdict FROM pages "
            "WHERE crawl_id = (SELECT max(id) FROM crawls) AND fetch_kind = 'page'")}


@pytest.fixture(scope="module")
def site():
    with SiteServer(wiki()) as server:
        yield server


@pytest.fixture(scope="module")
def sampled(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("sampled")
    subprocess.run(crawl(site.url + "/", out), check=True, capture_output=True, timeout=300)
    return out


FAMILIES = (("?action=edit", "/wiki/{slug}?action=edit", "noindex"),
            ("?action=history", "/wiki/{slug}?action=history", "noindex"),
            ("?printable=yes", "/wiki/{slug}?printable", "canonicalised"))
#: the one request the downloader may take while the page that completes a sample is parsed
IN_FLIGHT = 1


def sampled_families(url: str, pages: dict[str, tuple]) -> dict[str, int]:
    """Per family of the wiki: how many members were fetched, after checking that they are the
    first ones met, each with the family's verdict, and that every other one is sampled out."""
    fetched_counts = {}
    for view, family, verdict in FAMILIES:
        members = [pages[f"{url}/wiki/A{i}{view}"] for i in range(ARTICLES)]
        fetched = len([m for m in members if m[0] == 200])
        assert members[:fetched] == [(200, None, family, verdict)] * fetched
        assert members[fetched:] == [(None, "sampled-out", family, verdict)] * (ARTICLES - fetched)
        fetched_counts[family] = fetched
    return fetched_counts


def test_sampling_stops_fetching_a_family_whose_sample_is_all_waste(site, sampled):
    pages = outcomes(sampled / "seo-audit.sqlite")
    for family, fetched in sampled_families(site.url, pages).items():
        assert 5 <= fetched <= 5 + IN_FLIGHT, family
    # every article is fetched and indexable
    assert all(pages[f"{site.url}/wiki/A{i}"] == (200, None, None, None) for i in range(ARTICLES))


def test_the_report_says_what_was_sampled_and_how_much_of_the_crawl_it_was(sampled):
    html = (sampled / "report.html").read_text()
    assert 'id="url-families"' in html and "sampled-out" in html
    headline = html[html.index('id="family-headline"'):][:800]
    # 3 families of 40 = 120 of 161 page URLs, 15 or a few more fetched, the rest sampled out
    assert "of fetches went to these URL families" in headline
    assert 120 - 3 * (5 + IN_FLIGHT) <= int(re.search(r"counting (\d+) URLs sampled out", headline)[1]) <= 105
    findings = (sampled / "findings.csv").read_text()
    assert "url-family-waste" in findings and "Disallow: /wiki/*?*action=edit" in findings
    budget = json.loads((sampled / "summary.json").read_text())["budget"]
    families = {f["family"]: f for f in budget["families"]}
    assert set(families) == {family for _, family, _ in FAMILIES}
    assert families["/wiki/{slug}?action=edit"]["met"] == ARTICLES
    assert families["/wiki/{slug}?printable"]["sample_verdict"] == "canonicalised"
    assert budget["sampled_out"] == sum(f["sampled_out"] for f in families.values())
    assert budget["fetches_without_sampling"] == budget["fetched"] + budget["sampled_out"]


def test_no_sampling_fetches_every_member(site, tmp_path):
    subprocess.run(crawl(site.url + "/", tmp_path, "--no-sampling", "--no-report"), check=True,
                   capture_output=True, timeout=300)
    pages = outcomes(tmp_path / "seo-audit.sqlite")
    assert all(status == 200 for status, *_ in pages.values())
    assert not any(skip == "sampled-out" for _, skip, *_ in pages.values())


def test_sigkill_then_resume_samples_exactly_as_uninterrupted(site, sampled, tmp_path):
    store = tmp_path / "seo-audit.sqlite"
    proc = subprocess.Popen(crawl(site.url + "/", tmp_path, "--no-report"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # killed while the families are being sampled: 3 of each family's sample of 5 fetched, so
    # that the resumed crawl must know them (a crawl that forgot would fetch 5 more of each)
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(store, timeout=1) as conn:
                (views,) = conn.execute("SELECT count(*) FROM pages WHERE url LIKE '%?%' "
                                        "AND status IS NOT NULL").fetchone()
        except sqlite3.Error:
            views = 0
        if views >= 3 * 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the crawl ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run(crawl(site.url + "/", tmp_path, "--no-report", "--resume"), check=True,
                   capture_output=True, timeout=300)
    resumed, whole = outcomes(store), outcomes(sampled / "seo-audit.sqlite")
    assert set(resumed) == set(whole)
    # the same decisions, give or take the request in flight when a sample completed
    for family, fetched in sampled_families(site.url, resumed).items():
        assert 5 <= fetched <= 5 + IN_FLIGHT, family
    family_urls = {f"{site.url}/wiki/A{i}{view}" for i in range(ARTICLES) for view, _, _ in FAMILIES}
    assert {u: o for u, o in resumed.items() if u not in family_urls} == {
        u: o for u, o in whole.items() if u not in family_urls}


@pytest.mark.parametrize("flags, job, sampling, sample_size", [
    ([], "", True, 30),
    (["--no-sampling"], "", False, 30),
    (["--sample-size", "12"], "", True, 12),
    ([], "[crawl]\nsampling = false\nsample_size = 50\n", False, 50),
    (["--sample-size", "7"], "[crawl]\nsample_size = 50\n", True, 7),  # a flag overrides the file
])
def test_sampling_options_from_flags_and_job_files(tmp_path, flags, job, sampling, sample_size):
    from seo_audit.cli import build_parser
    from seo_audit.config import build_job
    from seo_audit.flags import job_settings

    (tmp_path / "job.toml").write_text('start_url = "https://blog.test/"\n' + job)
    args = build_parser().parse_args(["crawl", "--config", str(tmp_path / "job.toml"), *flags])
    options = build_job(job_settings(args)).options
    assert (options.sampling, options.sample_size) == (sampling, sample_size)
