"""End to end: serve the demo site, crawl it for real, audit it. Every rule must fire on the
path the demo plants it on (seo_audit.demo_site.PLANTED), and never on its clean pages."""

from __future__ import annotations

import pytest

from audit import RULES, crawl_budget, load_crawl, run_audit, save_findings
from audit.rules.base import CATEGORIES
from crawler import store
from seo_audit.demo_site import CLEAN_PATHS, PLANTED, PLANTED_RENDERED, demo_routes
from seo_audit.sitekit import Reply, SiteServer, page
from tests import test_render
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
                     "status-monitor-guessable-id": "test_status_monitors_numbered_by_a_counter",
                     # custom searches fire only on a crawl asked for them
                     "custom-search-match": "test_custom_searches_fire_on_a_crawl_made_with_them",
                     "custom-search-absent": "test_custom_searches_fire_on_a_crawl_made_with_them"}

#: the demo is one plain-HTTP site: the security rules need HTTPS servers with certificates of
#: their own, and tests/test_https_site.py crawls such servers and asserts each of these rules;
#: the log rules need server logs, and tests/test_logs.py joins logs with a crawl for each
NOT_IN_THE_DEMO = {"security", "logs"}

#: the rendering rules fire on the demo's JavaScript pages in a rendered crawl only (`--render auto`):
#: tests/test_render.py crawls the demo so and asserts PLANTED_RENDERED there. These need pages the
#: demo does not have (one that never loads, a script robots.txt blocks, a lab-timing threshold);
#: the named test in tests/test_render.py crawls its fixture site through Chromium and asserts them.
RENDERED_ELSEWHERE = {"render-timeout": "test_rendering_rules_fire_on_exactly_their_pages",
                      "render-blocked-by-robots": "test_rendering_rules_fire_on_exactly_their_pages",
                      "slow-render": "test_slow_render_reads_the_lab_timings"}


def test_the_demo_plants_every_rule():
    assert set(PLANTED) | set(PLANTED_ELSEWHERE) | set(PLANTED_RENDERED) | set(RENDERED_ELSEWHERE) == {
        rule.id for rule in RULES if rule.category not in NOT_IN_THE_DEMO}
    assert not set(PLANTED) & set(PLANTED_ELSEWHERE)
    assert not set(PLANTED_RENDERED) & set(RENDERED_ELSEWHERE)
    assert all(name in globals() for name in PLANTED_ELSEWHERE.values())
    assert all(hasattr(test_render, name) for name in RENDERED_ELSEWHERE.values())


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


def test_status_monitors_numbered_by_a_counter(tmp_path):
    # two export jobs whose 202s name monitors /jobs/41 and /jobs/42; a third with a random id
    routes = {"/": page("Home", "<h1>Home</h1><a href='/export/a'>A</a> <a href='/export/b'>B</a>"
                                " <a href='/export/c'>C</a>")}
    for name, job in (("a", "41"), ("b", "42"), ("c", "9f3c2a7e-4b1d")):
        routes[f"/export/{name}"] = Reply(202, '{"queued": true}', "application/json",
                                          headers=[("Location", f"/jobs/{job}")])
        routes[f"/jobs/{job}"] = Reply(200, '{"state": "running"}', "application/json")
    with SiteServer(routes) as site:
        assert crawl_site(f"{site.url}/", tmp_path / "s.sqlite", recheck_max_wait=0.5).state == "complete"
        base = site.url
    findings = run_audit(load_crawl(tmp_path / "s.sqlite"))
    guessable = findings[findings["rule"].eq("status-monitor-guessable-id")]
    assert dict(guessable[["url", "evidence"]].values) == {
        f"{base}/jobs/41": "job id 41 among sequential ids 41, 42", f"{base}/jobs/42": "job id 42 among sequential ids 41, 42"}


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
    assert {path if "://" in path else base + path for path in PLANTED[rule_id]} <= flagged  # another host's as is


def test_clean_pages_have_no_findings(audited):
    base, crawl, findings = audited
    clean = [base + path for path in CLEAN_PATHS]
    assert set(crawl.pages["url"]) >= set(clean)
    assert findings[findings["url"].isin(clean)].empty


def test_the_demo_shows_every_category(audited):
    _, _, findings = audited
    # rendering shows in a rendered crawl of the demo (tests/test_render.py)
    assert set(findings["category"]) == set(CATEGORIES) - NOT_IN_THE_DEMO - {"rendering"}


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
