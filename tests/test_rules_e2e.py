"""End to end: serve the demo site, crawl it for real, audit it. Every rule must fire on the
path the demo plants it on (seo_audit.demo_site.PLANTED), and never on its clean pages."""

from __future__ import annotations

import pytest

from audit import RULES, crawl_budget, load_crawl, run_audit, save_findings
from audit.rules.base import CATEGORIES
from crawler import store
from seo_audit.demo_site import CLEAN_PATHS, PLANTED, demo_routes
from seo_audit.sitekit import SiteServer, page
from tests.conftest import crawl_site


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """(site base URL, crawl, findings) of one crawl of the demo site, shared by the module."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    with SiteServer(demo_routes()) as site:
        result = crawl_site(f"{site.url}/", path)
        base = site.url
    assert result.state == "complete"
    crawl = load_crawl(path)
    return base, crawl, run_audit(crawl)


#: rules that cannot fire on the demo (it has sitemaps), with the test that crawls a site where they do
PLANTED_ELSEWHERE = {"no-xml-sitemap": "test_a_site_without_sitemaps_gets_a_notice_not_a_critical",
                     # custom searches fire only on a crawl asked for them
                     "custom-search-match": "test_custom_searches_fire_on_a_crawl_made_with_them",
                     "custom-search-absent": "test_custom_searches_fire_on_a_crawl_made_with_them"}

#: the demo is one plain-HTTP site: the security rules need HTTPS servers with certificates of
#: their own, and tests/test_https_site.py crawls such servers and asserts each of these rules
NOT_IN_THE_DEMO = "security"


def test_the_demo_plants_every_rule():
    assert set(PLANTED) | set(PLANTED_ELSEWHERE) == {rule.id for rule in RULES if rule.category != NOT_IN_THE_DEMO}
    assert not set(PLANTED) & set(PLANTED_ELSEWHERE)
    assert all(name in globals() for name in PLANTED_ELSEWHERE.values())


def test_a_site_without_sitemaps_gets_a_notice_not_a_critical(tmp_path):
    # no robots.txt, no /sitemap.xml: both answer 404, as on most small sites
    routes = {"/": page("Home", "<h1>Home</h1><p>Welcome.</p><a href='/about'>About</a>"),
              "/about": page("About", "<h1>About</h1><p>Who we are.</p><a href='/'>Home</a>")}
    with SiteServer(routes) as site:
        assert crawl_site(f"{site.url}/", tmp_path / "s.sqlite").state == "complete"
        base = site.url
    crawl = load_crawl(tmp_path / "s.sqlite")
    sitemap = crawl.pages[crawl.pages["fetch_kind"].eq("sitemap")]
    assert sitemap[["url", "found_via", "status"]].values.tolist() == [[f"{base}/sitemap.xml", "guess", 404]]
    findings = run_audit(crawl)
    missing = findings[findings["rule"].eq("no-xml-sitemap")]
    assert missing[["url", "severity"]].values.tolist() == [[f"{base}/sitemap.xml", "notice"]]
    assert "sitemap-file-error" not in set(findings["rule"])
    assert "critical" not in set(findings["severity"])


def test_custom_searches_fire_on_a_crawl_made_with_them(tmp_path):
    routes = {"/": page("Home", "<a href='/old'>old</a><script>gtag('config')</script>"),
              "/old": page("Old", "Welcome to Acme Corp")}
    with SiteServer(routes) as site:
        crawl_site(f"{site.url}/", tmp_path / "s.sqlite", search={"brand": "text:Acme Corp"},
                   search_absent={"analytics": "gtag("})
        base = site.url
    findings = run_audit(load_crawl(tmp_path / "s.sqlite"))
    assert set(findings.loc[findings["rule"].eq("custom-search-match"), "url"]) == {f"{base}/old"}
    assert set(findings.loc[findings["rule"].eq("custom-search-absent"), "url"]) == {f"{base}/old"}


def test_a_declared_sitemap_that_fails_is_a_warning(audited):
    base, _, findings = audited
    failed = findings[findings["rule"].eq("sitemap-file-error")]
    assert failed[["url", "severity"]].values.tolist() == [[f"{base}/sitemap-news.xml", "warning"]]
    assert failed["evidence"].iloc[0] == "named in robots.txt; answered 404"


@pytest.mark.parametrize("rule_id", sorted(PLANTED))
def test_rule_fires_on_its_planted_path(audited, rule_id):
    base, _, findings = audited
    flagged = set(findings.loc[findings["rule"].eq(rule_id), "url"])
    assert {base + path for path in PLANTED[rule_id]} <= flagged


def test_clean_pages_have_no_findings(audited):
    base, crawl, findings = audited
    clean = [base + path for path in CLEAN_PATHS]
    assert set(crawl.pages["url"]) >= set(clean)
    assert findings[findings["url"].isin(clean)].empty


def test_the_demo_shows_every_category(audited):
    _, _, findings = audited
    assert set(findings["category"]) == set(CATEGORIES) - {NOT_IN_THE_DEMO}


def test_evidence_of_a_real_crawl(audited):
    base, _, findings = audited
    evidence = findings.set_index(["rule", "url"])["evidence"]
    assert evidence["crawlable-202", base + "/sale"].startswith("202 Accepted on a page; inlinks: ")
    assert evidence["202-in-sitemap", base + "/reports/annual"] == "listed in a sitemap, answers 202 Accepted"
    assert evidence["202-settled-200", base + "/sale"].startswith("202 first, 200 after")
    assert evidence["redirect-chain", base + "/old-blog"] == (
        f"3 hops: {base}/old-blog -> 301 -> {base}/journal -> 301 -> {base}/journal/ -> 302 -> {base}/blog (200)")
    assert "disallow: /cart/" in evidence["linked-but-blocked", base + "/cart/"]
    assert f"linked from {base}/shop ('Trail tent (old model)')" in \
        evidence["internal-4xx", base + "/shop/discontinued-tent"]


def test_budget_and_stored_findings(audited, tmp_path):
    _, crawl, findings = audited
    budget = crawl_budget(crawl, findings)
    assert budget["fetched"] == budget["indexable"] + budget["wasted"] + budget["other"]
    assert 0 < budget["waste_share"] < 1
    assert all(budget["by_cause"][cause] > 0 for cause in
               ("redirects", "errors", "accepted-202-204", "noindex", "canonicalised", "duplicates", "trap"))
    conn = store.connect(tmp_path / "copy.sqlite")
    crawl_id = store.new_crawl(conn, crawl.start_url, {})
    save_findings(conn, crawl_id, findings)
    assert len(load_crawl(conn, crawl_id).findings) == len(findings)
