"""The engine (configuration, findings, storage, summary), the crawl budget and the public API."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import audit
from audit import AuditConfig, crawl_budget, load_crawl, run_audit, save_findings, summary_by_severity
from audit.load import ARROW_TEXT
from crawler import store
from tests.rule_frames import make_crawl, page, skipped, u

PLANTED = [page("/sale", status=202), page("/gone", status=404), page("/slow", response_time=3.0),
           page("/old", status=301, redirect_target="/shoes", content_type=None, canonical=None)]


def test_public_surface():
    assert sorted(audit.__all__) == sorted(["load_crawl", "load_outline", "Crawl", "CrawlOutline", "run_audit",
                                            "AuditConfig", "RULES", "Rule", "crawl_budget", "save_findings",
                                            "summary_by_severity", "load_logs", "query"])
    assert all(hasattr(audit, name) for name in audit.__all__)


def test_run_audit_gives_sorted_findings_with_every_column():
    findings = run_audit(make_crawl(pages=PLANTED))
    assert list(findings.columns) == ["crawl_id", "rule", "severity", "category", "url", "evidence"]
    rank = findings["severity"].map({"critical": 0, "warning": 1, "notice": 2})
    assert rank.is_monotonic_increasing
    for severity, group in findings.groupby("severity"):
        assert group["rule"].is_monotonic_increasing
    assert {("crawlable-202", u("/sale")), ("internal-4xx", u("/gone")),
            ("slow-response", u("/slow")), ("internal-link-to-redirect", u("/old"))} <= set(
        zip(findings["rule"], findings["url"]))
    assert findings["crawl_id"].eq(1).all()


def test_the_findings_evidence_is_arrow_text_unless_a_rule_says_what_arrow_cannot_hold():
    findings = run_audit(make_crawl(pages=PLANTED))
    assert findings["evidence"].dtype == ARROW_TEXT and findings["evidence"].array.__arrow_array__().num_chunks == 1
    # crawled text can hold a lone surrogate (a title, quoted by soft-404): then every rule's is Python's
    odd = run_audit(make_crawl(pages=[*PLANTED, page("/lost", title="Page not found \ud800")]))
    assert odd["evidence"].dtype == "str" and odd["evidence"].dtype.storage == "python"
    assert "\ud800" in odd.loc[odd["url"].eq(u("/lost")) & odd["rule"].eq("soft-404"), "evidence"].iloc[0]
    others = odd[odd["url"].ne(u("/lost"))].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, findings.astype({"evidence": "str"}))


def test_a_clean_site_has_no_findings():
    assert run_audit(make_crawl()).empty


def test_an_empty_crawl_audits_to_nothing(tmp_path):
    conn = store.connect(tmp_path / "site.db")
    store.new_crawl(conn, u("/"), {})
    crawl = load_crawl(conn)
    assert crawl.pages.empty and run_audit(crawl).empty


def test_config_disables_rules_changes_severity_and_thresholds():
    crawl = make_crawl(pages=PLANTED + [page("/slowish", response_time=0.5)])
    config = AuditConfig.from_dict({"rules": {
        "internal-4xx": {"enabled": False},
        "crawlable-202": {"severity": "notice"},
        "slow-response": {"max_seconds": 0.4},
    }})
    findings = run_audit(crawl, config)
    assert "internal-4xx" not in set(findings["rule"])
    assert set(findings.loc[findings["rule"].eq("crawlable-202"), "severity"]) == {"notice"}
    assert set(findings.loc[findings["rule"].eq("slow-response"), "url"]) == {u("/slow"), u("/slowish")}
    assert run_audit(crawl, {"rules": {"slow-response": {"max_seconds": 5}}}).query(
        "rule == 'slow-response'").empty


@pytest.mark.parametrize("data, message", [
    ({"rules": {"no-such-rule": {}}}, "unknown rule id 'no-such-rule'"),
    ({"rules": {"slow-response": {"max_secs": 1}}}, "unknown setting 'max_secs' for rule 'slow-response'"),
    ({"rules": {"slow-response": {"severity": "fatal"}}}, "severity must be one of critical"),
    ({"rules": {"slow-response": {"enabled": "no"}}}, "enabled must be true or false"),
    ({"rules": {"deep-page": {"max_depth": 2.5}}}, "rules.deep-page.max_depth must be a int"),
    ({"rules": {"slow-response": {"max_seconds": "fast"}}}, "max_seconds must be a float"),
    ({"rules": ["slow-response"]}, "must be a table"),
])
def test_config_errors_name_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        AuditConfig.from_dict(data)


def test_findings_round_trip_through_the_store(tmp_path):
    path = tmp_path / "site.db"
    conn = store.connect(path)
    crawl_id = store.new_crawl(conn, u("/"), {})
    findings = run_audit(make_crawl(pages=PLANTED))
    save_findings(conn, crawl_id, findings)
    save_findings(conn, crawl_id, findings)  # an audit re-run replaces, never doubles
    stored = load_crawl(conn, crawl_id).findings
    assert len(stored) == len(findings)
    assert set(stored["rule"]) == set(findings["rule"])


def test_store_audit_saves_the_findings_as_save_findings_does(tmp_path, monkeypatch):
    """store_audit's bulk ingest (Arrow batches) stores the rows executemany does, missing texts
    as NULL, replacing the crawl's earlier findings and no other crawl's."""
    from audit.engine import store_audit

    monkeypatch.setattr("audit.engine.FINDINGS_BATCH_ROWS", 2)  # several batches
    path = tmp_path / "site.db"
    conn = store.connect(path)
    crawl_id, other = store.new_crawl(conn, u("/"), {}), store.new_crawl(conn, u("/"), {})
    findings = run_audit(make_crawl(pages=PLANTED))
    findings.loc[0, "evidence"] = None
    findings.loc[1, "category"] = None
    assert len(findings) > 4
    query = "SELECT crawl_id, rule, severity, category, url, evidence FROM findings ORDER BY rowid"
    save_findings(conn, crawl_id, findings)
    expected = conn.execute(query).fetchall()
    save_findings(conn, other, findings.iloc[:1])
    conn.close()
    store_audit(path, crawl_id, findings.iloc[:3], {"wasted": 1})
    store_audit(path, crawl_id, findings, {"wasted": 2})  # replaces the first
    conn = store.connect(path)
    rows = conn.execute(query).fetchall()
    assert [row for row in rows if row[0] == crawl_id] == expected
    assert expected[0][5] is None and expected[1][3] is None
    assert [row[0] for row in rows].count(other) == 1
    assert store.budget_of(conn, crawl_id)["wasted"] == 2


def test_summary_by_severity():
    findings = run_audit(make_crawl(pages=PLANTED))
    summary = summary_by_severity(findings)
    assert list(summary.index) == ["critical", "warning", "notice"]
    assert summary["findings"].sum() == len(findings)
    assert summary.loc["critical", "rules"] == findings.query("severity == 'critical'")["rule"].nunique()
    empty = summary_by_severity(run_audit(make_crawl()))
    assert empty["findings"].eq(0).all()


def test_crawl_budget_counts_each_fetched_url_once():
    crawl = make_crawl(pages=[
        page("/old", status=301, redirect_target="/shoes", canonical=None),  # redirects
        page("/go", meta_refresh="0; url=/shoes", meta_refresh_url="/shoes"),  # redirects: a meta refresh
        page("/gone", status=404),  # errors
        page("/down", status=None, error="timeout"),  # errors
        page("/sale", status=202),  # accepted-202-204
        page("/ni", meta_robots="noindex"),  # noindex
        page("/c1", canonical="/shoes"),  # canonicalised
        page("/c2", canonical="/shoes", meta_robots="noindex"),  # noindex comes first
        page("/shoes-copy", content_hash="hash /shoes"),  # duplicates (/shoes is the copy kept)
        page("/events?month=1", content_hash="e1"), page("/events?month=2", content_hash="e2"),
        skipped("/events?month=3", "trap"),  # trap: the two fetched ones count
        page("/logo.png", fetch_kind="resource", content_type="image/png"),  # other
        skipped("/private/x", "robots"),  # not fetched: not counted
    ])
    budget = crawl_budget(crawl, run_audit(crawl))
    assert budget["by_cause"] == {"redirects": 2, "errors": 2, "accepted-202-204": 1, "blocked": 0,
                                  "noindex": 2, "canonicalised": 1, "duplicates": 1, "trap": 2}
    assert budget["fetched"] == 4 + 12  # the clean shop's four pages, and the twelve fetched above
    assert budget["indexable"] == 4 and budget["other"] == 1
    assert budget["wasted"] == 11 and budget["waste_share"] == pytest.approx(11 / 16)
    assert budget["indexable"] + budget["wasted"] + budget["other"] == budget["fetched"]


def test_crawl_budget_counts_what_rules_declare_as_waste_not_rule_ids(monkeypatch):
    from audit import budget as budget_module
    from audit.rules import RULES, RULES_BY_ID

    source = Path(budget_module.__file__).read_text()
    assert [rule.id for rule in RULES if f'"{rule.id}"' in source] == []
    crawl = make_crawl(pages=[page("/gone-soft", title="Page not found")])  # a soft 404
    findings = run_audit(crawl)
    assert crawl_budget(crawl, findings)["by_cause"]["errors"] == 1
    # the cause comes from the rule's declaration: declared as another cause, it counts there
    monkeypatch.setitem(RULES_BY_ID, "soft-404", dataclasses.replace(RULES_BY_ID["soft-404"], waste="noindex"))
    by_cause = crawl_budget(crawl, findings)["by_cause"]
    assert by_cause["errors"] == 0 and by_cause["noindex"] == 1


def test_crawl_budget_says_how_far_each_rule_reaches():
    home = page("/", found_via="start", depth=0, referrer=None, h1_count=0)
    crawl = make_crawl(pages=[home] + [page(f"/events?month={i}", content_hash=f"e{i}", depth=2)
                                       for i in range(60)])
    budget = crawl_budget(crawl, run_audit(crawl))
    # one crawl-trap finding (the pattern's first URL) touches the pattern's sixty fetches
    assert budget["by_rule"]["crawl-trap"] == {"fetched": 60, "indexable": 60, "share": 60 / 64,
                                               "start_url": False, "applies_to": None}
    missing = budget["by_rule"]["missing-from-sitemap"]
    assert missing["applies_to"] == 64 and missing["start_url"] is False
    assert budget["by_rule"]["missing-h1"] == {"fetched": 1, "indexable": 1, "share": 1 / 64,
                                               "start_url": True, "applies_to": 64}


def test_crawl_budget_of_an_empty_crawl():
    crawl = make_crawl()
    crawl.pages = crawl.pages.iloc[0:0]
    budget = crawl_budget(crawl, pd.DataFrame(columns=["rule", "url"]))
    assert budget["fetched"] == 0 and budget["waste_share"] == 0.0


def test_arrow_memory_comes_from_jemalloc_unless_the_user_chose_a_pool():
    code = "import audit, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    env = {name: value for name, value in os.environ.items() if name != "ARROW_DEFAULT_MEMORY_POOL"}

    def pool(**chosen: str) -> str:
        return subprocess.run([sys.executable, "-c", code], env={**env, **chosen}, capture_output=True,
                              text=True, check=True, timeout=60).stdout.strip()

    assert pool() == "jemalloc" or "jemalloc" not in pa.supported_memory_backends()
    assert pool(ARROW_DEFAULT_MEMORY_POOL="system") == "system"
