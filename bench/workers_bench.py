"""Shared-crawl benchmark: pages/s with 1, 2 and 4 worker processes on one machine, against a
site that answers each page after a realistic 50 ms. Prints a table.

    python bench/workers_bench.py [--pages 3000] [--delay 0.05] [--concurrency 8] [--workers 1,2,4]

"1 (no Redis)" is the ordinary single-process crawl, for reference; "N" is the coordinator
(`seo-audit crawl --redis`) plus N-1 `seo-audit worker` processes, all crawling. Each run gets a
fresh redis-server on a free loopback port (no persistence) and a fresh site. Wall time runs from
the first process's start to the coordinator's end (start-up and the end-of-crawl handshake
included); CPU is user+sys of all crawl processes; RSS is the largest one process reached.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.options import CrawlOptions  # noqa: E402
from crawler.runner import run_crawl  # noqa: E402
from seo_audit.sitekit import Reply, SiteServer  # noqa: E402

#: links per page to deeper pages (a wide tree keeps every worker's downloader full) ...
CHILDREN = 10
#: ... and to pages seen already elsewhere (the shared dupe filter's daily work)
CROSS_LINKS = 5


class LoopbackRedis:
    """A throwaway redis-server on 127.0.0.1, on a free port, without persistence."""

    def __init__(self):
        self.server = shutil.which("redis-server")
        if self.server is None:
            raise FileNotFoundError("redis-server is not installed (Debian: apt-get install redis-server)")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> "LoopbackRedis":
        self._proc = subprocess.Popen([self.server, "--bind", "127.0.0.1", "--port", str(self.port),
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:  # until it answers PING, for at most 10 s
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)


def site_routes(pages: int, delay: float) -> dict:
    def page(hit) -> Reply:
        n = int(hit.path.rsplit("/", 1)[1])
        targets = [c for c in range(CHILDREN * n + 1, CHILDREN * n + CHILDREN + 1) if c < pages]
        targets += [(n * 7 + k * 13) % pages for k in range(CROSS_LINKS)]
        links = "".join(f"<li><a href='/p/{t}'>page {t}</a></li>" for t in targets)
        body = (f"<html><head><title>Page {n}</title></head><body><h1>Page {n}</h1>"
                f"<p>{'Some text about this product. ' * 40}</p><ul>{links}</ul></body></html>")
        return Reply(200, body, delay=delay)

    return {"/": Reply(200, "<html><title>Home</title><a href='/p/0'>start</a></html>"),
            "/robots.txt": Reply(200, "User-agent: *\nAllow: /\n", "text/plain"),
            "/p/*": page}


def run(workers: int | None, pages: int, delay: float, concurrency: int) -> dict:
    """One crawl; ``workers`` None: the single-process crawl, without Redis."""
    with SiteServer(site_routes(pages, delay)) as site, tempfile.TemporaryDirectory() as tmp, \
            LoopbackRedis() as redis_server:
        store = Path(tmp) / "bench.sqlite"
        options = CrawlOptions(start_url=f"{site.url}/", store=store, concurrency=concurrency,
                               check_resources=False, log_level="ERROR",
                               redis_url=redis_server.url if workers else None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        helpers = [subprocess.Popen([sys.executable, "-m", "seo_audit", "worker", "--redis", redis_server.url,
                                     "--wait", "60"], cwd=REPO, stderr=subprocess.DEVNULL)
                   for _ in range((workers or 1) - 1)]
        result = run_crawl(options)
        wall = time.monotonic() - started
        for helper in helpers:
            helper.wait(60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with sqlite3.connect(store) as conn:
            (fetched,) = conn.execute("SELECT count(*) FROM pages WHERE crawl_id = ? AND status = 200",
                                      (result.crawl_id,)).fetchone()
            stats = json.loads(conn.execute("SELECT stats FROM crawls WHERE id = ?",
                                            (result.crawl_id,)).fetchone()[0])
        twice = sum(1 for n in site.hits.values() if n > 1)
    return {"workers": workers, "pages": fetched, "wall": wall, "rate": fetched / wall,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "rss_mb": after.ru_maxrss / 1024, "fetched_twice": twice, "state": result.state,
            "by_workers": stats.get("distributed/fetched-by-workers", 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds before each page answers")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per process")
    parser.add_argument("--workers", default="1,2,4", help="process counts to run (comma-separated)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the single-process crawl")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"{args.pages} pages, {args.delay * 1000:.0f} ms per page, concurrency {args.concurrency} "
          f"per process, {os.cpu_count()} CPUs")
    print(f"{'processes':<14} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'speed-up':>8} {'CPU s':>7} "
          f"{'RSS MB':>7} {'by workers':>10} {'fetched 2x':>10}")
    base_rate = None
    for workers in ([None] if not args.no_baseline else []) + counts:
        row = run(workers, args.pages, args.delay, args.concurrency)
        base_rate = base_rate or row["rate"]
        label = "1 (no Redis)" if workers is None else str(workers)
        print(f"{label:<14} {row['pages']:>6} {row['wall']:>7.1f} {row['rate']:>8.1f} "
              f"{row['rate'] / base_rate:>7.2f}x {row['cpu']:>7.1f} {row['rss_mb']:>7.0f} "
              f"{row['by_workers']:>10} {row['fetched_twice']:>10}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
