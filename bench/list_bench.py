"""List mode benchmark: URLs/s for a list of N URLs spread over H local hosts.

    python bench/list_bench.py                       # 20,000 URLs, 4 hosts, concurrency 32, 8 per host
    python bench/list_bench.py --urls 2000 --rounds 3 --only ours

Each host is a bench/pagegen_server.py process on its own loopback address (127.0.0.2,
127.0.0.3, ...: Scrapy's per-host slots key on the host name, so one address with four ports
would be one slot). The list interleaves the hosts, one URL a line; one in ten is a page the
site does not have (404). Contenders, one at a time, same list, same concurrency:

  ours   seo-audit crawl --list FILE --no-report: robots.txt per host, every URL recorded in
         the store, then the audit (link-graph rules off); "crawl s" is the crawl phase alone
         (from the store), "seconds" the whole command
  bare   scrapy runspider bench/bare_spider.py -a list=FILE: a plain spider yielding url + status
         ("crawl s": Scrapy's elapsed_time_seconds)

Prints a table (URLs/s of the crawl phase, and of the whole command) and the ratio ours/bare of
the crawl phase's URLs/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from pagegen_server import PagegenServer  # noqa: E402

#: one listed URL in this many is a page the site does not have
MISSING_EVERY = 10


def write_list(path: Path, origins: list[str], urls: int, pages: int) -> None:
    lines = []
    for i in range(urls):
        page = i // len(origins)
        if i % MISSING_EVERY == MISSING_EVERY - 1:
            page += pages  # past the site's last page: a 404
        lines.append(f"{origins[i % len(origins)]}{'/' if page == 0 else f'/p/{page}'}\n")
    path.write_text("".join(lines))


def run(cmd: list[str], cwd: Path, timeout: float, env: dict | None = None) -> tuple[float, float, str, str]:
    """(wall seconds, CPU seconds of the child, status, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        status = "ok" if proc.returncode in (0, 1) else f"failed ({proc.returncode})"
        tail = proc.stderr
    except subprocess.TimeoutExpired:
        status, tail = "timeout", ""
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, status, tail


def ours(list_file: Path, work: Path, args) -> dict:
    out = work / "ours"
    wall, cpu, status, tail = run(
        [sys.executable, "-m", "seo_audit", "crawl", "--list", str(list_file), "--out", str(out), "--no-report",
         "--quiet", "--concurrency", str(args.concurrency), "--concurrency-per-host", str(args.per_host),
         "--timeout", "10", "--retries", "0"], REPO, args.timeout)
    row = {"contender": "ours", "seconds": wall, "cpu": cpu, "status": status, "stderr": tail[-2000:]}
    store = out / "seo-audit.sqlite"
    if store.exists():
        conn = sqlite3.connect(store)
        try:
            started, finished = conn.execute("SELECT started_at, finished_at FROM crawls").fetchone()
            row["urls"] = conn.execute("SELECT count(*) FROM pages WHERE found_via = 'list' AND status IS NOT NULL"
                                       ).fetchone()[0]
            row["crawl_seconds"] = (finished or started) - started
        finally:
            conn.close()
    return row


def bare(list_file: Path, work: Path, args) -> dict:
    feed = work / "bare.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    wall, cpu, status, tail = run(
        [sys.executable, "-m", "scrapy", "runspider", str(HERE / "bare_spider.py"), "-a", f"list={list_file}",
         "-s", f"CONCURRENT_REQUESTS={args.concurrency}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.per_host}",
         "-s", "RETRY_ENABLED=False", "-s", "HTTPERROR_ALLOW_ALL=True", "-s", "REDIRECT_ENABLED=False",
         "-O", str(feed)], work, args.timeout, env)  # outside the repo: its scrapy.cfg not picked up
    urls = sum(1 for line in feed.open() if line.strip()) if feed.exists() else 0
    elapsed = re.search(r"'elapsed_time_seconds': ([0-9.]+)", tail)  # Scrapy's stats dump: the crawl alone
    return {"contender": "bare", "seconds": wall, "cpu": cpu, "status": status, "stderr": tail[-2000:],
            "urls": urls, "crawl_seconds": float(elapsed.group(1)) if elapsed else wall}


CONTENDERS = {"ours": ours, "bare": bare}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=20_000)
    parser.add_argument("--hosts", type=int, default=4, help="at most 250 (127.0.0.2 ...)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="ours,bare")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds before a contender is killed")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    pages = -(-args.urls // args.hosts)
    rows = []
    with tempfile.TemporaryDirectory(prefix="list-bench-") as tmp:
        work = Path(tmp)
        servers = [PagegenServer(pages, host=f"127.0.0.{2 + h}") for h in range(args.hosts)]
        try:
            for server in servers:
                server.start()
            list_file = work / "urls.txt"
            write_list(list_file, [s.origin for s in servers], args.urls, pages)
            for round_ in range(1, args.rounds + 1):
                order = names[round_ - 1:] + names[:round_ - 1]  # each round starts with another contender
                for name in order:
                    row = CONTENDERS[name](list_file, work, args)
                    row["round"] = round_
                    rows.append(row)
                    for leftover in ("ours", "bare.jsonl"):
                        subprocess.run(["rm", "-rf", str(work / leftover)])
        finally:
            for server in servers:
                server.stop()
    print(f"list mode: {args.urls:,} URLs over {args.hosts} hosts (1 in {MISSING_EVERY} a 404), "
          f"concurrency {args.concurrency}, {args.per_host} per host")
    print(f"{'contender':<10}{'round':>6}{'URLs':>8}{'seconds':>9}{'crawl s':>9}{'URLs/s':>9}"
          f"{'wall URLs/s':>13}{'CPU s':>8}  status")
    for r in rows:
        rate = r.get("urls", 0) / r["crawl_seconds"] if r.get("crawl_seconds") else 0.0
        r["urls_per_s"] = rate
        print(f"{r['contender']:<10}{r['round']:>6}{r.get('urls', 0):>8}{r['seconds']:>9.1f}"
              f"{r.get('crawl_seconds', 0):>9.1f}{rate:>9.0f}{r.get('urls', 0) / r['seconds']:>13.0f}"
              f"{r['cpu']:>8.1f}  {r['status']}")
    rates = {name: sorted(r["urls_per_s"] for r in rows if r["contender"] == name) for name in names}
    if rates.get("ours") and rates.get("bare"):
        ours_rate, bare_rate = rates["ours"][len(rates["ours"]) // 2], rates["bare"][len(rates["bare"]) // 2]
        print(f"ours/bare URLs/s (crawl phase, median): {ours_rate / bare_rate:.2f}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    result = args.results_dir / f"list-{args.urls}-h{args.hosts}-c{args.concurrency}-{int(time.time())}.json"
    result.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=1))
    print(f"written: {result}")
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
