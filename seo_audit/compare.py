"""What changed between two crawls of a site: findings, URL answers, URLs, crawl-budget waste.

``compare_crawls(old, new)`` takes two loaded crawls (``audit.load_crawl``, or the outlines
``load_for_compare`` gives) whose ``findings`` are their audits, and returns a plain, JSON-ready dict, the same one `seo-audit compare`
prints and exports and `seo-audit crawl` hands to the report as ``previous``::

    {
      "old": {"crawl_id": 11, "job": "nightly", "start_url": "https://example.com/",
              "started_at": 1764054000.0, "finished_at": 1764054100.0, "state": "complete"},
      "new": {... the same keys ...},
      "findings": {
        "new": 3, "fixed": 1, "persisting": 40,             # totals over all rules
        "borderline": 1, "not_compared": 0,
        "by_rule": {                                        # rules with any finding in either crawl
          "crawlable-202": {"severity": "critical",          # in the new crawl, else the old one
                            "new": ["https://example.com/a"],       # URLs, sorted
                            "fixed": [], "persisting": 0,           # a count
                            "borderline": [], "not_compared": 0},   # URLs; a count
          ...
        }
      },
      "status_changes": [{"url": "https://example.com/a", "old": 200, "new": 202}, ...],
      "appeared": ["https://example.com/new-page", ...],    # recorded only in the new crawl
      "disappeared": ["https://example.com/old", ...],      # recorded only in the old crawl
      "budget": {"old": {<audit.crawl_budget>}, "new": {...},
                 "change": {"fetched": 2, "wasted": 1, "waste_share": 0.05,
                            "by_cause": {"redirects": -1, "errors": 1, ...}}},
      "googlebot": {"old": {"fetched": 900, "wasted": 300, "waste_share": 0.33, "by_cause": {...}},
                    "new": {...}, "change": {... as budget's}}   # only when both crawls had logs
      "segments": {                                         # audit.segments, in either crawl
        "/blog/": {"old": {"urls": 10, "fetched": 10, "wasted": 1, "waste_share": 0.1, "findings": 4},
                   "new": {... the same keys ...},          # null: not in that crawl
                   "change": {"waste_share": 0.05, "wasted": 1, "findings": 2,
                              "by_rule": {"missing-title": 2, ...}},    # rules whose count changed
                   "changed": true},                        # its waste share or a rule's count changed
        ...
      }
    }

A finding is identified by (rule, URL): its evidence text may change (a response time) while
the problem stays. A URL's answer is its final status code, else its network error (e.g.
"timeout"), else null (recorded but not fetched: blocked, out of scope...).

Two kinds of change are not counted as new (nor fixed), so that ``--fail-on new`` fails a
deploy on regressions, not on noise:

borderline
    a timing rule's new finding (audit.rules.performance.TIMING_RULES) whose measures are past
    the thresholds in force by less than the rule's ``new_margin`` (25%: 0.8 to 1.0 s for
    slow-response; for slow-render, LCP, load and CLS each). Timings vary from run to run; a
    page slow in the previous crawl too persists, one clearly past a threshold is new at once.
not_compared
    a finding on a URL the other crawl did not judge because of its own bounds: recorded
    there as skipped for ``max-pages`` or ``trap`` (which URLs a bounded crawl reaches depends
    on the order answers come in), or not recorded at all by a crawl cut short by a limit; or
    a log rule's finding (audit.rules.logs) when the other run had no server logs.

A crawl whose stored audit ran other rules than the comparison's is audited again first (see
``load_for_compare``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

import pandas as pd

from audit import AuditConfig, CrawlOutline, crawl_budget, load_crawl, load_outline, run_audit
from audit.engine import pages_read
from audit.load import OUTLINE_PAGE_COLUMNS
from audit.rules import RULES_BY_ID
from audit.rules.logs import CATEGORY as LOGS
from audit.rules.performance import TIMING_RULES
from crawler import store as crawl_store
from crawler.parallel import in_new_process
from reports.compare_csv import change_rows
from reports.safe import write_csv

#: skip reasons that say nothing of a URL, only where a bounded crawl stopped
LIMIT_SKIPS = ("max-pages", "trap")


def compare_crawls(old: Any, new: Any, audit: AuditConfig | None = None) -> dict[str, Any]:
    """The changes from crawl ``old`` to crawl ``new`` (see the module docstring for the shape);
    ``audit`` gives the thresholds in force (default: the rules' own)."""
    old_answers, new_answers = _answers(old.pages), _answers(new.pages)
    old_budget, new_budget = _budget(old), _budget(new)
    comparison = {
        "old": _crawl_meta(old),
        "new": _crawl_meta(new),
        "findings": _finding_changes(old, new, audit or AuditConfig()),
        "status_changes": [{"url": url, "old": old_answers[url], "new": new_answers[url]}
                           for url in sorted(old_answers.keys() & new_answers.keys())
                           if old_answers[url] != new_answers[url]],
        "appeared": sorted(new_answers.keys() - old_answers.keys()),
        "disappeared": sorted(old_answers.keys() - new_answers.keys()),
        "budget": {"old": old_budget, "new": new_budget, "change": _budget_change(old_budget, new_budget)},
        "segments": segment_changes(old_budget.get("segments") or {}, new_budget.get("segments") or {}),
    }
    old_logs, new_logs = _googlebot(old), _googlebot(new)
    if old_logs and new_logs:
        comparison["googlebot"] = {"old": old_logs, "new": new_logs,
                                   "change": _budget_change(old_logs, new_logs)}
    return comparison


def _googlebot(crawl: Any) -> dict[str, Any] | None:
    """Googlebot's crawl budget from the server logs joined with the crawl (audit.logs): attached
    to a crawl just audited, or as the store kept it (load_for_compare); None without logs."""
    logs = getattr(crawl, "logs", None)
    summary = logs.headline() if logs is not None else getattr(crawl, "log_summary", None)
    if not summary:
        return None
    budget = summary["googlebot"]
    return {"fetched": budget["hits"], "wasted": budget["wasted"], "waste_share": budget["waste_share"],
            "by_cause": budget["by_cause"]}


def load_for_compare(store: str | Path, crawl_id: int, audit: AuditConfig | None = None) -> Any:
    """Crawl ``crawl_id`` as compare_crawls needs it: its outline (no links; a million-URL
    crawl in seconds) when its audit stored the budget, else the whole crawl; with the logs'
    headline figures its audit kept (``log_summary``, None without logs).

    With ``audit`` (the rules in force), a crawl whose stored audit ran other rules (an earlier
    release's, other thresholds) is audited again with ``audit``, in a new process, so that a
    comparison sets like against like: a rule added by an upgrade is no regression of the site."""
    outline = load_outline(store, crawl_id)
    if audit is None:
        crawl = outline or load_crawl(store, crawl_id)
    elif outline is not None and outline.rules == rules_signature(audit):
        crawl = outline
    else:
        crawl = in_new_process(reaudited_outline, store, crawl_id, audit)()
    conn = crawl_store.connect(store, readonly=True)
    try:
        crawl.log_summary = crawl_store.log_summary_of(conn, crawl_id)
    finally:
        conn.close()
    return crawl


def rules_signature(audit: AuditConfig) -> str:
    """A digest of the rules ``audit`` runs: ids, severities, thresholds and their checks' code."""
    rules = [(rule.id, severity, sorted(thresholds.items()), _source(rule.check))
             for rule, severity, thresholds in audit.active()]
    return hashlib.sha256(json.dumps(rules, default=str).encode()).hexdigest()[:32]


def _source(check: Any) -> str:
    try:
        return inspect.getsource(check)
    except (OSError, TypeError):  # no source shipped: its bytecode still tells versions apart
        return check.__code__.co_code.hex()


def reaudited_outline(store: str | Path, crawl_id: int, audit: AuditConfig) -> CrawlOutline:
    """The outline of crawl ``crawl_id`` with the findings and budget of ``audit`` run on it now;
    its log rules' findings as stored (its logs are not kept), for the log rules still enabled."""
    crawl = load_crawl(store, crawl_id, memory_budget=audit.memory_budget,
                       columns={*pages_read(audit), *OUTLINE_PAGE_COLUMNS})
    in_force = {rule.id: severity for rule, severity, _ in audit.active()}
    stored = crawl.findings[crawl.findings["category"].eq(LOGS) & crawl.findings["rule"].isin(in_force)]
    findings = pd.concat([run_audit(crawl, audit), stored.assign(severity=stored["rule"].map(in_force))],
                         ignore_index=True)
    return CrawlOutline(crawl.crawl_id, crawl.meta, crawl.pages[list(OUTLINE_PAGE_COLUMNS)].copy(), findings,
                        crawl_budget(crawl, findings), rules_signature(audit))


def _budget(crawl: Any) -> dict[str, Any]:
    """The crawl budget an outline carries, else computed from the crawl and its findings."""
    return crawl.budget if isinstance(crawl, CrawlOutline) else crawl_budget(crawl, crawl.findings)


def _crawl_meta(crawl: Any) -> dict[str, Any]:
    meta = crawl.meta
    return {"crawl_id": crawl.crawl_id, "job": meta.get("job"), "start_url": meta.get("start_url"),
            "started_at": meta.get("started_at"), "finished_at": meta.get("finished_at"),
            "state": meta.get("state")}


def _answers(pages: pd.DataFrame) -> dict[str, int | str | None]:
    """Per URL: final status (int), else network error, else None. A dict, not a Series: in
    pandas None != None, and two unfetched answers are the same answer."""
    return {url: int(status) if pd.notna(status) else (error if isinstance(error, str) else None)
            for url, status, error in zip(pages["url"], pages["status"], pages["error"])}


def _finding_changes(old: Any, new: Any, audit: AuditConfig) -> dict[str, Any]:
    keys = ["rule", "url"]
    merged = pd.merge(old.findings[keys + ["severity"]].drop_duplicates(keys),
                      new.findings[keys + ["severity"]].drop_duplicates(keys),
                      on=keys, how="outer", suffixes=("_old", "_new"), indicator=True)
    change = merged["_merge"].map({"right_only": "new", "left_only": "fixed", "both": "persisting"}).astype(object)
    change[change.eq("new") & _unjudged(old, merged["url"])] = "not_compared"
    change[change.eq("fixed") & _unjudged(new, merged["url"])] = "not_compared"
    from_logs = merged["rule"].map(lambda rule: getattr(RULES_BY_ID.get(rule), "category", None) == LOGS)
    if _googlebot(old) is None:  # what the logs say now is no change of the site
        change[change.eq("new") & from_logs] = "not_compared"
    if _googlebot(new) is None:
        change[change.eq("fixed") & from_logs] = "not_compared"
    change[change.eq("new") & _borderline(new, merged, audit)] = "borderline"
    merged["change"] = change
    merged["severity"] = merged["severity_new"].fillna(merged["severity_old"])
    by_rule = {}
    for rule, rows in merged.sort_values(keys).groupby("rule", sort=True):
        urls = {kind: rows.loc[rows["change"].eq(kind), "url"].tolist() for kind in ("new", "fixed", "borderline")}
        by_rule[str(rule)] = {
            "severity": str(rows["severity"].iloc[0]),
            "new": urls["new"], "fixed": urls["fixed"],
            "persisting": int(rows["change"].eq("persisting").sum()),
            "borderline": urls["borderline"],
            "not_compared": int(rows["change"].eq("not_compared").sum()),
        }
    totals = merged["change"].value_counts()
    return {**{kind: int(totals.get(kind, 0)) for kind in ("new", "fixed", "persisting", "borderline",
                                                           "not_compared")},
            "by_rule": by_rule}


def _unjudged(crawl: Any, urls: pd.Series) -> pd.Series:
    """Whether ``crawl`` left each URL unjudged because of its bounds (see LIMIT_SKIPS)."""
    pages = crawl.pages
    skip = urls.map(dict(zip(pages["url"], pages["skip_reason"])))
    bounded = crawl.meta.get("state") == "stopped-at-limit" or pages["skip_reason"].isin(LIMIT_SKIPS).any()
    return skip.isin(LIMIT_SKIPS) | (~urls.isin(pages["url"]) & bounded)


def _borderline(new: Any, merged: pd.DataFrame, audit: AuditConfig) -> pd.Series:
    """Whether each finding is a timing rule's, within its ``new_margin`` of the threshold in force."""
    borderline = pd.Series(False, index=merged.index)
    thresholds = {rule.id: t for rule, _, t in audit.active()}
    pages = new.pages.set_index("url")
    for rule_id, judged in TIMING_RULES.items():
        rows = merged["rule"].eq(rule_id)
        if rule_id not in thresholds or not rows.any():
            continue
        t = thresholds[rule_id]
        urls = merged.loc[rows, "url"]
        clearly = pd.Series(False, index=urls.index)
        for name, measure in judged:
            clearly |= urls.map(measure(pages)).gt(t[name] * (1 + t["new_margin"]))
        borderline[rows] = ~clearly
    return borderline


def _budget_change(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {
        "fetched": new["fetched"] - old["fetched"],
        "wasted": new["wasted"] - old["wasted"],
        "waste_share": new["waste_share"] - old["waste_share"],
        "by_cause": {cause: new["by_cause"][cause] - old["by_cause"].get(cause, 0)
                     for cause in new["by_cause"]},
    }


def segment_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Per segment of either crawl's budget (audit.segments.segment_budget): its figures in each
    and the change (a segment one crawl lacks counts as zero there)."""
    def figures(entry: dict[str, Any] | None) -> dict[str, Any] | None:
        if entry is None:
            return None
        return {**{key: entry[key] for key in ("urls", "fetched", "wasted", "waste_share")},
                "findings": int(sum(entry.get("findings", {}).values()))}

    changes = {}
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        rules_before = (before or {}).get("findings", {})
        rules_after = (after or {}).get("findings", {})
        by_rule = {rule: rules_after.get(rule, 0) - rules_before.get(rule, 0)
                   for rule in sorted(rules_before.keys() | rules_after.keys())}
        was, now = figures(before), figures(after)
        change = {key: (now or {}).get(key, 0) - (was or {}).get(key, 0) for key in ("waste_share", "wasted", "findings")}
        change["by_rule"] = {rule: n for rule, n in by_rule.items() if n}
        changes[name] = {"old": was, "new": now, "change": change,
                         "changed": bool(change["waste_share"] or change["by_rule"])}
    return changes


def write_comparison(out_dir: str | Path, comparison: dict[str, Any]) -> dict[str, Path]:
    """compare.json (the whole dict) and compare.csv (change_rows) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "compare.json"
    json_path.write_text(json.dumps(comparison, indent=2, default=str), encoding="utf-8")
    return {"compare.json": json_path, "compare.csv": write_csv(out / "compare.csv", change_rows(comparison))}
