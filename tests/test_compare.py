"""compare_crawls on hand-built crawls: findings by (rule, URL), answers, URLs, budget."""

from __future__ import annotations

import json

import pandas as pd

from audit import run_audit
from reports.compare_csv import CSV_COLUMNS, change_rows
from seo_audit.compare import compare_crawls
from tests.rule_frames import make_crawl, page, skipped, u


def audited(crawl):
    crawl.findings = run_audit(crawl)
    return crawl


def test_identical_crawls_change_nothing():
    old, new = audited(make_crawl([page("/slow", response_time=3.0)])), audited(make_crawl([page("/slow", response_time=5.0)]))
    comparison = compare_crawls(old, new)
    assert comparison["findings"]["new"] == comparison["findings"]["fixed"] == 0
    assert comparison["findings"]["persisting"] == len(new.findings) > 0, "evidence text differs, same finding"
    assert comparison["status_changes"] == comparison["appeared"] == comparison["disappeared"] == []
    assert comparison["budget"]["change"]["wasted"] == 0
    json.dumps(comparison)  # plain Python values only: it goes into summary.json as is


def test_answers_urls_and_findings_that_changed():
    old = audited(make_crawl([page("/gone"), page("/flaky"), skipped("/private", "robots")]))
    new = audited(make_crawl([page("/flaky", status=None, error="timeout", attempt_statuses=["timeout"]),
                              page("/fresh"), page("/hats", status=202, attempt_statuses=[202]),
                              skipped("/private", "robots")]))
    comparison = compare_crawls(old, new)
    assert comparison["status_changes"] == [{"url": u("/flaky"), "old": 200, "new": "timeout"},
                                            {"url": u("/hats"), "old": 200, "new": 202}]
    assert comparison["appeared"] == [u("/fresh")] and comparison["disappeared"] == [u("/gone")]
    by_rule = comparison["findings"]["by_rule"]
    assert by_rule["crawlable-202"] == {"severity": "critical", "new": [u("/hats")], "fixed": [], "persisting": 0,
                                        "borderline": [], "not_compared": 0}
    assert u("/flaky") in by_rule["network-error"]["new"]
    assert comparison["findings"]["new"] == sum(len(c["new"]) for c in by_rule.values())
    budget = comparison["budget"]
    assert budget["change"]["by_cause"]["accepted-202-204"] == 1
    assert budget["change"]["waste_share"] == budget["new"]["waste_share"] - budget["old"]["waste_share"]
    json.dumps(comparison)


def test_fixed_findings_keep_their_old_severity():
    old = audited(make_crawl([page("/hats", status=202, attempt_statuses=[202])]))
    comparison = compare_crawls(old, audited(make_crawl()))
    assert comparison["findings"]["by_rule"]["crawlable-202"]["fixed"] == [u("/hats")]
    assert comparison["findings"]["by_rule"]["crawlable-202"]["severity"] == "critical"


def test_change_rows_one_per_change():
    old = audited(make_crawl([page("/gone")]))
    new = audited(make_crawl([page("/hats", status=202, attempt_statuses=[202])]))
    rows = change_rows(compare_crawls(old, new))
    assert list(rows.columns) == CSV_COLUMNS
    kinds = rows["change"].value_counts().to_dict()
    assert kinds["url-disappeared"] == 1 and kinds["status-changed"] == 1 and kinds["waste-share"] == 1
    changed = rows[rows["change"].eq("status-changed")].iloc[0]
    assert (changed["url"], changed["old"], changed["new"]) == (u("/hats"), "200", "202")
    assert ((rows["change"].eq("finding-new")) & rows["rule"].eq("crawlable-202")).any()
    assert pd.isna(rows.loc[rows["change"].eq("url-disappeared"), "rule"]).all()
