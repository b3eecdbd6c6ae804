"""Rendering: a real crawl of the rendering fixture site through the system Chromium, raw and
rendered side by side; and the pure parts (differences, templates, sampling) on their own."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from audit import load_crawl, run_audit
from crawler.extract import extract
from crawler.options import CrawlOptions
from crawler.render import (AutoSampler, RenderUnavailable, chromium_executable, differences, may_script,
                            template_key, url_pattern)
from tests import render_site
from tests.conftest import crawl_site, pages_by_url, read_table

CHROMIUM = chromium_executable()

# --- pure parts ------------------------------------------------------------------------------


def facts(body: str, head: str = "", title: str = "T"):
    return extract(f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>", "http://s.test/p")


def test_differences_name_what_matters_and_only_that():
    raw = facts("<h1>A</h1><p>one two</p><a href='/x'>x</a>")
    assert differences(raw, facts("<h1>A</h1><p>one two</p><a href='/x'>x</a>")) == []
    assert differences(raw, facts("<h1>A</h1><p>one two</p><a href='/x'>x</a><img src='/i.png'>")) == []
    changed = facts("<h1>B</h1><p>" + "w " * 60 + "</p><a href='/y'>y</a>",
                    head="<meta name=robots content=noindex><link rel=canonical href='/c'>", title="U")
    assert differences(raw, changed) == ["links", "title", "meta_robots", "canonical", "h1", "word_count"]
    # a few more words is not a different page
    assert differences(raw, facts("<h1>A</h1><p>one two three four</p><a href='/x'>x</a>")) == []


def test_templates_group_by_url_family_and_raw_shape():
    assert url_pattern("http://s.test/shop/boots") == url_pattern("http://s.test/shop/tents") == "/shop/*"
    assert url_pattern("http://s.test/p/1?b=2&a=1") == "/p/*?a&b"
    assert url_pattern("http://s.test/") == "/"
    app = "<div id=app></div><script src='/static/app.js?v=3'></script>"
    one = template_key("http://s.test/shop/a", app, facts(app))
    assert one == template_key("http://s.test/shop/b", app.replace("v=3", "v=4"), facts(app))
    text = app + "<p>" + "word " * 300 + "</p>"  # a template's pages list more or fewer links
    listing = text + "".join(f"<a href='/{i}'>item</a>" for i in range(20))
    assert template_key("http://s.test/shop/d", text, facts(text)) == template_key(
        "http://s.test/shop/e", listing, facts(listing))
    plain = "<p>text</p>"
    assert one != template_key("http://s.test/shop/c", plain, facts(plain))


def test_only_a_page_that_can_run_script_is_worth_rendering():
    for html in ("<p>x</p><script src='/a.js'></script>", "<SCRIPT>document.title='t'</SCRIPT>",
                 "<img src=x onerror=\"document.title='t'\">", "<body onload='go()'><p>x</p>",
                 "<img src=x/onerror=go()>", "<a href='javascript:go()'>x</a>", "<iframe src='/f'></iframe>",
                 "<frameset><frame src='/f'></frameset>", "<object data='/x.svg'></object>", "<embed src='/x.swf'>",
                 "<?xml-stylesheet href='/s.xsl' type='text/xsl'?><doc/>", "<svg><script>go()</script></svg>"):
        assert may_script(html), html
    for html in ("<h1>Static</h1><p>Nothing to run, online or on paper.</p><a href='/next'>next</a>",
                 "<link rel=stylesheet href='/s.css'><noscript><p>no script here</p></noscript>",
                 "<meta http-equiv=refresh content='0; url=/other'>"):
        assert not may_script(html), html


def test_auto_samples_each_template_then_renders_only_templates_that_differ():
    sampler = AutoSampler(sample=2, resample_every=5, hold=3)
    assert [sampler.reason("js", page) for page in "abcd"] == ["auto-sample", "auto-sample", "held", "held"]
    assert sampler.learn("js", "auto-sample", True) == (True, ["c", "d"])  # held pages now rendered
    assert sampler.reason("js", "e") == "auto-template-differs"
    assert [sampler.reason("plain", f"p{i}") for i in range(6)] == [
        "auto-sample", "auto-sample", "held", "held", "held", None]  # past the hold: recorded raw
    assert sampler.learn("plain", "auto-sample", False) == (False, [])  # one sample still out
    assert sampler.learn("plain", "auto-sample", False) == (False, ["p2", "p3", "p4"])
    assert [sampler.reason("plain", "q") for _ in range(10)] == [None] * 4 + ["auto-resample"] + [None] * 4 + [
        "auto-resample"]
    # re-sampled as its count doubles: a few renders over the whole crawl
    assert [i for i in range(11, 41) if sampler.reason("plain", "q") == "auto-resample"] == [20, 40]
    assert sampler.learn("plain", "auto-resample", True) == (True, [])
    assert sampler.reason("plain", "r") == "auto-template-differs"


def test_a_failed_sample_is_taken_again():
    sampler = AutoSampler(sample=1)
    assert sampler.reason("t", "a") == "auto-sample"
    assert sampler.reason("t", "b") == "held"
    assert sampler.learn("t", "auto-sample", None) == (False, ["b"])
    assert sampler.reason("t", "c") == "auto-sample"


def test_render_without_chromium_is_a_usage_error_naming_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("SEO_AUDIT_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(RenderUnavailable, match=r"package `chromium`"):
        CrawlOptions(start_url="http://127.0.0.1:9/", render="auto").validate()
    CrawlOptions(start_url="http://127.0.0.1:9/", render="off").validate()  # off needs no browser
    env = {**os.environ, "SEO_AUDIT_CHROMIUM": str(tmp_path / "no-chromium")}
    proc = subprocess.run([sys.executable, "-m", "seo_audit", "crawl", "http://127.0.0.1:9/", "--render", "all",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "apt-get install chromium" in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


def test_render_options_are_checked():
    for bad in (dict(render="sometimes"), dict(render_concurrency=0), dict(render_timeout=0),
                dict(render_pages_per_context=0)):
        with pytest.raises(ValueError):
            CrawlOptions(start_url="http://127.0.0.1:9/", **bad).validate()


# --- a real rendered crawl -----------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered_crawl(tmp_path_factory):
    """(base URL, pages by URL, links, findings, crawl, site hits) of one --render all crawl."""
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    from seo_audit.sitekit import SiteServer

    path = tmp_path_factory.mktemp("render") / "render.sqlite"
    with SiteServer(render_site.routes()) as site:
        result = crawl_site(f"{site.url}/", path, render="all", render_timeout=4, render_concurrency=2,
                            render_pages_per_context=5, timeout=3, retries=0)
        hits = dict(site.hits)
    assert result.state == "complete"
    crawl = load_crawl(path)
    return site.url, pages_by_url(path, result.crawl_id), read_table(path, "links", result.crawl_id), \
        run_audit(crawl), crawl, hits


def flagged(findings, rule_id: str) -> set[str]:
    return set(findings.loc[findings["rule"].eq(rule_id), "url"])


@pytest.mark.browser
def test_raw_facts_stay_as_without_rendering(rendered_crawl, tmp_path):
    base, pages, *_ = rendered_crawl
    from seo_audit.sitekit import SiteServer

    with SiteServer(render_site.routes()) as site:
        result = crawl_site(f"{site.url}/", tmp_path / "raw.sqlite", timeout=3, retries=0)
        raw = pages_by_url(tmp_path / "raw.sqlite", result.crawl_id)
    raw_columns = ("status", "title", "meta_robots", "canonical", "h1_count", "word_count", "outlinks",
                   "content_type", "size", "attempt_statuses")
    for path in render_site.PAGES:
        if path == "/never-loads":
            continue
        mine, theirs = pages[base + path], raw[site.url + path]
        assert ({c: str(mine[c]).replace(base, "") for c in raw_columns}
                == {c: str(theirs[c]).replace(site.url, "") for c in raw_columns}), path
        assert theirs["render_outcome"] is None and mine["render_outcome"] == "ok", path
    # pages found only in the rendered DOM are crawled like any link: not at all without rendering
    assert not any(site.url + p in raw for p in render_site.ONLY_RENDERED)


@pytest.mark.browser
def test_rendered_facts_are_recorded_beside_the_raw_ones(rendered_crawl):
    base, pages, *_ = rendered_crawl
    title = pages[base + "/js-title"]
    assert (title["title"], title["rendered_title"]) == ("Loading", "Real product title")
    assert title["rendered_meta_description"] == "Set by script"
    assert title["rendered_h1"] == "Real heading"
    assert pages[base + "/js-removes-noindex"]["meta_robots"] == "noindex"
    assert pages[base + "/js-removes-noindex"]["rendered_meta_robots"] is None
    assert pages[base + "/js-adds-noindex"]["rendered_meta_robots"] == "noindex"
    assert pages[base + "/js-canonical"]["canonical"] == base + "/js-canonical"
    assert pages[base + "/js-canonical"]["rendered_canonical"] == base + "/control"
    shell = pages[base + "/app-shell"]
    assert shell["word_count"] <= 2 and shell["rendered_word_count"] >= 300
    assert json.loads(shell["rendered_xhr"]) == [[base + "/api/products", 200]]
    assert json.loads(pages[base + "/app-shell-202"]["rendered_xhr"]) == [[base + "/api/pending", 202]]
    assert pages[base + "/js-redirect"]["rendered_final_url"] == base + "/about"
    assert pages[base + "/js-redirect"]["status"] == 200  # the raw response, as it was
    assert json.loads(pages[base + "/js-error"]["rendered_js_errors"]) == ["render-fixture-boom"]
    hang = pages[base + "/never-loads"]
    assert hang["render_outcome"] == "timeout" and hang["status"] == 200 and hang["title"] == "Never loads"
    blocked = pages[base + "/blocked-script"]
    assert json.loads(blocked["rendered_blocked_resources"]) == [[base + "/blocked/app.js", "script",
                                                                  "disallow: /blocked/"]]
    assert blocked["rendered_title"] == "Raw title"  # rendered as Googlebot would: without the script
    assert set(json.loads(blocked["rendered_blocked_changes"])) >= {"title", "links"}
    for path in render_site.CONTROLS:
        page = pages[base + path]
        assert json.loads(page["rendered_differences"]) == [], path
        assert (page["rendered_title"], page["rendered_word_count"]) == (page["title"], page["word_count"])
    home = pages[base + "/"]  # lab timings, from Chromium's performance APIs
    assert 0 < home["rendered_ttfb_ms"] <= home["rendered_dcl_ms"] <= home["rendered_load_ms"]
    assert home["rendered_requests"] >= 1 and home["rendered_bytes"] > 0 and home["rendered_cls"] == 0


@pytest.mark.browser
def test_links_say_raw_rendered_or_both_and_rendered_only_urls_are_crawled(rendered_crawl):
    base, pages, links, *_ = rendered_crawl
    nav = links[links["source"].eq(base + "/js-nav") & links["kind"].eq("a")]
    assert dict(zip(nav["target"], nav["seen_in"])) == {
        base + p: "rendered" for p in (*render_site.ONLY_RENDERED, render_site.ONLY_RENDERED_BLOCKED)}
    home = links[links["source"].eq(base + "/") & links["kind"].eq("a")]
    assert set(home["seen_in"]) == {"both"}
    for path in render_site.ONLY_RENDERED:
        assert pages[base + path]["status"] == 200 and pages[base + path]["referrer"] == base + "/js-nav"
    # a JS redirect is a link of its own; the DOM it lands on is another page's
    moved = links[links["source"].eq(base + "/js-redirect")]
    assert set(zip(moved["target"], moved["kind"], moved["seen_in"])) == {(base + "/about", "js-redirect", "rendered")}
    blocked = pages[base + render_site.ONLY_RENDERED_BLOCKED]
    assert (blocked["skip_reason"], blocked["status"]) == ("robots", None)


@pytest.mark.browser
def test_popups_dialogs_service_workers_and_downloads_cannot_stall_a_render(rendered_crawl):
    base, pages, *_, hits = rendered_crawl
    for path in render_site.STALLERS:
        page = pages[base + path]
        assert page["render_outcome"] == "ok" and page["render_time"] < 4, path
    assert hits.get("/sw.js", 0) == 0  # service workers are blocked: never even fetched


@pytest.mark.browser
def test_browser_contexts_are_recycled(rendered_crawl):
    base, *_ = rendered_crawl
    stats = load_crawl_stats(rendered_crawl)
    # 5 pages per context (the fixture's setting): a fresh one for each five, the old ones closed
    assert stats["playwright/context_count"] >= stats["render/pages"] // 5
    assert stats["playwright/page_count/max_concurrent"] <= 2


def load_crawl_stats(rendered_crawl) -> dict:
    *_, crawl, _ = rendered_crawl
    return crawl.meta["stats"]


@pytest.mark.browser
def test_rendering_never_widens_scope(rendered_crawl):
    base, pages, *_ , hits = rendered_crawl
    assert all(url.startswith(base) for url in pages)
    assert hits.get(render_site.ONLY_RENDERED_BLOCKED, 0) == 0
    # fetched twice (raw, then its render); the blocked script only by the diagnostic render
    assert hits["/js-nav"] == 2
    assert hits["/blocked/app.js"] == 1


RENDER_FINDINGS = {
    "noindex-only-in-raw-html": ["/js-removes-noindex"],
    "noindex-added-by-js": ["/js-adds-noindex"],
    "canonical-changed-by-js": ["/js-canonical", "/js-canonical-added"],
    "title-changed-by-js": ["/js-title", "/js-soft-404"],
    "meta-description-changed-by-js": ["/js-title"],
    "h1-changed-by-js": ["/js-title", "/app-shell", "/js-soft-404"],
    "links-only-in-rendered-dom": ["/js-nav"],
    "content-only-after-rendering": ["/app-shell"],
    "rendered-placeholder-after-202": ["/app-shell-202"],
    "js-redirect": ["/js-redirect"],
    "soft-404-rendered-by-js": ["/js-soft-404"],
    "render-error": ["/js-error"],
    "render-timeout": ["/never-loads"],
    "render-blocked-by-robots": ["/blocked-script"],
}


@pytest.mark.browser
@pytest.mark.parametrize("rule_id", sorted(RENDER_FINDINGS))
def test_rendering_rules_fire_on_exactly_their_pages(rendered_crawl, rule_id):
    base, *_, findings, _, _ = rendered_crawl
    assert flagged(findings, rule_id) == {base + p for p in RENDER_FINDINGS[rule_id]}


@pytest.mark.browser
def test_slow_render_reads_the_lab_timings(rendered_crawl):
    *_, crawl, _ = rendered_crawl
    from audit.rules import RULES_BY_ID

    slow = RULES_BY_ID["slow-render"]
    assert slow.run(crawl, {"max_lcp_ms": 1e9, "max_load_ms": 1e9, "max_cls": 1e9}).empty
    hits = slow.run(crawl, {"max_lcp_ms": 1e9, "max_load_ms": 0.001, "max_cls": 1e9})
    assert len(hits) >= len(render_site.CONTROLS) and hits["evidence"].str.startswith("lab: load").all()



@pytest.mark.browser
def test_report_has_the_rendering_section_side_by_side_and_links_csv_says_where(rendered_crawl, tmp_path):
    base, _, _, findings, crawl, _ = rendered_crawl
    import pandas as pd

    from audit import RULES, crawl_budget
    from reports import write_outputs

    files = write_outputs(tmp_path, crawl, findings, RULES, crawl_budget(crawl, findings))
    html = files["report.html"].read_text()
    section = html[html.index('<section id="rendering"'):]
    section = section[:section.index("</section>")]
    assert f"{len(render_site.PAGES) + len(render_site.ONLY_RENDERED) + 1} of" in section  # every HTML page
    assert "Lab figures" in section and "not field data" in section
    assert f"{base}/app-shell-202" in section and f"fetch/XHR {base}/api/pending answered 202" in section
    assert "<td>Loading</td><td>Real product title</td>" in section  # raw | rendered
    summary = json.loads(files["summary.json"].read_text())
    assert summary["rendering"]["by_reason"] == {"all": summary["rendering"]["rendered"]}
    assert summary["rendering"]["differences"]["links"] >= 2
    links = pd.read_csv(files["links.csv"])
    assert set(links["seen_in"]) == {"raw", "rendered", "both"}
    assert links.loc[links["target"].eq(base + "/only-js/a"), "seen_in"].tolist() == ["rendered"]


@pytest.mark.browser
def test_a_render_sends_the_crawl_headers_with_the_page_request_only(tmp_path):
    """The page's own request carries the crawl's headers (staging credentials, say), as its raw
    fetch did; what the page loads goes out with the crawl's user agent and no such header."""
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    from seo_audit.sitekit import Reply, SiteServer, page

    seen: dict[str, list[dict]] = {}

    def recorded(reply):
        def route(hit):
            seen.setdefault(hit.path, []).append({k.lower(): v for k, v in hit.headers.items()})
            return reply
        return route

    routes = {"/": recorded(page("Home", "<h1>Home</h1><script src='/app.js'></script>")),
              "/app.js": recorded(Reply(body="document.title = 'Rendered';", content_type="text/javascript"))}
    with SiteServer(routes) as site:
        result = crawl_site(f"{site.url}/", tmp_path / "h.sqlite", render="all", render_timeout=4,
                            headers={"X-Staging": "let-me-in"}, timeout=3, retries=0)
    home = pages_by_url(tmp_path / "h.sqlite", result.crawl_id)[f"{site.url}/"]
    assert home["render_outcome"] == "ok" and home["rendered_title"] == "Rendered"
    raw, rendered = seen["/"]
    assert raw["x-staging"] == rendered["x-staging"] == "let-me-in"
    script = seen["/app.js"][-1]  # the browser's (the raw crawl fetches it as a resource first)
    assert rendered["user-agent"] == raw["user-agent"] == script["user-agent"]
    assert "x-staging" not in script



def _assert_a_late_fetch_is_waited_for(tmp_path, fetch_at_load: str, extra_routes=None,
                                       extra_html: str = "", count: int = 4) -> None:
    """Crawl ``count`` pages whose load event runs ``fetch_at_load`` (JS with ``FETCH``: a fetch
    of a JSON that names a link, added to the page), rendered: each page's rendered facts hold the
    fetch and its link, and the link is crawled."""
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    from seo_audit.sitekit import Reply, SiteServer, page

    routes = {"/": page("Home", "".join(f"<a href='/p{i}'>p{i}</a>" for i in range(count))), **(extra_routes or {})}
    for i in range(count):
        fetch = ("fetch('/api/%d.json').then(r => r.json()).then(href => {"
                 " document.getElementById('list').innerHTML = `<li><a href='${href}'>more</a></li>`; })" % i)
        routes[f"/p{i}"] = page(f"P{i}", "<ul id='list'></ul>" + extra_html + (
            "<script>addEventListener('load', () => %s);</script>" % fetch_at_load.replace("FETCH", fetch)))
        routes[f"/api/{i}.json"] = Reply(body=json.dumps(f"/from-js/{i}"), content_type="application/json")
        routes[f"/from-js/{i}"] = page("From JS", "<p>Linked by a script.</p>")
    with SiteServer(routes) as site:
        result = crawl_site(f"{site.url}/", tmp_path / "late.sqlite", render="all", render_timeout=6,
                            timeout=3, retries=0)
    pages = pages_by_url(tmp_path / "late.sqlite", result.crawl_id)
    for i in range(count):
        rendered = pages[f"{site.url}/p{i}"]
        assert json.loads(rendered["rendered_xhr"]) == [[f"{site.url}/api/{i}.json", 200]], i
        assert rendered["rendered_outlinks"] == rendered["outlinks"] + 1, i
        assert pages[f"{site.url}/from-js/{i}"]["status"] == 200, i


@pytest.mark.browser
def test_a_render_waits_for_the_fetches_a_page_starts_at_its_load_event(tmp_path):
    """A fetch started by the load event (after a slow image, so the load comes late) is waited
    for: with routes, Playwright tells of its request only once Chromium's network layer paused
    it, often after the load (the demo's /stores/finder once lost its links so under load); the
    page's own count of what it started says it is still to come."""
    from seo_audit.sitekit import Reply

    _assert_a_late_fetch_is_waited_for(
        tmp_path, "FETCH", count=6, extra_html="<img src='/slow.png' alt=''>",
        extra_routes={"/slow.png": Reply(body=b"", content_type="image/png", delay=0.3)})


@pytest.mark.browser
def test_a_render_waits_for_a_fetch_a_timer_starts_just_after_the_load_event(tmp_path):
    """A fetch that a timer set by the load event starts 50 ms later (at the load, nothing is
    in flight and the page has started no fetch yet) is waited for: the page is read only once
    it started none for a while after its load event, in its own clock."""
    _assert_a_late_fetch_is_waited_for(tmp_path, "setTimeout(() => FETCH, 50)")


@pytest.mark.browser
def test_a_render_waits_for_xhrs_and_records_their_statuses(tmp_path):
    """The page follows its XHRs itself: a synchronous one (it ends within send) and a slow
    one whose answer (202) adds a link, waited for; each with its URL and status."""
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    from seo_audit.sitekit import Reply, SiteServer, page

    script = ("const s = new XMLHttpRequest(); s.open('GET', '/api/now', false); s.send();"
              "const x = new XMLHttpRequest(); x.open('GET', '/api/later');"
              "x.onload = () => { document.body.insertAdjacentHTML('beforeend', \"<a href='/from-xhr'>more</a>\"); };"
              "x.send();")
    routes = {"/": page("Home", f"<p>XHRs.</p><script>{script}</script>"),
              "/api/now": Reply(body="{}", content_type="application/json"),
              "/api/later": Reply(status=202, body="{}", content_type="application/json", delay=0.3),
              "/from-xhr": page("From XHR", "<p>Linked after an XHR.</p>")}
    with SiteServer(routes) as site:
        result = crawl_site(f"{site.url}/", tmp_path / "xhr.sqlite", render="all", render_timeout=6,
                            timeout=3, retries=0)
    pages = pages_by_url(tmp_path / "xhr.sqlite", result.crawl_id)
    home = pages[f"{site.url}/"]
    assert json.loads(home["rendered_xhr"]) == [[f"{site.url}/api/now", 200], [f"{site.url}/api/later", 202]]
    assert home["rendered_outlinks"] == home["outlinks"] + 1
    assert pages[f"{site.url}/from-xhr"]["status"] == 200


def test_demo_with_render_auto_shows_its_javascript_pages(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    import pandas as pd

    from seo_audit.demo_site import CLEAN_PATHS, PLANTED_RENDERED

    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "seo_audit", "demo", "--render", "auto", "--out", str(out), "-q"],
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    rendering = summary["rendering"]
    assert rendering["rendered"] == sum(rendering["by_reason"].values()) > 0
    assert set(rendering["by_reason"]) <= {"auto-sample", "auto-template-differs", "auto-resample"}
    # the demo's static pages hold no script: auto leaves them raw and says so, in the report too
    left_raw = rendering["not_rendered_by_reason"]["no-script"]
    assert left_raw > 0 and rendering["rendered"] + left_raw <= summary["pages"]["total"]
    findings = pd.read_csv(out / "findings.csv")
    paths = findings.assign(path=findings["url"].str.replace(r"^http://127\.0\.0\.1:\d+", "", regex=True))
    for rule_id, planted in PLANTED_RENDERED.items():
        assert set(planted) <= set(paths.loc[paths["rule"].eq(rule_id), "path"]), rule_id
    rendering_rules = set(paths.loc[paths["category"].eq("rendering"), "path"])
    assert not rendering_rules & set(CLEAN_PATHS)
    report = (out / "report.html").read_text()
    assert 'id="rendering"' in report and f"not rendered: {left_raw} no-script" in report
    assert f"{rendering['rendered']} pages rendered (" in proc.stdout  # the summary line says why


def chain_site(pages: int = 30) -> dict:
    """Pages linking onwards in their raw HTML, each with a link only its script adds."""
    from seo_audit.sitekit import Reply, page as html_page

    routes = {"/": html_page("Home", "<a href='/p0'>start</a>")}
    for i in range(pages):
        routes[f"/p{i}"] = Reply(200, html_page(f"P{i}", f"<a href='/p{(i + 1) % pages}'>next</a><div id='js'></div>"
                                                "<script>const a = document.createElement('a');"
                                                f" a.href = '/js{i}'; a.textContent = 'js';"
                                                " document.getElementById('js').appendChild(a);</script>").body,
                                 delay=0.05)
        routes[f"/js{i}"] = html_page(f"JS{i}", "<p>Only linked by script.</p>")
    return routes


def test_sigkill_mid_render_then_resume_keeps_raw_and_rendered_together(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    import signal
    import time

    from seo_audit.sitekit import SiteServer

    store = tmp_path / "seo-audit.sqlite"
    with SiteServer(chain_site()) as site:
        command = [sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--out", str(tmp_path), "--no-report",
                   "--render", "all", "--render-concurrency", "2", "--concurrency", "4", "-q"]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with sqlite3.connect(store, timeout=1) as conn:
                    if conn.execute("SELECT count(*) FROM pages WHERE render_outcome IS NOT NULL").fetchone()[0] >= 12:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.1)
        assert proc.poll() is None, "the crawl ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the crawl and its browser
        proc.wait()
        with sqlite3.connect(store) as conn:
            unrendered = conn.execute("SELECT url FROM pages WHERE status = 200 AND content_type LIKE 'text/html%' "
                                      "AND render_outcome IS NULL").fetchall()
        assert unrendered == []  # no raw record was committed without its render
        subprocess.run([*command[:-1], "--resume", "-q"], check=True, timeout=300, capture_output=True)
    with sqlite3.connect(store) as conn:
        (crawl_id, state), = conn.execute("SELECT id, state FROM crawls").fetchall()
        rows = dict(conn.execute("SELECT url, render_outcome FROM pages WHERE crawl_id = ? AND status = 200",
                                 (crawl_id,)))
        (doubled,) = conn.execute("SELECT count(*) - count(DISTINCT source || target || kind) FROM links").fetchone()
    assert state == "complete"
    expected = {f"{site.url}/"} | {f"{site.url}/p{i}" for i in range(30)} | {f"{site.url}/js{i}" for i in range(30)}
    assert set(rows) == expected and set(rows.values()) == {"ok"}
    assert doubled == 0


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of every descendant of ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            names[int(entry)] = stat[stat.index("(") + 1:stat.rindex(")")]
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, stack = [], list(children.get(pid, ()))
    while stack:
        here = stack.pop()
        found.append((here, names.get(here, "")))
        stack.extend(children.get(here, ()))
    return found


def test_a_crashed_browser_is_restarted_and_no_page_is_lost(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    import signal
    import time

    from seo_audit.sitekit import Reply, SiteServer, page as html_page

    routes = {"/": html_page("Home", "".join(f"<a href='/slow{i}'>{i}</a>" for i in range(8)))}
    for i in range(8):  # each render waits on a slow image: the browser is busy when it is killed
        routes[f"/slow{i}"] = html_page(f"Slow {i}", f"<img src='/img{i}.png'>")
        routes[f"/img{i}.png"] = Reply(200, b"PNG", "image/png", delay=1.5)
    store = tmp_path / "seo-audit.sqlite"
    with SiteServer(routes) as site:
        proc = subprocess.Popen([sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--out", str(tmp_path),
                                 "--no-report", "--no-resources", "--render", "all", "--render-concurrency", "1", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not site.hits.get("/img2.png"):
            time.sleep(0.05)
        browsers = [pid for pid, name in descendants(proc.pid) if "chrom" in name.lower()]
        assert browsers, "no browser process found under the crawl"
        for pid in browsers:  # the browser this test's crawl started, and only it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert proc.wait(timeout=240) == 0
    with sqlite3.connect(store) as conn:
        outcomes = dict(conn.execute("SELECT url, render_outcome FROM pages WHERE url LIKE '%/slow%'"))
        stats = json.loads(conn.execute("SELECT stats FROM crawls").fetchone()[0])
    assert len(outcomes) == 8 and None not in outcomes.values()  # every page recorded, rendered or not
    assert set(outcomes.values()) <= {"ok", "crashed", "error"}
    assert stats["playwright/browser_count"] >= 2  # restarted
    assert list(outcomes.values()).count("ok") >= 5


def test_a_job_file_sets_rendering_and_slow_render_thresholds(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    from seo_audit.config import build_job, read_job_file

    path = tmp_path / "site.toml"
    path.write_text('start_url = "https://www.example.com/"\n[crawl]\nrender = "auto"\nrender_concurrency = 3\n'
                    'render_timeout = 9.5\n[rules.slow-render]\nmax_lcp_ms = 1800\n')
    job = build_job(read_job_file(path))
    assert (job.options.render, job.options.render_concurrency, job.options.render_timeout) == ("auto", 3, 9.5)
    assert job.audit.thresholds["slow-render"]["max_lcp_ms"] == 1800


def test_compare_of_two_rendered_crawls_tells_rendering_findings_that_came_and_went(tmp_path):
    """A script fixed on one page and added to another between two nightly rendered crawls."""
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium)")
    import pandas as pd

    from seo_audit.sitekit import SiteServer, page as html_page

    sets_title = "<script>document.title = 'Set by script';</script>"
    adds_noindex = ("<script>const m = document.createElement('meta'); m.name = 'robots';"
                    " m.content = 'noindex'; document.head.appendChild(m);</script>")
    routes = {"/": html_page("Home", "<h1>Home</h1><a href='/product'>product</a> <a href='/about'>about</a>"),
              "/product": html_page("Product", "<h1>Product</h1><p>A tent.</p>" + sets_title),
              "/about": html_page("About", "<h1>About</h1><p>Us.</p>")}
    store = tmp_path / "seo-audit.sqlite"
    with SiteServer(routes) as site:
        crawl = [sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--store", str(store), "--no-report",
                 "--render", "all", "--no-resources", "-q"]
        subprocess.run(crawl, check=True, timeout=180, capture_output=True)
        routes["/product"] = html_page("Product", "<h1>Product</h1><p>A tent.</p>")  # the script fixed
        routes["/about"] = html_page("About", "<h1>About</h1><p>Us.</p>" + adds_noindex)  # a script added
        subprocess.run(crawl, check=True, timeout=180, capture_output=True)
    command = [sys.executable, "-m", "seo_audit", "compare", "--store", str(store), "1", "2"]
    comparison = json.loads(subprocess.run([*command, "--json"], check=True, capture_output=True, text=True,
                                           timeout=120).stdout)
    by_rule = comparison["findings"]["by_rule"]
    assert by_rule["title-changed-by-js"]["fixed"] == [f"{site.url}/product"]
    assert by_rule["noindex-added-by-js"]["new"] == [f"{site.url}/about"]
    assert by_rule["noindex-added-by-js"]["severity"] == "warning"
    assert (comparison["findings"]["new"], comparison["findings"]["fixed"]) == (1, 1)
    assert comparison["status_changes"] == [] and comparison["appeared"] == comparison["disappeared"] == []
    printed = subprocess.run([*command, "--out", str(tmp_path / "cmp")], check=True, capture_output=True, text=True,
                             timeout=120).stdout
    assert printed.startswith(f"crawl 1 -> crawl 2 of {site.url}/: 1 new findings, 1 fixed, ")
    assert "(noindex-added-by-js +1, title-changed-by-js -1)" in printed
    rows = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    rendering = rows[rows["rule"].isin(["title-changed-by-js", "noindex-added-by-js"])]
    assert set(zip(rendering["rule"], rendering["url"], rendering["change"])) == {
        ("title-changed-by-js", f"{site.url}/product", "finding-fixed"),
        ("noindex-added-by-js", f"{site.url}/about", "finding-new")}
