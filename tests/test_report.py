"""Render tests on a hand-built crawl: every output file, hostile text, counts that agree.

The fixture crawl is built by hand in the shapes the audit package hands to the report,
so these tests do not depend on the crawler or the rules.
"""

from __future__ import annotations

import html as html_text
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from crawler.store import PAGE_COLUMNS
import reports.html
from reports import BrandingError, OutputsMissing, export_pages_csv, write_outputs

SCRIPT_TITLE = "<script>alert(1)</script>"
FORMULA_TITLE = '=HYPERLINK("http://evil.example/","click")'
HOSTILE_ANCHOR = "<img src=x onerror=alert(2)>"
JAVASCRIPT_URL = "javascript:alert(document.domain)"
SITE = "https://shop.example.com"


@dataclass
class Rule:
    id: str
    severity: str
    category: str
    title: str
    why: str
    fix: str
    learn_more: str
    thresholds: dict = field(default_factory=dict)


RULES = [
    Rule("accepted-202", "critical", "status", "Crawlable pages answer 202 Accepted",
         "Search engines wait briefly for a 202, then index what they got: often nothing.",
         "Answer 200 with the finished page, or keep job URLs out of links and sitemaps.",
         "https://www.rfc-editor.org/rfc/rfc9110#section-15.3.3"),
    Rule("server-error", "critical", "status", "Pages answer 5xx",
         "5xx answers slow down crawling and drop indexed pages if they persist.",
         "Fix the server error or return 503 with Retry-After during maintenance.",
         "https://developers.google.com/crawling/docs/troubleshooting/http-status-codes"),
    Rule("broken-link", "warning", "links", "Internal links to 4xx URLs",
         "Broken links waste crawl budget and lose visitors.", "Update or remove the links.",
         "https://developers.google.com/search/docs/crawling-indexing/links-crawlable"),
    Rule("duplicate-title", "warning", "content", "Duplicate titles",
         "Pages with the same title compete with each other.", "Write a unique title per page.",
         "javascript:alert(3)"),
    Rule("redirect", "notice", "redirects", "Internal links to redirects",
         "Each hop costs a fetch.", "Link to the final URL.",
         "https://developers.google.com/search/docs/crawling-indexing/301-redirects"),
    Rule("slow-response", "notice", "performance", "Slow responses",
         "Slow answers lower the crawl rate.", "Cache or speed up the page.",
         "https://developers.google.com/crawling/docs/crawl-budget"),
    Rule("never-fires", "notice", "content", "A rule with no findings", "-", "-",
         "https://example.org/"),
]


def _page(url: str, **facts) -> dict:
    row = {column: None for column in PAGE_COLUMNS}
    row.update(url=url, fetch_kind="page", found_via="link", method="GET",
               content_type="text/html; charset=utf-8", depth=1, response_time=0.12,
               word_count=300, attempt_statuses=[facts.get("status")], fetched_at=1_790_000_000.0)
    row.update(facts)
    return row


def fixture_pages() -> pd.DataFrame:
    rows = [
        _page(f"{SITE}/", status=200, title="Home", depth=0, found_via="start", inlinks=0,
              structured_types=["Organization", "WebSite"]),
        _page(f"{SITE}/about", status=200, title=SCRIPT_TITLE, inlinks=4, structured_types=["Organization"]),
        _page(f"{SITE}/cheap", status=200, title=FORMULA_TITLE, meta_description="-2+3", inlinks=2),
        _page(f"{SITE}/cheaper", status=200, title=FORMULA_TITLE, inlinks=1, depth=2),
        _page(f"{SITE}/old", status=301, redirect_target=f"{SITE}/new", content_type=None,
              redirect_chain=[f"{SITE}/old", f"{SITE}/new"], inlinks=3),
        _page(f"{SITE}/new", status=200, title="New", found_via="redirect", inlinks=0),
        _page(f"{SITE}/missing", status=404, title="Not found", inlinks=2, depth=2),
        _page(f"{SITE}/jobs/report", status=202, title="Preparing", retry_after="5", inlinks=1, depth=3),
        _page(f"{SITE}/jobs/pending", status=202, title="Preparing", inlinks=1, depth=3),
        _page(f"{SITE}/api/job", status=202, fetch_kind="status-url", found_via="status-url", depth=None,
              content_type="application/json"),
        _page(f"{SITE}/boom", status=500, title="Error", attempt_statuses=[500, 500, 500], depth=4),
        _page(f"{SITE}/slow", status=200, title="Slow page", response_time=2.4, depth=12),
        _page(f"{SITE}/hang", error="timeout", content_type=None, response_time=None, depth=2),
        _page(f"{SITE}/private/x", skip_reason="robots", robots_rule="disallow: /private/",
              content_type=None, response_time=None, method=None),
        _page(JAVASCRIPT_URL, skip_reason="scheme", content_type=None, response_time=None, method=None),
        _page(f"{SITE}/logo.png", status=200, fetch_kind="resource", content_type="image/png",
              method="HEAD", depth=1, word_count=None),
    ]
    pages = pd.DataFrame(rows)
    pages["status"] = pages["status"].astype("Int64")
    pages["depth"] = pages["depth"].astype("Int64")
    status = pages["status"]
    pages["status_class"] = [
        "skipped" if pd.notna(skip) else "error" if pd.isna(code) else f"{int(code) // 100}xx"
        for code, skip in zip(status, pages["skip_reason"])
    ]
    pages["is_html"] = pages["content_type"].fillna("").str.startswith("text/html")
    pages["in_scope"] = pages["url"].str.startswith(SITE)
    pages["crawlable"] = pages["in_scope"] & pages["skip_reason"].isna() & (pages["fetch_kind"] == "page")
    pages["indexable"] = pages["crawlable"] & status.eq(200).fillna(False) & pages["is_html"]
    pages["inlinks"] = pages["inlinks"].fillna(0).astype(int)
    pages["in_sitemap"] = pages["url"].isin([f"{SITE}/", f"{SITE}/about", f"{SITE}/jobs/report"])
    pages["redirect_chain"] = [c if isinstance(c, list) else [] for c in pages["redirect_chain"]]
    pages["settled_status"] = pd.array(
        [200 if u.endswith("/jobs/report") else None for u in pages["url"]], dtype="Int64")
    return pages


def fixture_findings() -> pd.DataFrame:
    rows = [
        ("accepted-202", "critical", "status", f"{SITE}/jobs/report", "202 with Retry-After: 5; settled to 200 after 1 re-check"),
        ("accepted-202", "critical", "status", f"{SITE}/jobs/pending", "202 on every attempt: 202 → 202 → 202"),
        ("server-error", "critical", "status", f"{SITE}/boom", "attempts: 500, 500, 500"),
        ("broken-link", "warning", "links", f"{SITE}/missing", f"linked from {SITE}/ with anchor {HOSTILE_ANCHOR}"),
        ("broken-link", "warning", "links", f"{SITE}/missing", f"linked from {SITE}/about with anchor 'Gone'"),
        ("broken-link", "warning", "links", JAVASCRIPT_URL, f"linked from {SITE}/ (scheme not crawlable)"),
        ("duplicate-title", "warning", "content", f"{SITE}/cheap", FORMULA_TITLE),
        ("duplicate-title", "warning", "content", f"{SITE}/cheaper", "@SUM(A1:A9)"),
        ("redirect", "notice", "redirects", f"{SITE}/old", f"{SITE}/old → 301 → {SITE}/new"),
        ("slow-response", "notice", "performance", f"{SITE}/slow", "2.40 s"),
    ]
    findings = pd.DataFrame(rows, columns=["rule", "severity", "category", "url", "evidence"])
    findings.insert(0, "crawl_id", 7)
    return findings


def fixture_crawl() -> SimpleNamespace:
    pages = fixture_pages()
    links = pd.DataFrame(
        [(f"{SITE}/", f"{SITE}/missing", "a", HOSTILE_ANCHOR, 0),
         (f"{SITE}/", f"{SITE}/about", "a", "-1 days left", 0),
         (f"{SITE}/about", f"{SITE}/old", "a", "+ More", 1),
         (f"{SITE}/", JAVASCRIPT_URL, "a", "Click", 0)],
        columns=["source", "target", "kind", "anchor", "nofollow"])
    rechecks = pd.DataFrame(
        [(f"{SITE}/jobs/report", 1, 5.0, 200, None, None, 1_790_000_010.0),
         (f"{SITE}/jobs/pending", 1, 2.0, 202, None, None, 1_790_000_010.0),
         (f"{SITE}/jobs/pending", 2, 4.0, 202, None, None, 1_790_000_014.0),
         (f"{SITE}/jobs/pending", 3, 8.0, 202, None, None, 1_790_000_022.0)],
        columns=["url", "attempt", "waited", "status", "error", "retry_after", "fetched_at"])
    meta = {"id": 7, "job": "weekly", "start_url": f"{SITE}/", "started_at": 1_790_000_000.0,
            "finished_at": 1_790_000_754.0, "state": "complete",
            "settings": {"max_depth": 10, "concurrency": 8, "user_agent": "seo-audit/0.1"},
            "stats": {"downloader/request_count": 14}, "probe": {"status": 404}}
    return SimpleNamespace(crawl_id=7, meta=meta, pages=pages, links=links,
                           sitemap_urls=pd.DataFrame(columns=["sitemap", "url", "lastmod"]),
                           rechecks=rechecks)


BUDGET = {"fetched": 13, "indexable": 6, "wasted": 5, "waste_share": 5 / 13,
          "by_cause": {"202 Accepted": 2, "redirect": 1, "4xx": 1, "5xx": 1, "noindex": 0}}


def fixture_previous() -> dict:
    """A comparison with crawl 6 in seo_audit.compare's shape: 3 new, 2 fixed, 4 persisting."""
    old_budget = {"fetched": 12, "indexable": 7, "wasted": 3, "waste_share": 0.25,
                  "by_cause": {"202 Accepted": 0, "redirect": 2, "4xx": 1, "5xx": 0, "noindex": 0}}
    return {
        "old": {"crawl_id": 6, "job": "weekly", "start_url": f"{SITE}/", "started_at": 1_789_395_200.0,
                "finished_at": 1_789_395_900.0, "state": "complete"},
        "new": {"crawl_id": 7, "job": "weekly", "start_url": f"{SITE}/", "started_at": 1_790_000_000.0,
                "finished_at": 1_790_000_754.0, "state": "complete"},
        "findings": {"new": 3, "fixed": 2, "persisting": 4, "by_rule": {
            "accepted-202": {"severity": "critical", "new": [f"{SITE}/jobs/pending", f"{SITE}/jobs/report"],
                             "fixed": [], "persisting": 0},
            "broken-link": {"severity": "warning", "new": [], "fixed": [f"{SITE}/gone"], "persisting": 2},
            "orphan-page": {"severity": "notice", "new": [], "fixed": [f"{SITE}/lonely"], "persisting": 0},
            "server-error": {"severity": "critical", "new": [f"{SITE}/boom"], "fixed": [], "persisting": 0},
            "slow-response": {"severity": "notice", "new": [], "fixed": [], "persisting": 2},
        }},
        "status_changes": [{"url": f"{SITE}/boom", "old": 200, "new": 500},
                           {"url": f"{SITE}/hang", "old": 200, "new": "timeout"},
                           {"url": f"{SITE}/jobs/pending", "old": 200, "new": 202},
                           {"url": f"{SITE}/jobs/report", "old": 200, "new": 202},
                           {"url": f"{SITE}/private/x", "old": 200, "new": None}],
        "appeared": [f"{SITE}/api/job", f"{SITE}/slow"],
        "disappeared": [f"{SITE}/gone", f"{SITE}/lonely", f"{SITE}/sale"],
        "budget": {"old": old_budget, "new": BUDGET, "change": {
            "fetched": 1, "wasted": 2, "waste_share": BUDGET["waste_share"] - 0.25,
            "by_cause": {cause: n - old_budget["by_cause"][cause] for cause, n in BUDGET["by_cause"].items()}}},
    }


def render(out_dir: Path, **options) -> dict[str, Path]:
    return write_outputs(out_dir, fixture_crawl(), fixture_findings(), RULES, BUDGET, **options)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    return render(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def html(outputs) -> str:
    return outputs["report.html"].read_text(encoding="utf-8")


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def _rule_section(html: str, rule_id: str) -> str:
    match = re.search(rf'<article[^>]*data-rule="{re.escape(rule_id)}".*?</article>', html, re.S)
    assert match, f"no section for {rule_id}"
    return match.group(0)


def test_every_output_file_is_written(outputs):
    expected = {"report.html", "pages.csv", "links.csv", "findings.csv", "summary.json", "report.xlsx"}
    expected |= {f"findings-{r}.csv" for r in fixture_findings()["rule"].unique()}
    assert set(outputs) == expected
    assert all(path.exists() and path.stat().st_size for path in outputs.values())
    assert "findings-never-fires.csv" not in outputs


def test_every_fired_rule_has_a_section_with_the_csv_count(outputs, html):
    findings = pd.read_csv(outputs["findings.csv"])
    for rule_id, count in findings["rule"].value_counts().items():
        section = _rule_section(html, rule_id)
        assert f'data-findings="{count}"' in section
        assert f"<strong>{count}</strong> finding" in section
        assert f'href="findings-{rule_id}.csv"' in section
        assert len(re.findall(r"<tr><td class=\"url\">", section)) == count
    assert 'data-rule="never-fires"' not in html


def test_rule_sections_carry_their_words(html):
    section = _rule_section(html, "accepted-202")
    for rule in RULES[:1]:
        assert rule.title in section and rule.why in section and rule.fix in section
        assert f'href="{rule.learn_more}"' in section


def test_sections_and_fix_first_are_ranked_by_impact(html):
    # the fixture's budget has no by_rule: each rule's share is its URLs' share of the fetches
    order = re.findall(r'data-rule="([^"]+)"', html)
    assert order == ["accepted-202", "server-error", "broken-link", "duplicate-title", "redirect",
                     "slow-response"]
    fix_first = re.search(r'<ol class="fix-list">.*?</ol>', html, re.S).group(0)
    assert re.findall(r'href="#rule-([^"]+)"', fix_first) == order[:5]


def test_summary_shows_headline_numbers(html):
    summary = _text(re.search(r'<section id="summary".*?</section>', html, re.S).group(0))
    assert "38.5%" in summary  # 5 of 13 fetches wasted
    assert "5 of 13 fetches" in summary
    assert "Crawl budget wasted" in summary
    assert "critical 3 in 2 rules" in summary
    assert "2026" in summary or "2026" in html  # the crawl date
    assert "max_depth" in summary


def test_202_section_lists_crawlable_202s_with_what_they_settled_to(html):
    section = re.search(r'<section id="accepted-202".*?</section>', html, re.S).group(0)
    assert html.index('id="accepted-202"') < html.index('id="fix-first"')
    text = _text(section)
    assert "2 crawlable URLs answered 202 Accepted" in text
    assert f"{SITE}/jobs/report 200 1 5.0 5" in text
    assert f"{SITE}/jobs/pending never settled 3 14.0" in text
    assert "/api/job" not in section  # a status URL is not a crawlable page


def test_no_202_section_without_crawlable_202s(tmp_path):
    crawl = fixture_crawl()
    crawl.pages = crawl.pages[crawl.pages["status"].ne(202).fillna(True)]
    write_outputs(tmp_path, crawl, fixture_findings(), RULES, BUDGET)
    assert 'id="accepted-202"' not in (tmp_path / "report.html").read_text()


def test_hostile_text_is_escaped_and_never_linked(html):
    assert SCRIPT_TITLE not in html
    assert HOSTILE_ANCHOR not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # shown as text in the evidence
    assert not re.search(r'href="\s*javascript:', html, re.I)
    assert 'href="javascript:alert(3)"' not in html  # a rule's learn-more link is checked too
    assert '<span class="not-link">javascript:alert(document.domain)</span>' in html
    # only the report's own script runs: exactly two script elements, one of them data
    assert len(re.findall(r"<script\b", html)) == 2


def test_explorer_data_cannot_break_out_of_its_script_block(html):
    block = re.search(r'<script type="application/json" id="pages-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block
    data = json.loads(block)
    titles = [row[data["columns"].index("title")] for row in data["rows"]]
    assert SCRIPT_TITLE in titles
    assert len(data["rows"]) == len(fixture_pages())


def test_report_is_self_contained(html):
    assert not re.search(r'<(?:link|script|img)[^>]+(?:src|href)="(?:https?:)?//', html)
    assert "@import" not in html and "url(http" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "@media print" in html
    for chart in ("URLs by status code", "Fetched URLs by click depth", "response time", "Findings by category"):
        assert re.search(rf'<svg class="chart"[^>]*aria-label="[^"]*{chart}', html, re.I), chart


def test_charts_count_what_the_pages_hold(html):
    status_chart = re.search(r'<svg[^>]*aria-label="URLs by status code".*?</svg>', html, re.S).group(0)
    labels = re.findall(r'class="chart-label"[^>]*>([^<]+)<', status_chart)
    assert labels == ["200", "202", "301", "404", "500", "network error", "not fetched"]
    depth_chart = re.search(r'<svg[^>]*aria-label="Fetched URLs by click depth".*?</svg>', html, re.S).group(0)
    assert "10+" in depth_chart and ">none<" in depth_chart


def test_long_rule_tables_fold_and_point_to_the_csv(tmp_path):
    findings = fixture_findings()
    extra = findings[findings["rule"] == "broken-link"].iloc[[0] * 24]
    findings = pd.concat([findings, extra], ignore_index=True)  # broken-link: 27 rows
    write_outputs(tmp_path, fixture_crawl(), findings, RULES, BUDGET, max_rows_per_rule=20)
    section = _rule_section((tmp_path / "report.html").read_text(), "broken-link")
    folded = re.search(r'<details class="more-rows">.*?</details>', section, re.S).group(0)
    assert len(re.findall(r'<td class="url">', section)) == 20
    assert len(re.findall(r'<td class="url">', folded)) == 10
    assert "Show 10 more rows" in folded
    assert "Showing the first 20 of 27" in _text(section)
    assert len(pd.read_csv(tmp_path / "findings-broken-link.csv")) == 27


def test_findings_csv_round_trips_with_contract_columns(outputs):
    findings = pd.read_csv(outputs["findings.csv"])
    assert list(findings.columns[:4]) == ["rule", "severity", "url", "evidence"]
    assert {"category", "title"} <= set(findings.columns)
    assert len(findings) == len(fixture_findings())
    per_rule = pd.read_csv(outputs["findings-broken-link.csv"])
    assert list(per_rule.columns) == list(findings.columns)
    assert set(per_rule["rule"]) == {"broken-link"} and len(per_rule) == 3
    assert HOSTILE_ANCHOR in per_rule["evidence"].iloc[0]  # CSV holds the raw text, unescaped


def test_formula_cells_are_neutralised_in_csv(outputs):
    findings = pd.read_csv(outputs["findings.csv"])
    evidence = set(findings["evidence"])
    assert "'" + FORMULA_TITLE in evidence and "'@SUM(A1:A9)" in evidence
    pages = pd.read_csv(outputs["pages.csv"])
    assert set(pages.loc[pages["url"] == f"{SITE}/cheap", "title"]) == {"'" + FORMULA_TITLE}
    assert set(pages.loc[pages["url"] == f"{SITE}/cheap", "meta_description"]) == {"'-2+3"}
    links = pd.read_csv(outputs["links.csv"])
    assert set(links["anchor"]) >= {"'-1 days left", "'+ More"}
    for path in outputs.values():
        if path.suffix == ".csv":
            for line in path.read_text(encoding="utf-8").splitlines():
                assert not re.search(r'(^|,)"?[=+@-]', line), (path.name, line)


def test_pages_csv_round_trips(outputs):
    pages = pd.read_csv(outputs["pages.csv"])
    assert list(pages.columns[:2]) == ["url", "status"]
    assert len(pages) == len(fixture_pages())
    assert set(fixture_pages().columns) - {"minhash"} == set(pages.columns)  # signatures are bytes: not in the CSV
    assert pages["status"].dropna().astype(int).tolist() == fixture_pages()["status"].dropna().tolist()
    chain = pages.loc[pages["url"] == f"{SITE}/old", "redirect_chain"].iloc[0]
    assert json.loads(chain) == [f"{SITE}/old", f"{SITE}/new"]
    assert json.loads(pages.loc[pages["url"] == f"{SITE}/boom", "attempt_statuses"].iloc[0]) == [500] * 3


def test_export_pages_csv_alone_with_bom_keeps_negative_numbers(tmp_path):
    pages = pd.DataFrame({"status": [200, 404], "url": ["https://a.example/", "https://a.example/x"],
                          "delta": [-3, 5], "title": ["-3 reasons", "ok"]})
    path = export_pages_csv(tmp_path / "pages.csv", pages, bom=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfurl,status,")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["delta"].tolist() == [-3, 5]
    assert back["title"].tolist() == ["'-3 reasons", "ok"]


def test_summary_json_for_scripts(outputs):
    summary = json.loads(outputs["summary.json"].read_text())
    assert set(summary) >= {"crawl", "pages", "budget", "findings", "fix_first", "accepted_202", "files"}
    assert summary["crawl"]["id"] == 7 and summary["crawl"]["start_url"] == f"{SITE}/"
    assert summary["pages"]["total"] == len(fixture_pages())
    assert summary["pages"]["by_status_class"] == {"2xx": 10, "3xx": 1, "4xx": 1, "5xx": 1, "error": 1,
                                                   "skipped": 2}
    assert summary["budget"]["wasted"] == 5
    assert summary["findings"]["by_severity"] == {"critical": 3, "warning": 5, "notice": 2}
    assert summary["findings"]["by_rule"]["broken-link"] == {
        "severity": "warning", "category": "links", "title": "Internal links to 4xx URLs",
        "findings": 3, "urls": 2, "csv": "findings-broken-link.csv", "share": round(2 / 13, 4),
        "site_level": False}
    assert summary["site_level"] == []
    assert summary["accepted_202"] == {"urls": 2, "settled": 1}
    assert set(summary["files"]) == set(outputs)
    assert "previous" not in summary


def test_workbook_has_a_summary_and_a_sheet_per_fired_rule(outputs):
    with zipfile.ZipFile(outputs["report.xlsx"]) as book:
        workbook_xml = book.read("xl/workbook.xml").decode()
        sheets = re.findall(r'<sheet name="([^"]+)"', workbook_xml)
        assert sheets == ["Summary", "accepted-202", "server-error", "broken-link", "duplicate-title",
                          "redirect", "slow-response"]
        cells = "".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/"))
        first_rule_sheet = book.read("xl/worksheets/sheet2.xml").decode()
    # a rule's sheet: URL and evidence; the rule's id, severity and title are the sheet's name
    # and its row of the summary
    assert re.findall(r"<t[^>]*>([^<]*)</t>", first_rule_sheet)[:2] == ["url", "evidence"]
    assert "crawl_id" not in first_rule_sheet and ">critical<" not in first_rule_sheet
    assert "<f>" not in cells  # no formula anywhere
    assert "&apos;=HYPERLINK" in cells or "'=HYPERLINK" in cells


def test_links_csv_is_masked_neutralised_and_quoted_with_or_without_a_bom(tmp_path):
    from audit import load_crawl
    from crawler import store

    path = tmp_path / "site.db"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, f"{SITE}/", {})
    store.insert_pages(conn, crawl_id, [(f"{SITE}/",) + (None,) * (len(store.PAGE_COLUMNS) - 1)])
    store.insert_links(conn, crawl_id, [
        (f"{SITE}/", f"{SITE}/a", "a", '=HYPERLINK("http://evil.example/","x")', 0),
        (f"{SITE}/", STAGING, "a", None, 1),
        (f"{SITE}/", f"{SITE}/b", "canonical", "line\rbreak, \"quoted\"", 0),
        (f"{SITE}/a", f"{SITE}/", "a", "-1", 0),
    ])
    store.finish_crawl(conn, crawl_id, "complete")
    conn.close()
    crawl = load_crawl(path)
    here = write_outputs(tmp_path / "here", crawl, crawl.findings, RULES, BUDGET)
    files = write_outputs(tmp_path / "bom", crawl, crawl.findings, RULES, BUDGET, bom=True)
    for name in ("pages.csv", "links.csv", "findings.csv"):
        assert files[name].read_bytes() == b"\xef\xbb\xbf" + here[name].read_bytes()
    links = here["links.csv"].read_bytes()
    assert b"'=HYPERLINK" in links and b"hunter2" not in links and b"'-1" in links
    assert links.count(b"\r\n") == 5  # the quoted CR stays inside its cell


def test_the_workbook_of_a_large_audit_is_written_by_a_process_of_its_own(tmp_path, monkeypatch):
    findings = fixture_findings()
    here = write_outputs(tmp_path / "here", fixture_crawl(), findings, RULES, BUDGET)
    monkeypatch.setattr("reports.outputs.FINDINGS_FOR_A_PROCESS", 0)
    files = write_outputs(tmp_path / "out", fixture_crawl(), findings, RULES, BUDGET)
    assert set(files) == set(here)
    csvs = [name for name in here if name.endswith(".csv")]
    assert len(csvs) == 9 and all(files[n].read_bytes() == here[n].read_bytes() for n in csvs)
    with zipfile.ZipFile(files["report.xlsx"]) as book, zipfile.ZipFile(here["report.xlsx"]) as same:
        sheets = [n for n in same.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheets) == 7 and all(book.read(n) == same.read(n) for n in sheets)


def test_explorer_data_written_in_pieces_is_the_data_made_whole(tmp_path, monkeypatch):
    def explorer_block(out: Path) -> str:
        text = render(out)["report.html"].read_text(encoding="utf-8")
        return re.search(r'<script type="application/json" id="pages-data">(.*?)</script>', text, re.S).group(1)

    whole = explorer_block(tmp_path / "whole")
    monkeypatch.setattr("reports.html.EXPLORER_PIECE_ROWS", 3)  # pieces of 3 rows, the last one short
    assert len(fixture_pages()) % 3 != 0
    pieces = explorer_block(tmp_path / "pieces")
    assert pieces == whole and "<!--" not in pieces
    data = json.loads(pieces)
    assert [row[0] for row in data["rows"]] == list(fixture_pages()["url"])


def test_explorer_failing_as_its_data_is_made_leaves_no_half_block(tmp_path, monkeypatch):
    real = reports.html._explorer_table
    calls = []

    def fails_on_the_second_piece(pages, extra):
        calls.append(len(pages))
        if len(calls) == 3:  # the columns' names, the first piece, then this
            raise ValueError("odd cell")
        return real(pages, extra)

    monkeypatch.setattr("reports.html.EXPLORER_PIECE_ROWS", 2)
    monkeypatch.setattr("reports.html._explorer_table", fails_on_the_second_piece)
    with pytest.raises(OutputsMissing) as caught:
        render(tmp_path)
    text = caught.value.files["report.html"].read_text(encoding="utf-8")
    assert 'id="pages-data"' not in text and "<!--pages-data" not in text
    assert "<strong>Pages explorer</strong> could not be drawn" in text and 'id="summary"' in text


def test_explorer_of_a_large_crawl_holds_the_urls_needing_attention_first(tmp_path, monkeypatch):
    monkeypatch.setattr("reports.html.EXPLORER_MAX_URLS", 6)
    text = render(tmp_path)["report.html"].read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="pages-data">(.*?)</script>', text, re.S).group(1))
    rows = [dict(zip(data["columns"], row)) for row in data["rows"]]
    pages = fixture_crawl().pages
    problems = pages[~(pages["status_class"].eq("2xx") & pages["indexable"])]
    assert len(rows) == 6 and len(problems) >= 6
    assert all(r["url"] in set(problems["url"]) for r in rows)
    assert 'id="explorer-capped"' in text and f"6 of the {len(pages)} URLs" in _text(text)


SECRETS = ("hunter2", "s3cr3t-t0ken", "S1GNED")
STAGING = f"https://admin:hunter2@shop.example.com/staging?page=2&access_token=s3cr3t-t0ken"
#: STAGING masked, as a pattern: each credential becomes a digest of its own
STAGING_REDACTED = r"https://<masked:[0-9a-f]{12}>@shop\.example\.com/staging\?page=2&access_token=<masked:[0-9a-f]{12}>"


def _output_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "".join(book.read(name).decode() for name in book.namelist())
    return path.read_text(encoding="utf-8")


def test_credentials_in_urls_are_redacted_in_every_output(tmp_path):
    crawl = fixture_crawl()
    crawl.meta.update(start_url=STAGING, settings={**crawl.meta["settings"], "start_url": STAGING})
    staging = crawl.pages.iloc[[5]].assign(url=STAGING, canonical=f"{SITE}/?sig=S1GNED", title="Staging")
    staging.at[staging.index[0], "redirect_chain"] = [STAGING, f"{SITE}/new?token=s3cr3t-t0ken"]
    crawl.pages = pd.concat([crawl.pages, staging], ignore_index=True)
    crawl.links.loc[len(crawl.links)] = [STAGING, f"{SITE}/a?Password=hunter2", "a", "Log in", 0]
    findings = fixture_findings()
    findings.loc[len(findings)] = [7, "broken-link", "warning", "links", f"{SITE}/x?apikey=s3cr3t-t0ken",
                                   f"linked from {STAGING} with anchor 'Log in'"]
    previous = fixture_previous()
    previous["status_changes"].append({"url": STAGING, "old": 200, "new": 404})
    previous["appeared"].append(f"{SITE}/cart;jsessionid=SESS1ON-ID")  # a session id is shown
    previous["findings"]["by_rule"]["broken-link"]["fixed"].append(f"https://u:hunter2@{SITE[8:]}/old")
    files = write_outputs(tmp_path, crawl, findings, RULES, BUDGET, previous=previous)

    for name, path in files.items():
        text = _output_text(path)
        assert not [secret for secret in SECRETS if secret in text], name
    html = files["report.html"].read_text(encoding="utf-8")
    escaped = STAGING_REDACTED.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    (shown,) = set(re.findall(escaped, html))  # the same masks everywhere
    assert f'<p class="site"><a href="{shown}"' in html  # the masthead
    assert f'<td class="url"><a href="{shown}"' in _since_section(files)
    staging_url = html_text.unescape(shown)
    data = json.loads(re.search(r'id="pages-data">(.*?)</script>', html, re.S).group(1))
    assert staging_url in [row[0] for row in data["rows"]]  # the pages explorer
    pages = pd.read_csv(files["pages.csv"])
    (chain,) = pages.loc[pages["url"] == staging_url, "redirect_chain"]
    assert json.loads(chain)[0] == staging_url
    assert re.fullmatch(rf"{re.escape(SITE)}/new\?token=<masked:[0-9a-f]{{12}}>", json.loads(chain)[1])
    summary = json.loads(files["summary.json"].read_text())
    assert summary["crawl"]["start_url"] == staging_url
    assert summary["previous"]["appeared"][-1] == f"{SITE}/cart;jsessionid=SESS1ON-ID"


def test_a_rule_sheet_holds_the_first_findings_and_names_the_csv_with_all(tmp_path, monkeypatch):
    monkeypatch.setattr("reports.exports.WORKBOOK_ROWS_PER_RULE", 1)
    files = write_outputs(tmp_path, fixture_crawl(), fixture_findings(), RULES, BUDGET)
    with zipfile.ZipFile(files["report.xlsx"]) as book:
        sheets = {n: book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/sheet")}
    broken = next(text for text in sheets.values() if f"{SITE}/missing" in text)
    cells = re.findall(r"<t[^>]*>([^<]*)</t>", broken)
    assert cells[:3] == ["url", "evidence", f"{SITE}/missing"]
    assert cells[-1] == "... and 2 more: findings-broken-link.csv has all 3"
    assert JAVASCRIPT_URL not in broken
    assert files["findings-broken-link.csv"].read_text().count("broken-link") == 3


def test_cells_starting_with_tab_or_cr_are_neutralised_in_csv_and_xlsx(tmp_path):
    crawl = fixture_crawl()
    crawl.pages.loc[crawl.pages["url"] == f"{SITE}/about", "title"] = "\t=cmd|' /C calc'!A0"
    crawl.links.loc[0, "anchor"] = "\r=1+1"
    findings = fixture_findings()
    findings.loc[findings["rule"] == "slow-response", "evidence"] = "\t@SUM(A1)"
    files = write_outputs(tmp_path, crawl, findings, RULES, BUDGET)
    pages = pd.read_csv(files["pages.csv"])
    assert pages.loc[pages["url"] == f"{SITE}/about", "title"].iloc[0] == "'\t=cmd|' /C calc'!A0"
    assert pd.read_csv(files["links.csv"])["anchor"].iloc[0] == "'\r=1+1"
    assert "'\t@SUM(A1)" in set(pd.read_csv(files["findings-slow-response.csv"])["evidence"])
    cells = _output_text(files["report.xlsx"])
    assert "'\t@SUM(A1)" in cells and ">\t@SUM" not in cells


def test_workbook_opens_in_openpyxl(outputs):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(outputs["report.xlsx"])
    assert book["broken-link"].max_row == 4


def test_branding_is_applied_and_validated(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    render(tmp_path / "out", branding={"title": "Quarterly audit", "client": "Shop & Co",
                                       "logo": logo, "accent": "#0a7"})
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<h1>Quarterly audit</h1>" in html and "Prepared for Shop &amp; Co" in html
    assert 'src="data:image/png;base64,' in html and "--accent: #0a7;" in html
    for bad in ("red; } body { display:none", "url(https://evil.example/x.png)", "expression(alert(1))"):
        with pytest.raises(BrandingError):
            render(tmp_path / "bad", branding={"accent": bad})
    with pytest.raises(BrandingError):
        render(tmp_path / "bad", branding={"logo": tmp_path / "missing.png"})


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> dict[str, Path]:
    return render(tmp_path_factory.mktemp("compared"), previous=fixture_previous())


def _since_section(files: dict[str, Path]) -> str:
    html = files["report.html"].read_text(encoding="utf-8")
    match = re.search(r'<section id="since-last-crawl".*?</section>', html, re.S)
    assert match, "no Since last crawl section"
    return match.group(0)


def _table_rows(section: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', section, re.S).group(0)
    return [_text(row) for row in re.findall(r"<tr\b.*?</tr>", table.split("<tbody>")[1], re.S)]


def test_since_last_crawl_follows_the_summary_with_the_totals(compared):
    html = compared["report.html"].read_text(encoding="utf-8")
    assert html.index('id="summary"') < html.index('id="since-last-crawl"') < html.index('id="accepted-202"')
    assert 'href="#since-last-crawl"' in html
    text = _text(_since_section(compared))
    assert "Compared with crawl #6 of 2026-09-14" in text
    assert "3 new findings 2 fixed 4 still there" in text
    assert "25.0% → 38.5% +13.5 pts crawl budget wasted (3 → 5 fetches)" in text


def test_since_last_crawl_lists_rule_changes_new_ones_first(compared):
    section = _since_section(compared)
    assert _table_rows(section, "rule-changes") == [
        f"Crawlable pages answer 202 Accepted critical 2 0 0 new: {SITE}/jobs/pending , {SITE}/jobs/report",
        f"Pages answer 5xx critical 1 0 0 new: {SITE}/boom",
        f"Internal links to 4xx URLs warning 0 1 2 fixed: {SITE}/gone",
        f"orphan-page notice 0 1 0 fixed: {SITE}/lonely",  # no longer fires: no words, no section
        "Slow responses notice 0 0 2",
    ]
    assert 'href="#rule-accepted-202"' in section and 'href="#rule-orphan-page"' not in section


def test_since_last_crawl_shows_status_changes_with_202s_first_and_highlighted(compared):
    section = _since_section(compared)
    assert _table_rows(section, "status-changes") == [
        f"{SITE}/jobs/pending 200 202 now 202 Accepted",
        f"{SITE}/jobs/report 200 202 now 202 Accepted",
        f"{SITE}/boom 200 500",
        f"{SITE}/hang 200 timeout",
        f"{SITE}/private/x 200 not fetched",
    ]
    assert len(re.findall(r'<tr class="now-202">', section)) == 2
    assert '<span class="pill st-5xx">500</span>' in section and '<span class="pill st-error">timeout</span>' in section
    assert "5 URLs answered differently" in _text(section)


def test_since_last_crawl_counts_urls_that_appeared_and_disappeared(compared):
    section = _since_section(compared)
    appeared = _text(re.search(r'<div class="panel" id="appeared">.*?</div>', section, re.S).group(0))
    disappeared = _text(re.search(r'<div class="panel" id="disappeared">.*?</div>', section, re.S).group(0))
    assert appeared == f"2 new URLs {SITE}/api/job {SITE}/slow"
    assert disappeared == f"3 URLs gone {SITE}/gone {SITE}/lonely {SITE}/sale"


def test_waste_change_is_coloured_by_direction(tmp_path, compared):
    waste = re.search(r'<div class="tile tile-wide" id="waste-change">.*?</div>', _since_section(compared), re.S)
    assert '<span class="delta delta-worse">+13.5 pts</span>' in waste.group(0)
    table = re.search(r'<div class="panel cause-changes">.*?</div>', _since_section(compared), re.S).group(0)
    assert _table_rows(table.replace("<table", '<table id="causes"'), "causes") == [
        "202 Accepted 0 2 +2", "redirect 2 1 −1", "5xx 0 1 +1"]
    assert '<span class="delta delta-better">−1</span>' in table
    better = fixture_previous()
    better["budget"]["old"] = {**better["budget"]["old"], "waste_share": 0.5}
    better["budget"]["change"]["waste_share"] = BUDGET["waste_share"] - 0.5
    files = render(tmp_path, previous=better)
    assert '<span class="delta delta-better">−11.5 pts</span>' in _since_section(files)


def test_summary_cards_show_the_change_since_the_last_crawl(compared):
    html = compared["report.html"].read_text(encoding="utf-8")
    cards = re.search(r'<div class="cards">.*?<div class="split">', html, re.S).group(0)
    assert [_text(note) for note in re.findall(r'<p class="card-delta">.*?</p>', cards, re.S)] == [
        "+1 since crawl #6", "−1 since crawl #6", "+13.5 pts since crawl #6", "3 new · 2 fixed since crawl #6"]
    assert '<span class="delta delta-worse">3 new</span>' in cards
    assert '<span class="delta delta-better">2 fixed</span>' in cards


def test_long_change_lists_point_to_compare_csv(tmp_path):
    previous = fixture_previous()
    previous["appeared"] = [f"{SITE}/new/{i:02d}" for i in range(25)]
    previous["status_changes"] = [{"url": f"{SITE}/p/{i:02d}", "old": 200, "new": 404} for i in range(30)]
    files = render(tmp_path, previous=previous)
    section = _since_section(files)
    assert len(_table_rows(section, "status-changes")) == 20
    assert "Showing 20 of 30; every one is in compare.csv" in _text(section)
    appeared = re.search(r'<div class="panel" id="appeared">.*?</div>', section, re.S).group(0)
    assert len(re.findall(r"<li>", appeared)) == 20
    assert "and 5 more in compare.csv" in _text(appeared)
    assert len(pd.read_csv(files["compare.csv"]).query("change == 'url-appeared'")) == 25


def test_previous_goes_to_summary_json_and_compare_csv(compared):
    summary = json.loads(compared["summary.json"].read_text())
    assert summary["previous"] == json.loads(json.dumps(fixture_previous()))
    assert "compare.csv" in summary["files"]
    changes = pd.read_csv(compared["compare.csv"])
    assert changes["change"].value_counts().to_dict() == {
        "status-changed": 5, "finding-new": 3, "url-disappeared": 3, "finding-fixed": 2, "url-appeared": 2,
        "waste-share": 1}


def test_no_since_last_crawl_without_previous(outputs, html):
    assert 'id="since-last-crawl"' not in html and "since crawl #" not in html
    assert "compare.csv" not in outputs


def test_a_crawl_without_findings_renders(tmp_path):
    empty = fixture_findings().iloc[0:0]
    files = write_outputs(tmp_path, fixture_crawl(), empty, RULES, BUDGET)
    html = files["report.html"].read_text()
    assert 'id="findings"' not in html and 'id="pages"' in html
    assert pd.read_csv(files["findings.csv"]).empty


def test_incomplete_crawl_and_unknown_rule_still_render(tmp_path):
    crawl = fixture_crawl()
    crawl.meta["state"] = "incomplete"
    findings = fixture_findings()
    findings.loc[findings["rule"] == "redirect", "rule"] = "rule-from-a-plugin"
    write_outputs(tmp_path, crawl, findings, RULES, BUDGET)
    html = (tmp_path / "report.html").read_text()
    assert "This crawl is <strong>incomplete</strong>" in html
    section = _rule_section(html, "rule-from-a-plugin")
    assert "<h3>rule-from-a-plugin</h3>" in section  # no words known: the id is the title
    assert (tmp_path / "findings-rule-from-a-plugin.csv").exists()


def test_an_empty_crawl_renders(tmp_path):
    crawl = fixture_crawl()
    crawl.pages, crawl.links, crawl.rechecks = (frame.iloc[0:0] for frame in (crawl.pages, crawl.links, crawl.rechecks))
    files = write_outputs(tmp_path, crawl, fixture_findings().iloc[0:0], RULES, {})
    assert set(files) == {"report.html", "pages.csv", "links.csv", "findings.csv", "summary.json", "report.xlsx"}
    assert json.loads(files["summary.json"].read_text())["pages"]["total"] == 0


def test_public_surface():
    import reports

    assert reports.__all__ == ["BrandingError", "OutputsMissing", "export_pages_csv", "write_outputs"]


def test_links_csv_by_duckdb_is_write_csv_of_the_masked_frame(tmp_path):
    """links.csv, written by DuckDB from the crawl's links where they are, has the bytes of
    write_csv of the masked frame: masked alike (one Masks), neutralised and quoted alike."""
    from audit.graph import LinkGraph
    from reports import exports
    from reports.safe import redact_frame, write_csv

    kelvin = f"{SITE}/a?\u212aey=secret"  # the Kelvin sign: Python's IGNORECASE reads it as k
    urls = pd.CategoricalDtype([f"{SITE}/", f"{SITE}/a?token=1", f"{SITE}/a?token=2", "=cmd", STAGING, kelvin,
                                f"{SITE}/a?TOKEN=3&x=1", f"{SITE}/a?tokens=4"])
    links = pd.DataFrame({
        "source": pd.Categorical.from_codes([0, 0, 1, 3, 4, 2, 0, 5, 6], dtype=urls),
        "target": pd.Categorical.from_codes([1, 2, 3, 4, 0, -1, 2, 6, 7], dtype=urls),
        "kind": pd.Categorical(["a", "a", "img", "canonical", "a", "a", "redirect", "a", "a"]),
        "anchor": pd.Categorical(["x", None, "-1", 'say "hi"', "line\rbreak", "", None, STAGING, "@x"]),
        "nofollow": [False, True, False, False, True, False, False, False, True],
        "seen_in": pd.Categorical(["raw", "both", "rendered", "raw", "raw", "both", "raw", "raw", "raw"])})
    expected = write_csv(tmp_path / "frame.csv", redact_frame(links), bom=True).read_bytes()
    written = exports.write_links_csv(tmp_path / "links.csv", LinkGraph.from_frame(links), bom=True)
    assert written.read_bytes() == expected
    assert b"token=1" not in expected and b"secret" not in expected and b"TOKEN=3" not in expected
    assert b"tokens=4" in expected  # not a secret parameter

