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
        "by_rule": {                                        # rules with any finding in either crawl
          "crawlable-202": {"severity": "critical",          # in the new crawl, else the old one
                            "new": ["https://example.com/a"],       # URLs, sorted
                            "fixed": [], "persisting": 0},          # a count
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
    }

A finding is identified by (rule, URL): its evidence text may change (a response time) while
the problem stays. A URL's answer is its final status code, else its network error (e.g.
"timeout"), else null (recorded but not fetched: blocked, out of scope...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from audit import CrawlOutline, crawl_budget, load_crawl, load_outline
from crawler import store as crawl_store
from reports.safe import write_csv

#: compare.csv columns: one row per change
CSV_COLUMNS = ["change", "rule", "severity", "url", "old", "new"]


def compare_crawls(old: Any, new: Any) -> dict[str, Any]:
    """The changes from crawl ``old`` to crawl ``new`` (see the module docstring for the shape)."""
    old_answers, new_answers = _answers(old.pages), _answers(new.pages)
    old_budget, new_budget = _budget(old), _budget(new)
    comparison = {
        "old": _crawl_meta(old),
        "new": _crawl_meta(new),
        "findings": _finding_changes(old.findings, new.findings),
        "status_changes": [{"url": url, "old": old_answers[url], "new": new_answers[url]}
                           for url in sorted(old_answers.keys() & new_answers.keys())
                           if old_answers[url] != new_answers[url]],
        "appeared": sorted(new_answers.keys() - old_answers.keys()),
        "disappeared": sorted(old_answers.keys() - new_answers.keys()),
        "budget": {"old": old_budget, "new": new_budget, "change": _budget_change(old_budget, new_budget)},
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


def load_for_compare(store: str | Path, crawl_id: int) -> Any:
    """Crawl ``crawl_id`` as compare_crawls needs it: its outline (no links; a million-URL
    crawl in seconds) when its audit stored the budget, else the whole crawl."""
    crawl = load_outline(store, crawl_id) or load_crawl(store, crawl_id)
    conn = crawl_store.connect(store, readonly=True)
    try:
        crawl.log_summary = crawl_store.log_summary_of(conn, crawl_id)
    finally:
        conn.close()
    return crawl


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


def _finding_changes(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, Any]:
    keys = ["rule", "url"]
    merged = pd.merge(old[keys + ["severity"]].drop_duplicates(keys),
                      new[keys + ["severity"]].drop_duplicates(keys),
                      on=keys, how="outer", suffixes=("_old", "_new"), indicator=True)
    merged["change"] = merged["_merge"].map({"right_only": "new", "left_only": "fixed", "both": "persisting"})
    merged["severity"] = merged["severity_new"].fillna(merged["severity_old"])
    by_rule = {}
    for rule, rows in merged.sort_values(keys).groupby("rule", sort=True):
        by_rule[str(rule)] = {
            "severity": str(rows["severity"].iloc[0]),
            "new": rows.loc[rows["change"].eq("new"), "url"].tolist(),
            "fixed": rows.loc[rows["change"].eq("fixed"), "url"].tolist(),
            "persisting": int(rows["change"].eq("persisting").sum()),
        }
    totals = merged["change"].value_counts()
    return {"new": int(totals.get("new", 0)), "fixed": int(totals.get("fixed", 0)),
            "persisting": int(totals.get("persisting", 0)), "by_rule": by_rule}


def _budget_change(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {
        "fetched": new["fetched"] - old["fetched"],
        "wasted": new["wasted"] - old["wasted"],
        "waste_share": new["waste_share"] - old["waste_share"],
        "by_cause": {cause: new["by_cause"][cause] - old["by_cause"].get(cause, 0)
                     for cause in new["by_cause"]},
    }


def change_rows(comparison: dict[str, Any]) -> pd.DataFrame:
    """One row per change, CSV_COLUMNS: new and fixed findings, status changes, URLs that
    appeared or disappeared, and the waste change (persisting findings are counted, not listed)."""
    rows = []
    for rule, changes in comparison["findings"]["by_rule"].items():
        for kind in ("new", "fixed"):
            rows += [(f"finding-{kind}", rule, changes["severity"], url, None, None) for url in changes[kind]]
    # answers as text: a status column of numbers and None would be written as 200.0
    rows += [("status-changed", None, None, c["url"], _text(c["old"]), _text(c["new"]))
             for c in comparison["status_changes"]]
    rows += [("url-appeared", None, None, url, None, None) for url in comparison["appeared"]]
    rows += [("url-disappeared", None, None, url, None, None) for url in comparison["disappeared"]]
    budget = comparison["budget"]
    rows.append(("waste-share", None, None, None, round(budget["old"]["waste_share"], 4),
                 round(budget["new"]["waste_share"], 4)))
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def _text(answer: int | str | None) -> str | None:
    return None if answer is None else str(answer)


def write_comparison(out_dir: str | Path, comparison: dict[str, Any]) -> dict[str, Path]:
    """compare.json (the whole dict) and compare.csv (change_rows) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "compare.json"
    json_path.write_text(json.dumps(comparison, indent=2, default=str), encoding="utf-8")
    return {"compare.json": json_path, "compare.csv": write_csv(out / "compare.csv", change_rows(comparison))}
