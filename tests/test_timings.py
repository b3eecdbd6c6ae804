"""Timings are the server's: ``ttfb`` by the kernel's clocks, judged by slow-response, and a
comparison that does not call noise a regression."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from audit import AuditConfig, run_audit
from audit.rules import RULES_BY_ID
from crawler.timing import server_wait
from reports.compare_csv import change_rows
from seo_audit.compare import compare_crawls
from seo_audit.sitekit import Reply, page as html_page
from tests.rule_frames import make_crawl, page, skipped, u


def slow(crawl) -> dict[str, str]:
    hits = RULES_BY_ID["slow-response"].run(crawl)
    return dict(zip(hits["url"], hits["evidence"]))


@pytest.mark.parametrize("facts, evidence", [
    (dict(ttfb=1.5, response_time=1.6), "1.5 s to first byte"),
    (dict(ttfb=None, response_time=2.5), "2.5 s to respond"),  # a crawl stored before ttfb
])
def test_slow_response_judges_the_time_to_first_byte_else_the_latency(facts, evidence):
    assert slow(make_crawl(pages=[page("/slow", **facts)])) == {u("/slow"): evidence}


def test_a_busy_crawler_is_not_a_slow_server():
    # the latency counts our own event loop's lag; the server answered in 20 ms
    assert slow(make_crawl(pages=[page("/index", ttfb=0.02, response_time=5.7)])) == {}


def test_server_wait_is_the_kernels_time_from_request_to_answer():
    """A real TCP connection on loopback: the server waits 0.3 s before answering, then this
    thread sleeps 0.5 s before reading (a busy crawler): the figure is the server's 0.3 s."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(100)
            time.sleep(0.3)
            conn.sendall(b"answer")
            conn.recv(100)  # until the client closes

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    with socket.create_connection(listener.getsockname(), timeout=5) as client:
        client.sendall(b"request")
        time.sleep(0.8)  # the answer arrived 0.5 s ago
        assert client.recv(100) == b"answer"
        wait = server_wait(client)
    server.join(5)
    listener.close()
    assert wait is not None and 0.28 <= wait <= 0.45, wait


def audited(crawl):
    crawl.findings = run_audit(crawl)
    return crawl


@pytest.mark.parametrize("before, after, change", [
    (0.5, 0.95, "borderline"),   # past 0.8 s by less than 25%: run-to-run noise
    (0.5, 1.2, "new"),           # clearly past: a regression
    (0.9, 0.95, "persisting"),   # slow in the previous crawl too
])
def test_a_timing_finding_is_new_only_past_its_threshold_by_the_margin(before, after, change):
    old = audited(make_crawl(pages=[page("/page", ttfb=before)]))
    new = audited(make_crawl(pages=[page("/page", ttfb=after)]))
    comparison = compare_crawls(old, new)
    findings = comparison["findings"]
    slow_changes = findings["by_rule"]["slow-response"]
    assert {kind: slow_changes[kind] for kind in ("new", "borderline")} == {
        "new": [u("/page")] if change == "new" else [],
        "borderline": [u("/page")] if change == "borderline" else []}
    assert slow_changes["persisting"] == (change == "persisting")
    assert findings["new"] == (change == "new")
    rows = change_rows(comparison)
    assert rows.loc[rows["rule"].eq("slow-response"), "change"].tolist() == (
        [] if change == "persisting" else [f"finding-{change}"])


def rendered(path: str, lcp: float, load: float = 500.0, cls: float = 0.0) -> dict:
    return page(path, render_outcome="ok", rendered_lcp_ms=lcp, rendered_load_ms=load, rendered_cls=cls)


@pytest.mark.parametrize("before, after, change", [
    (dict(lcp=1000), dict(lcp=2900), "borderline"),    # LCP past 2,500 ms by less than 25%
    (dict(lcp=1000), dict(lcp=3500), "new"),           # clearly past
    (dict(lcp=1000), dict(lcp=2900, cls=0.2), "new"),  # LCP within the margin, CLS clearly past
    (dict(lcp=2700), dict(lcp=2900), "persisting"),
])
def test_slow_render_is_compared_as_a_timing_rule(before, after, change):
    old = audited(make_crawl(pages=[rendered("/page", **before)]))
    new = audited(make_crawl(pages=[rendered("/page", **after)]))
    changes = compare_crawls(old, new)["findings"]["by_rule"]["slow-render"]
    assert (changes["new"], changes["borderline"], changes["persisting"]) == (
        [u("/page")] if change == "new" else [], [u("/page")] if change == "borderline" else [],
        int(change == "persisting"))


def test_the_margin_follows_the_thresholds_in_force():
    old = audited(make_crawl(pages=[page("/page", ttfb=0.1)]))
    config = AuditConfig.from_dict({"rules": {"slow-response": {"max_seconds": 0.2, "new_margin": 1.0}}})
    new = make_crawl(pages=[page("/a", ttfb=0.3), page("/b", ttfb=0.5)])
    new.findings = run_audit(new, config)
    changes = compare_crawls(old, new, config)["findings"]["by_rule"]["slow-response"]
    assert (changes["new"], changes["borderline"]) == ([u("/b")], [u("/a")])


def test_findings_on_urls_a_bounded_crawl_did_not_reach_are_not_compared():
    """Which URLs a crawl with --max-pages reaches depends on the order answers come in."""
    missing = dict(meta_description=None)
    old = audited(make_crawl(pages=[page("/a", **missing), skipped("/b", "max-pages")]))
    new = audited(make_crawl(pages=[skipped("/a", "max-pages"), page("/b", **missing), page("/c", **missing)]))
    findings = compare_crawls(old, new)["findings"]
    changes = findings["by_rule"]["missing-meta-description"]
    # /c: not recorded by a crawl that stopped at its limit
    assert (changes["new"], changes["fixed"], changes["not_compared"]) == ([], [], 3)
    assert findings["new"] == findings["fixed"] == 0
    unbounded = audited(make_crawl(pages=[page("/a", **missing)]))
    assert compare_crawls(unbounded, new)["findings"]["by_rule"]["missing-meta-description"]["new"] == [u("/b"), u("/c")]


def busy_site() -> dict:
    """Index pages with thousands of links (parsing them keeps the crawler's event loop busy
    while other answers wait), leaves with no description, and one page the server is slow on."""
    routes = {"/robots.txt": Reply(body="User-agent: *\n", content_type="text/plain"),
              "/slow": Reply(body=html_page("Slow page", "<h1>Slow</h1>").body, delay=1.5),
              "/": html_page("Home", "<a href='/slow'>slow</a>" + "".join(f"<a href='/i{i}'>index {i}</a>"
                                                                     for i in range(8)))}
    for i in range(8):
        routes[f"/i{i}"] = html_page(f"Index {i}", "".join(f"<a href='/p{(i * 37 + j) % 300}'>leaf {j}</a> "
                                                      for j in range(2500)))
    routes["/p*"] = html_page("Leaf", "<h1>Leaf</h1><p>no description here</p>")
    return routes


@pytest.mark.parametrize("bounds", [[], ["--max-pages", "120"]], ids=["unbounded", "bounded"])
def test_an_unchanged_site_crawled_twice_passes_fail_on_new_and_the_slow_page_fires(serve, tmp_path, bounds):
    site = serve(busy_site())
    store = tmp_path / "store.sqlite"
    runs = [subprocess.run([sys.executable, "-m", "seo_audit", "crawl", f"{site.url}/", "--store", str(store),
                            "--job", "busy", "--no-report", "--no-resources", "--concurrency", "16",
                            "--timeout", "10", "--fail-on", "new", "--json", *bounds],
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:])
    summary = json.loads(runs[1].stdout)
    assert summary["previous_crawl_id"] == 1 and summary["new_findings"] == 0
    with sqlite3.connect(store) as conn:
        slow_findings = conn.execute("SELECT crawl_id, url, evidence FROM findings "
                                     "WHERE rule = 'slow-response' ORDER BY crawl_id").fetchall()
        (measured,), = conn.execute("SELECT count(*) FROM pages WHERE status IS NOT NULL AND ttfb IS NULL")
    assert [(crawl_id, url) for crawl_id, url, _ in slow_findings] == [(1, f"{site.url}/slow"),
                                                                      (2, f"{site.url}/slow")]
    assert all(evidence.endswith("s to first byte") for *_, evidence in slow_findings)
    assert measured == 0, "every answer has its time to first byte"
