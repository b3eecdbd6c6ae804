"""A real CMS: WordPress from Debian's packages (bench/wordpress_site.py, in a small form), crawled
as a user would: the crawl ends by itself, finds every post and page, names the URL families that
waste the crawl with their counts and robots.txt lines, and samples them out."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from wordpress_site import PACKAGES, WordPressSite, missing_packages  # noqa: E402

MISSING = missing_packages()
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"needs Debian packages {' '.join(MISSING)} (apt-get install -y {' '.join(PACKAGES)})")

POSTS = 24
SAMPLE = 10


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with WordPressSite(str(tmp_path_factory.mktemp("wordpress")), posts=POSTS) as wordpress:
        yield wordpress


def crawl(site, out: Path, *flags: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "seo_audit", "crawl", site.origin + "/", "--out", str(out),
                           "--json", "--max-duration", "600", "--sample-size", str(SAMPLE), *flags],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    conn = sqlite3.connect(out / "seo-audit.sqlite")
    try:
        (state,) = conn.execute("SELECT state FROM crawls").fetchone()
        pages = {url: rest for url, *rest in conn.execute(
            "SELECT url, status, skip_reason, family, family_verdict FROM pages")}
        (budget,) = conn.execute("SELECT budget FROM audits").fetchone()
        findings = "\n".join(e for (e,) in conn.execute(
            "SELECT evidence FROM findings WHERE rule = 'url-family-waste'"))
    finally:
        conn.close()
    return {"out": out, "state": state, "pages": pages, "budget": json.loads(budget),
            "findings": findings}


@pytest.fixture(scope="module")
def sampled(site, tmp_path_factory):
    return crawl(site, tmp_path_factory.mktemp("sampled"))


@pytest.fixture(scope="module")
def unsampled(site, tmp_path_factory):
    return crawl(site, tmp_path_factory.mktemp("unsampled"), "--no-sampling", "--no-report")


@pytest.mark.parametrize("run", ["sampled", "unsampled"])
def test_the_crawl_ends_by_itself_and_finds_every_post_and_page(site, run, request):
    result = request.getfixturevalue(run)
    assert result["state"] == "complete"
    wanted = site.manifest["posts"] + site.manifest["pages"]
    assert len(site.manifest["posts"]) == POSTS and site.manifest["pages"]
    assert [url for url in wanted if result["pages"].get(url, [None])[0] != 200] == []


@pytest.mark.parametrize("run", ["sampled", "unsampled"])
def test_wasteful_families_are_named_with_counts_and_robots_lines(run, request):
    result = request.getfixturevalue(run)
    families = {f["family"]: f for f in result["budget"]["families"]}
    assert {"search", "login"} <= set(families)
    assert families["search"]["verdicts"].get("noindex") and families["login"]["verdicts"].get("noindex")
    assert result["budget"]["family_share"] > 0.3
    findings = result["findings"]
    assert "family search:" in findings and "Disallow: /?s=" in findings
    assert "family login:" in findings and "Disallow: /wp-login.php" in findings


def test_sampling_stops_fetching_noindex_families_and_costs_fewer_requests(sampled, unsampled):
    out = {url: row for url, row in sampled["pages"].items() if row[1] == "sampled-out"}
    assert {row[2] for row in out.values()} >= {"search", "login"}
    assert all(row[3] == "noindex" for row in out.values())
    for family in ("search", "login"):
        fetched = [row for row in sampled["pages"].values() if row[2] == family and row[0] is not None]
        assert SAMPLE <= len(fetched) <= SAMPLE + 5  # the sample, and what was in flight
    assert not any(row[1] == "sampled-out" for row in unsampled["pages"].values())
    per_indexable = {name: run["budget"]["fetched"] / run["budget"]["indexable"]
                     for name, run in (("sampled", sampled), ("unsampled", unsampled))}
    assert per_indexable["sampled"] < per_indexable["unsampled"]
    assert sampled["budget"]["indexable"] == unsampled["budget"]["indexable"]
    assert sampled["budget"]["sampled_out"] == len(out)


def test_the_report_headline_names_the_families(sampled):
    html = (sampled["out"] / "report.html").read_text()
    headline = html[html.index('id="family-headline"'):][:1500]
    assert "of fetches went to these URL families" in headline
    assert ">search<" in headline and ">login<" in headline and "sampled out, not fetched" in headline
