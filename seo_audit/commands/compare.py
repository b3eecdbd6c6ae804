"""`seo-audit compare [OLD] NEW`: what changed between two stored crawls (seo_audit.compare),
printed, as JSON, or written to compare.csv and compare.json."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from seo_audit.exit_codes import ExitCode
from seo_audit.flags import add_store_args, stored_job

#: how many URLs `compare` prints per list before pointing to compare.csv
SHOWN_URLS = 20


def add_parser(verbs) -> None:
    compare = verbs.add_parser(
        "compare", help="what changed between two crawls: findings, statuses, URLs, crawl budget",
        description="No id: the newest finished crawl (of --job) against the previous one of its "
                    "job. One id: that crawl against the previous one of its job. Two: OLD NEW.")
    add_store_args(compare)
    compare.add_argument("ids", nargs="*", type=int, metavar="[OLD] NEW", help="crawl ids (see history)")
    compare.add_argument("--out", type=Path, help="write compare.csv and compare.json here")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ExitCode:
    from crawler import store
    from seo_audit import jobs
    from reports.safe import redact_value
    from seo_audit.compare import compare_crawls, load_for_compare, write_comparison

    job = stored_job(args, parser)
    if len(args.ids) > 2:
        parser.error("compare takes at most two crawl ids: OLD NEW")
    conn = store.connect(job.store, readonly=True)
    try:
        new_id = args.ids[-1] if args.ids else jobs.latest_finished_crawl(conn, job.name)
        if new_id is None:
            parser.error("no finished crawl in the store" + (f" for job {job.name}" if job.name else ""))
        old_id = args.ids[0] if len(args.ids) == 2 else jobs.previous_crawl(conn, new_id)
        if old_id is None:
            parser.error(f"crawl {new_id} has no earlier finished crawl of its job to compare with")
    except LookupError as exc:
        parser.error(str(exc))
    finally:
        conn.close()
    try:
        # masked like every other output: URLs may carry credentials
        comparison = redact_value(compare_crawls(load_for_compare(job.store, old_id, job.audit),
                                                 load_for_compare(job.store, new_id, job.audit), job.audit))
    except LookupError as exc:
        parser.error(str(exc))
    if args.out:
        written = write_comparison(args.out, comparison)
        print(f"wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    if args.json:
        print(json.dumps(comparison, default=str))
    else:
        print_comparison(comparison)
    return ExitCode.OK


def print_comparison(comparison: dict[str, Any]) -> None:
    findings, budget = comparison["findings"], comparison["budget"]
    print(f"crawl {comparison['old']['crawl_id']} -> crawl {comparison['new']['crawl_id']} of "
          f"{comparison['new']['start_url']}: {findings['new']} new findings, {findings['fixed']} fixed, "
          f"{findings['persisting']} persisting"
          + (f" ({findings['borderline']} borderline timings and {findings['not_compared']} findings on URLs "
             "only one crawl judged: not counted)" if findings["borderline"] or findings["not_compared"] else ""))
    changed_rules = {rule: c for rule, c in findings["by_rule"].items() if c["new"] or c["fixed"]}
    if changed_rules:
        print(f"  {'rule':<40}{'severity':<10}{'new':>6}{'fixed':>7}{'persisting':>12}")
        for rule, c in changed_rules.items():
            print(f"  {rule:<40}{c['severity']:<10}{len(c['new']):>6}{len(c['fixed']):>7}{c['persisting']:>12}")
    _print_urls("status changed", [f"{c['url']}: {c['old']} -> {c['new']}" for c in comparison["status_changes"]])
    _print_urls("appeared", comparison["appeared"])
    _print_urls("disappeared", comparison["disappeared"])
    old, new = budget["old"], budget["new"]
    print(f"crawl-budget waste: {old['waste_share']:.0%} -> {new['waste_share']:.0%} "
          f"({budget['change']['waste_share'] * 100:+.0f} points); wasted URLs {old['wasted']} -> {new['wasted']}")
    if "googlebot" in comparison:
        old, new = comparison["googlebot"]["old"], comparison["googlebot"]["new"]
        print(f"Googlebot's waste (server logs): {old['waste_share']:.0%} -> {new['waste_share']:.0%} "
              f"({comparison['googlebot']['change']['waste_share'] * 100:+.0f} points); wasted hits "
              f"{old['wasted']} -> {new['wasted']}")
    _print_segment_changes(comparison.get("segments", {}))


def _print_segment_changes(segments: dict[str, Any]) -> None:
    """The segments whose waste or findings changed: one line each."""
    changed = {name: s for name, s in segments.items() if s["changed"]}
    print(f"segments changed: {len(changed)} of {len(segments)}")
    for name, segment in list(changed.items())[:SHOWN_URLS]:
        was, now, change = segment["old"] or {}, segment["new"] or {}, segment["change"]
        rules = ", ".join(f"{rule} {n:+d}" for rule, n in change["by_rule"].items())
        print(f"  {name}: waste {was.get('waste_share', 0):.0%} -> {now.get('waste_share', 0):.0%}, "
              f"findings {was.get('findings', 0)} -> {now.get('findings', 0)}" + (f" ({rules})" if rules else ""))
    if len(changed) > SHOWN_URLS:
        print(f"  ... and {len(changed) - SHOWN_URLS} more (compare --out DIR writes them all to compare.csv)")


def _print_urls(title: str, lines: list[str]) -> None:
    print(f"{title}: {len(lines)}")
    for line in lines[:SHOWN_URLS]:
        print(f"  {line}")
    if len(lines) > SHOWN_URLS:
        print(f"  ... and {len(lines) - SHOWN_URLS} more (compare --out DIR writes them all to compare.csv)")
