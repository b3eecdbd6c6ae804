"""Crawl a real WordPress blog (bench/wordpress_site.py) with and without URL-family sampling, in
one run, and print our requests per indexable page found (target: under 2).

    flock /tmp/bench.lock python bench/wordpress_bench.py [--posts 300] [--concurrency 5]

Each crawl is `seo-audit crawl ORIGIN/ --out DIR --no-report` (the audit runs, the report is not
written) in its own process, first `--no-sampling` (every member of every family fetched), then
the default (families sampled). Requests are counted by the server: PHP's built-in server closes
every connection, so each "Accepted" line of its log is one request. Indexable pages are the
audit's (unique indexable HTML pages, as the report's budget counts them). Also checked: the crawl
ended by itself (state complete) and every published post and page was fetched with a 200.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

from wordpress_site import WordPressSite  # noqa: E402

MODES = {"--no-sampling": ["--no-sampling"], "sampling (default)": []}


def server_requests(site: WordPressSite) -> int:
    with open(os.path.join(site.work, "php-server.log"), errors="replace") as fh:
        return sum(1 for line in fh if line.rstrip().endswith(" Accepted"))


def crawl_facts(store: str, manifest: dict[str, list[str]]) -> dict:
    """What one crawl found: its state, the audit's budget, and the posts and pages it fetched."""
    from crawler.store import budget_of

    conn = sqlite3.connect(store)
    try:
        crawl_id, state = conn.execute("SELECT id, state FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
        statuses = dict(conn.execute("SELECT url, status FROM pages WHERE crawl_id = ?", (crawl_id,)))
        budget = budget_of(conn, crawl_id) or {}
    finally:
        conn.close()
    wanted = manifest["posts"] + manifest["pages"]
    return {"state": state, "budget": budget, "found": sum(statuses.get(url) == 200 for url in wanted),
            "wanted": len(wanted), "missing": [url for url in wanted if statuses.get(url) != 200]}


def run(site: WordPressSite, work: str, label: str, flags: list[str], concurrency: int) -> dict:
    out = os.path.join(work, label.split()[0].strip("-"))
    before = server_requests(site)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "seo_audit", "crawl", site.origin + "/", "--out", out,
                           "--no-report", "--quiet", "--concurrency", str(concurrency), *flags],
                          capture_output=True, text=True, cwd=REPO, timeout=3600)
    seconds = time.monotonic() - started
    time.sleep(0.5)  # the server logs a connection as it accepts it; let the last lines land
    facts = crawl_facts(os.path.join(out, "seo-audit.sqlite"), site.manifest)
    budget = facts["budget"]
    requests = server_requests(site) - before
    return {"mode": label, "exit": done.returncode, "requests": requests,
            "indexable": budget.get("indexable", 0), "fetched": budget.get("fetched", 0),
            "per_indexable": requests / max(1, budget.get("indexable", 0)),
            "sampled_out": budget.get("sampled_out", 0), "family_share": budget.get("family_share", 0.0),
            "families": [f"{f['family']} {f['fetched']}+{f['sampled_out']}" for f in budget.get("families", [])],
            "found": f"{facts['found']}/{facts['wanted']}", "missing": facts["missing"][:5],
            "state": facts["state"], "seconds": seconds, "stderr": done.stderr[-2000:] if done.returncode else ""}


def table(rows: list[dict]) -> str:
    lines = ["| crawl | our requests | indexable pages found | requests per indexable page | "
             "posts and pages found | URLs sampled out | share of fetches to flagged families | "
             "crawl state | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['requests']:,} | {r['indexable']:,} | {r['per_indexable']:.2f} | "
                     f"{r['found']} | {r['sampled_out']:,} | {r['family_share']:.0%} | {r['state']} | "
                     f"{r['seconds']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=5, help="ours' default")
    parser.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wordpress-bench-") as work:
        started = time.monotonic()
        with WordPressSite(os.path.join(work, "site"), posts=args.posts, seed=args.seed) as site:
            print(f"WordPress {site.origin}: {len(site.manifest['posts'])} posts, "
                  f"{len(site.manifest['pages'])} pages, set up in {time.monotonic() - started:.0f} s",
                  flush=True)
            rows = []
            for label, flags in MODES.items():
                rows.append(run(site, work, label, flags, args.concurrency))
                print(json.dumps(rows[-1]), flush=True)
    text = table(rows)
    print(text)
    before, after = rows
    print(f"requests per indexable page: {before['per_indexable']:.2f} -> {after['per_indexable']:.2f} "
          f"({after['requests'] / max(1, before['requests']):.0%} of the requests)")
    os.makedirs(args.results_dir, exist_ok=True)
    with open(os.path.join(args.results_dir, "wordpress.md"), "w") as fh:
        fh.write(text + "\n")
    ok = all(r["exit"] == 0 and r["state"] == "complete" and not r["missing"] for r in rows)
    return 0 if ok and after["per_indexable"] < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
