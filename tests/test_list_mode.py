"""List mode (`crawl --list`, `--list-sitemap`, `--list-depth`): exactly the listed URLs fetched,
their redirects followed across hosts, the list's junk counted, link-graph rules off and said so.

Three fixture hosts on their own loopback addresses: the old site (listed), the new site
(listed too) and a host only a redirect leads to.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.url_list import SKIP_REASONS, parse_url_list, read_url_list
from seo_audit.sitekit import Reply, SiteServer, page, redirect

FAST = ["--concurrency", "8", "--concurrency-per-host", "2", "--timeout", "3",
        "--recheck-max-wait", "0.2", "--recheck-attempts", "1"]


def run_cli(*args: str, stdin: str | None = None, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seo_audit", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=timeout)


# --- parsing the list: a pure function ---------------------------------------------------------

def test_every_line_is_counted_by_reason():
    lines = ["http://Example.com/a", "", "   ", "# exported 2026-12-01", "hello world", "ftp://example.com/f",
             "mailto:someone@example.com", "http://example.com/a#section", "HTTP://EXAMPLE.COM:80/a",
             "x" * 10_000, "https://example.com/b?q=1", "http://", "example.com/no-scheme",
             "javascript:alert(1)", "https://other.example/é"]
    parsed = parse_url_list(lines)
    assert parsed.urls == ["http://example.com/a", "https://example.com/b?q=1", "https://other.example/%C3%A9"]
    assert parsed.counts() == {"lines": 15, "urls": 3, "blank": 2, "comment": 1, "duplicate": 2,
                               "not-http": 3, "not-a-url": 3, "too-long": 1, "bad-row": 0}
    assert set(parsed.skipped) <= set(SKIP_REASONS)
    assert parsed.examples["duplicate"] == [(8, "http://example.com/a#section"), (9, "HTTP://EXAMPLE.COM:80/a")]
    assert parsed.examples["too-long"] == [(10, "x" * 80)]
    assert "3 URLs from 15 lines" in parsed.describe() and "2 duplicate" in parsed.describe()


def test_csv_url_column_and_bad_rows():
    lines = ["\ufeffAddress title,URL,Status", "Home,http://a.example/,200", "short row",
             '"unterminated,http://a.example/x', "Blank,,404", "Moved,https://b.example/p,301",
             "Again,http://a.example/,200"]
    parsed = parse_url_list(lines)
    assert parsed.csv and parsed.urls == ["http://a.example/", "https://b.example/p"]
    assert parsed.counts() == {"lines": 7, "urls": 2, "blank": 1, "comment": 0, "duplicate": 1,
                               "not-http": 0, "not-a-url": 0, "too-long": 0, "bad-row": 2}
    # a .csv without a url column: every row is a bad row, none is taken for a URL
    assert parse_url_list(["a,b", "http://a.example/,1"], as_csv=True).counts()["bad-row"] == 2
    # a text file is never read as a CSV: a line of URLs with commas is a URL
    assert parse_url_list(["http://a.example/?x=1,2"]).urls == ["http://a.example/?x=1,2"]


def test_read_url_list_never_crashes_on_bytes(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"http://a.example/\r\n\xff\xfe junk\r\nhttp://a.example/\xe9\r\n\x00\r\n")
    parsed = read_url_list(path)
    assert parsed.urls == ["http://a.example/", "http://a.example/%EF%BF%BD"]
    assert parsed.skipped == {"not-a-url": 2}


# --- the fixture sites -------------------------------------------------------------------------

def old_site(new: str, far: str) -> dict:
    return {
        "/robots.txt": Reply(body="User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
        "/": page("Old home", "<h1>Old home</h1><a href='/linked'>linked</a> <img src='/logo.png'>",
                  head="<link rel='canonical' href='/'>"),
        "/linked": page("Linked", "<h1>Linked</h1><a href='/linked-deeper'>deeper</a>"),
        "/linked-deeper": page("Deeper", "<h1>Deeper</h1>"),
        "/logo.png": Reply(body=b"\x89PNG", content_type="image/png"),
        "/moved": redirect(f"{new}/new-home", 301),
        "/chain": redirect("/chain-2", 302),
        "/chain-2": redirect(f"{far}/end", 301),
        "/gone": page("Gone", "<h1>Not here</h1>", status=404),
        "/accepted": Reply(status=202, body="queued", content_type="text/plain",
                           headers=[("Retry-After", "0")]),
        "/private/report": page("Private", "<h1>Private</h1>"),
        "/orphan": page("Orphan", "<h1>Orphan</h1>"),
    }


def new_site() -> dict:
    return {
        "/robots.txt": Reply(body="User-agent: *\nAllow: /\n", content_type="text/plain"),
        "/new-home": page("New home", "<h1>New home</h1><a href='/new-linked'>more</a>"),
        "/new-linked": page("New linked", "<h1>New linked</h1>"),
        "/listed": page("Listed", "<h1>Listed</h1>"),
    }


def far_site() -> dict:
    return {"/robots.txt": Reply(status=404, body="", content_type="text/plain"),
            "/end": page("End", "<h1>End of the chain</h1>")}


@pytest.fixture(scope="module")
def hosts():
    with SiteServer(far_site(), host="127.0.0.4") as far, SiteServer(new_site(), host="127.0.0.3") as new:
        with SiteServer(old_site(new.url, far.url), host="127.0.0.2") as old:
            yield old, new, far


def list_text(old: str, new: str) -> str:
    return "\n".join([
        "# URLs of the old site, exported from analytics", "",
        f"{old}/", f"{old}/moved", f"{old}/chain", f"{old}/gone", f"{old}/accepted",
        f"{old}/private/report", f"{new}/listed",
        f"{old}/#top",                              # a duplicate once normalised
        f"{old.upper().replace('HTTP://', 'http://')}/moved",   # host case: a duplicate too
        "not a url at all", "ftp://files.example/archive.zip", "x" * 10_240, "   ",
    ]) + "\n"


def pages_of(store: Path) -> dict[str, dict]:
    conn = sqlite3.connect(store)
    conn.row_factory = sqlite3.Row
    try:
        return {r["url"]: dict(r) for r in conn.execute("SELECT * FROM pages")}
    finally:
        conn.close()


def findings_of(store: Path) -> dict[str, set[str]]:
    conn = sqlite3.connect(store)
    try:
        found: dict[str, set[str]] = {}
        for rule, url in conn.execute("SELECT rule, url FROM findings"):
            found.setdefault(rule, set()).add(url)
        return found
    finally:
        conn.close()


LINK_GRAPH_RULES = {"deep-page", "orphan-page", "noindex-linked", "canonicalised-linked",
                    "linked-but-blocked", "internal-link-to-redirect"}
SITE_SITEMAP_RULES = {"missing-from-sitemap", "no-xml-sitemap"}


@pytest.fixture(scope="module")
def listed_crawl(hosts, tmp_path_factory):
    old, new, far = hosts
    out = tmp_path_factory.mktemp("list")
    (out / "urls.txt").write_text(list_text(old.url, new.url))
    hits_before = {s.url: dict(s.hits) for s in hosts}
    proc = run_cli("crawl", "--list", out / "urls.txt", "--out", out / "report", "--json", *FAST)
    hits = {s.url: {path: n - hits_before[s.url].get(path, 0) for path, n in s.hits.items()
                    if n - hits_before[s.url].get(path, 0)} for s in hosts}
    return out, proc, hits


def test_exactly_the_listed_urls_and_their_hops_are_fetched(hosts, listed_crawl):
    old, new, far = hosts
    out, proc, hits = listed_crawl
    assert proc.returncode == 0, proc.stderr
    pages = pages_of(out / "report" / "seo-audit.sqlite")
    fetched = {url: (p["found_via"], p["status"], p["skip_reason"]) for url, p in pages.items()
               if p["fetch_kind"] == "page"}
    assert fetched == {
        f"{old.url}/": ("list", 200, None),
        f"{old.url}/moved": ("list", 301, None),
        f"{old.url}/chain": ("list", 302, None),
        f"{old.url}/gone": ("list", 404, None),
        f"{old.url}/accepted": ("list", 202, None),
        f"{old.url}/private/report": ("list", None, "robots"),
        f"{new.url}/listed": ("list", 200, None),
        # the hops, to the end, across hosts; nothing linked is fetched
        f"{new.url}/new-home": ("redirect", 200, None),
        f"{old.url}/chain-2": ("redirect", 301, None),
        f"{far.url}/end": ("redirect", 200, None),
    }
    assert pages[f"{far.url}/end"]["referrer"] == f"{old.url}/chain-2"
    assert pages[f"{old.url}/private/report"]["robots_rule"] == "disallow: /private/"
    # robots.txt of every host, the redirect-only one included; the 202 re-checked once
    assert {url for url, p in pages.items() if p["fetch_kind"] == "robots"} == {
        f"{s.url}/robots.txt" for s in hosts}
    assert hits[old.url] == {"/robots.txt": 1, "/": 1, "/moved": 1, "/chain": 1, "/chain-2": 1, "/gone": 1,
                             "/accepted": 2}
    assert hits[new.url] == {"/robots.txt": 1, "/new-home": 1, "/listed": 1}
    assert hits[far.url] == {"/robots.txt": 1, "/end": 1}


def test_list_lines_are_counted_in_log_summary_and_report(hosts, listed_crawl):
    out, proc, _ = listed_crawl
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    expected_skipped = {"blank": 2, "comment": 1, "duplicate": 2, "not-http": 1, "not-a-url": 1, "too-long": 1}
    assert summary["list"]["skipped"] == expected_skipped
    assert summary["list"]["urls"] == 7 and summary["list"]["lines"] == 15
    assert summary["list"]["answers"] == {"200": 2, "202": 1, "301": 1, "302": 1, "404": 1, "robots": 1}
    written = json.loads((out / "report" / "summary.json").read_text())
    assert written["crawl"]["mode"] == "list"
    assert written["list"]["skipped"] == expected_skipped
    assert {r["rule"] for r in written["list"]["rules_off"]} == LINK_GRAPH_RULES | SITE_SITEMAP_RULES
    html = (out / "report" / "report.html").read_text()
    assert 'id="list-mode"' in html and "2 duplicate" in html
    for rule_id in LINK_GRAPH_RULES | SITE_SITEMAP_RULES:
        assert f'data-rule="{rule_id}"' in html.split('id="rules-off"')[1].split("</ul>")[0]


def test_findings_without_a_link_graph(hosts, listed_crawl):
    old, new, far = hosts
    out, proc, _ = listed_crawl
    found = findings_of(out / "report" / "seo-audit.sqlite")
    assert found["crawlable-202"] == {f"{old.url}/accepted"}
    assert found["internal-4xx"] == {f"{old.url}/gone"}
    assert found["redirect-chain"] == {f"{old.url}/chain"}
    assert found["temporary-redirect"] == {f"{old.url}/chain"}
    assert not (LINK_GRAPH_RULES | SITE_SITEMAP_RULES) & set(found)
    conn = sqlite3.connect(out / "report" / "seo-audit.sqlite")
    try:
        evidence = dict(conn.execute("SELECT rule, evidence FROM findings WHERE rule IN "
                                     "('internal-4xx', 'redirect-chain')").fetchall())
    finally:
        conn.close()
    assert evidence["internal-4xx"] == "404; in the URL list"
    assert evidence["redirect-chain"] == (f"2 hops: {old.url}/chain -> 302 -> {old.url}/chain-2 -> 301 -> "
                                          f"{far.url}/end (200)")


def test_csv_list_from_stdin(hosts, tmp_path):
    """A CSV (an export with a url column) on standard input; its log line names every skip."""
    old, new, far = hosts
    csv_text = ("Address,URL,Status Code\n"
                f"old home,{old.url}/,200\n"
                f"moved,{old.url}/moved,301\n"
                "broken row\n"
                f"again,{old.url}/,200\n")
    proc = run_cli("crawl", "--list", "-", "--out", tmp_path, "--no-report", *FAST, stdin=csv_text)
    assert proc.returncode == 0, proc.stderr
    assert "list -: 2 URLs from 5 lines (CSV, its url column); skipped: 1 duplicate, 1 bad-row" in proc.stderr
    pages = pages_of(tmp_path / "seo-audit.sqlite")
    assert {url for url, p in pages.items() if p["found_via"] == "list"} == {f"{old.url}/", f"{old.url}/moved"}
    assert pages[f"{new.url}/new-home"]["status"] == 200  # the redirect's end, on the other host


def test_list_sitemap_and_depth(hosts, tmp_path):
    """--list-sitemap lists a sitemap index's URLs (fetched and recorded like any sitemap);
    --list-depth 1 follows links one click further, only within the list's hosts."""
    old, new, far = hosts
    index = (f"<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             f"<sitemap><loc>{old.url}/sitemap-1.xml</loc></sitemap></sitemapindex>")
    urlset = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
              + "".join(f"<url><loc>{u}</loc></url>" for u in (f"{old.url}/", f"{old.url}/gone", f"{old.url}/",
                                                                 f"{new.url}/new-home"))
              + "</urlset>")
    old.routes["/sitemap-index.xml"] = Reply(body=index, content_type="application/xml")
    old.routes["/sitemap-1.xml"] = Reply(body=urlset, content_type="application/xml")
    try:
        proc = run_cli("crawl", "--list-sitemap", f"{old.url}/sitemap-index.xml", "--list-depth", "1",
                       "--out", tmp_path, "--json", *FAST)
    finally:
        del old.routes["/sitemap-index.xml"], old.routes["/sitemap-1.xml"]
    assert proc.returncode == 0, proc.stderr
    pages = pages_of(tmp_path / "seo-audit.sqlite")
    by_kind = {url: (p["fetch_kind"], p["found_via"], p["depth"]) for url, p in pages.items()
               if p["skip_reason"] is None and p["fetch_kind"] != "robots"}
    assert by_kind == {
        f"{old.url}/sitemap-index.xml": ("sitemap", "list", None),
        f"{old.url}/sitemap-1.xml": ("sitemap", "sitemap-index", None),
        f"{old.url}/": ("page", "list", 0),
        f"{old.url}/gone": ("page", "list", 0),
        f"{new.url}/new-home": ("page", "list", 0),
        f"{old.url}/linked": ("page", "link", 1),      # one click further
        f"{old.url}/logo.png": ("resource", "img", 1),
        f"{new.url}/new-linked": ("page", "link", 1),
    }
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["list"]["sitemap_urls"] == 4 and summary["list"]["skipped"] == {"duplicate": 1}
    assert summary["list"]["depth"] == 1
    found = findings_of(tmp_path / "seo-audit.sqlite")
    assert found["sitemap-non-200"] == {f"{old.url}/gone"}  # a sitemap's 404, as the list asked
    assert "orphan-page" not in found and "deep-page" not in found


def test_job_file_list_relative_to_the_job(hosts, tmp_path):
    old, new, far = hosts
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "old-urls.txt").write_text(f"{old.url}/gone\n{old.url}/moved\n")
    (tmp_path / "jobs" / "migration.toml").write_text(
        'out = "out"\n[crawl]\nlist = "old-urls.txt"\nlist_depth = 0\nconcurrency = 4\ntimeout = 3.0\n')
    proc = run_cli("crawl", "--config", tmp_path / "jobs" / "migration.toml", "--no-report", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["job"] == "migration" and summary["list"]["answers"] == {"301": 1, "404": 1}
    conn = sqlite3.connect(tmp_path / "jobs" / "out" / "seo-audit.sqlite")
    try:
        assert conn.execute("SELECT mode FROM crawls").fetchall() == [("list",)]
    finally:
        conn.close()


@pytest.mark.parametrize("lines, message", [
    ("\n# nothing\nnot a url\nftp://x.example/\n", "no URL to fetch: 0 URLs from 4 lines; skipped: 1 blank, "
                                                   "1 comment, 1 not-http, 1 not-a-url"),
    ("", "no URL to fetch: 0 URLs from 0 lines"),
])
def test_a_list_without_urls_is_a_usage_error(tmp_path, lines, message):
    (tmp_path / "urls.txt").write_text(lines)
    proc = run_cli("crawl", "--list", tmp_path / "urls.txt", "--out", tmp_path / "out")
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing crawled, nothing written


def test_list_mode_usage_errors(tmp_path):
    (tmp_path / "urls.txt").write_text("http://127.0.0.2:9/\n")
    both = run_cli("crawl", "http://127.0.0.2:9/", "--list", tmp_path / "urls.txt", "--out", tmp_path / "o")
    assert both.returncode == 2 and "not both" in both.stderr
    missing = run_cli("crawl", "--list", tmp_path / "absent.txt", "--out", tmp_path / "o")
    assert missing.returncode == 2 and "absent.txt: cannot read it" in missing.stderr
    bad_sitemap = run_cli("crawl", "--list-sitemap", "sitemap.xml", "--out", tmp_path / "o")
    assert bad_sitemap.returncode == 2 and "list_sitemap 'sitemap.xml' is not an absolute http(s) URL" in bad_sitemap.stderr
    assert not (tmp_path / "o").exists()


# --- which rules a list can run ------------------------------------------------------------------

def _crawl(mode: str | None):
    import pandas as pd

    from audit.load import Crawl

    empty = pd.DataFrame()
    return Crawl(crawl_id=1, meta={"mode": mode}, pages=empty, links=empty, sitemap_urls=empty, rechecks=empty)


def test_rules_needing_the_link_graph_are_off_for_a_list_only():
    from audit.engine import rules_off
    from audit.load import LIST_MODE_LACKS
    from audit.rules import RULES

    off = {o["rule"]: o["why"] for o in rules_off(_crawl("list"))}
    assert off == {**{r: LIST_MODE_LACKS["link-graph"] for r in LINK_GRAPH_RULES},
                   **{r: LIST_MODE_LACKS["site-sitemaps"] for r in SITE_SITEMAP_RULES}}
    assert rules_off(_crawl("site")) == [] and rules_off(_crawl(None)) == []  # a crawl from before modes
    # a rule reading inlinks or depth declares whether it needs the link graph: these read them
    # for their evidence only, and judge a listed URL as well (url-family-waste: list mode samples
    # no family, so it has nothing to judge)
    undeclared = {r.id for r in RULES if {"inlinks", "depth"} & set(r.reads) and "link-graph" not in r.needs}
    assert undeclared == {"crawlable-202", "crawlable-202-api-endpoint", "crawlable-204", "crawl-trap",
                          "url-family-waste"}


def test_a_rule_needs_a_known_crawl_fact():
    from audit.rules.base import rule

    with pytest.raises(ValueError, match="needs"):
        rule(id="x", severity="notice", severity_why="", title="", why="", fix="", learn_more="",
             needs=("a-crystal-ball",))
