"""Scale benchmark (issue 6): crawl memory against the number of pages, and audit + report time and
memory on large stores.

    python bench/scale_bench.py [--sizes 20000,100000,1000000] [--only ours,bare] [--concurrency 16]
                                [--audit-sizes 100000,1000000] [--audit-baseline REV]
                                [--store-cache DIR] [--skip-crawl] [--skip-audit]

Crawls: for each size N, bench/pagegen_server.py serves an N-page site generated on the fly
(127.0.0.1, about 2 KB a page, so 1M pages need no disk) and each contender crawls it fully:

- ours: ``scrapy crawl site -a url=URL -a store=PATH -a max_pages=N+1000`` run from the repository
  root (where scrapy.cfg names our settings);
- bare: ``scrapy runspider bench/bare_spider.py`` from a temp dir (crawl_bench's Bare command).

Measured from outside, with crawl_bench's helpers: wall time, CPU seconds (user + sys, os.wait4),
peak RSS (wait4's ru_maxrss, and the sampled sum over the contender's processes), and a memory
curve: once a second, the summed RSS of the contender's processes and how many pages it has done
(ours: rows of the store's pages table, read-only; bare: lines of its JSON Lines feed).

Audit + report: a synthetic store of N URLs (crawler.store's insert functions; a realistic mix of
answers, noindex, canonicals and 10-40 links per HTML page), then ``python -m seo_audit report``
timed in a subprocess, which loads, audits and renders. ``--audit-baseline REV`` also runs it
with the packages (crawler, audit, reports, seo_audit, templates) of git revision REV, in the
same run, for a before/after comparison.

Results: one table per part on stdout, JSON in bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pandas as pd

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path[:0] = [BENCH, REPO]

import crawl_bench  # noqa: E402
from crawl_bench import RssSampler, clean_env, jsonl_rows, log, measure, tail  # noqa: E402
from crawler import store as crawl_store  # noqa: E402
from pagegen_server import PagegenServer  # noqa: E402
from report_bench import SITE, synthetic_pages  # noqa: E402

CONTENDERS = ("ours", "bare")
CURVE_POINTS = (0.10, 0.25, 0.50, 0.75, 1.00)
#: curve samples (one a second) between two progress lines in the log
PROGRESS_EVERY = 120
#: links on each HTML page of a synthetic store: uniform in [LINKS_MIN, LINKS_MAX]
LINKS_MIN, LINKS_MAX = 10, 40
#: of those, links to the same few category pages (the navigation every page repeats)
NAV_LINKS = 8
#: URLs a synthetic store makes and writes at a time
PAGES_PER_CHUNK = 500_000
ANCHORS = np.array(["Home", "Shoes", "Boots", "Sale", "Next", "Read more", "Shop now", "Kids",
                    "Women", "Men", "Trail running shoes", "Winter boots -50%", ""], dtype=object)


# ------------------------------------------------------------------------------ crawl part

class CurveSampler(RssSampler):
    """Once a second: seconds since start, pages done (``progress()``) and the summed RSS of the
    contender's session (RssSampler's scan of /proc)."""

    def __init__(self, sid: int, progress):
        super().__init__(sid, every=1.0)
        self.progress = progress
        self.started = time.monotonic()
        self.curve: list[tuple[float, int, float]] = []

    def sample(self) -> None:
        # RssSampler keeps only the running peak of the sum: zero it for one scan to read this
        # scan's sum, then put the peak back
        peak, self.peak_sum = self.peak_sum, 0
        super().sample()
        now, self.peak_sum = self.peak_sum, max(peak, self.peak_sum)
        self.curve.append((time.monotonic() - self.started, self.progress(), now / 2**20))
        if len(self.curve) % PROGRESS_EVERY == 0:  # long crawls: the curve so far, in the log
            seconds, done, rss = self.curve[-1]
            log(f"  {seconds:.0f} s: {done} pages done, {rss:.0f} MiB")


def sample_curve_of_running(progress, stop: threading.Event) -> CurveSampler | None:
    """A CurveSampler on the child crawl_bench.measure() is running (it publishes its pid in
    crawl_bench._current), started as soon as the child exists."""
    deadline = time.monotonic() + 60
    while not stop.is_set() and time.monotonic() < deadline:
        pid = crawl_bench._current.get("pid")
        if pid:
            sampler = CurveSampler(pid, progress)
            sampler.start()
            return sampler
        time.sleep(0.02)
    return None


def store_pages_done(path: str):
    """progress() of ours: rows of the store's pages table (one crawl per store here)."""
    def count() -> int:
        if not os.path.exists(path):
            return 0
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
            try:
                return conn.execute("SELECT count(*) FROM pages").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error:  # created but no schema yet
            return 0
    return count


def feed_lines_done(path: str):
    """progress() of bare: lines of its JSON Lines feed, read incrementally."""
    state = {"offset": 0, "lines": 0}

    def count() -> int:
        try:
            with open(path, "rb") as feed:
                feed.seek(state["offset"])
                chunk = feed.read()
        except OSError:
            return state["lines"]
        complete = chunk.rfind(b"\n") + 1  # a line being written is counted next time
        state["offset"] += complete
        state["lines"] += chunk.count(b"\n", 0, complete)
        return state["lines"]
    return count


def ours_run(origin: str, rundir: str, concurrency: int, n: int):
    store = os.path.join(rundir, "ours.sqlite")
    cmd = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"url={origin}/",
           "-a", f"store={store}", "-a", f"max_pages={n + 1000}",
           "-s", f"CONCURRENT_REQUESTS={concurrency}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
           "-s", "LOG_LEVEL=WARNING"]
    env = clean_env()
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")

    def pages() -> int:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM pages WHERE fetch_kind = 'page' AND status = 200 "
                                "AND substr(url, 1, ?) = ?", (len(origin), origin)).fetchone()[0]
        finally:
            conn.close()
    return cmd, REPO, env, store_pages_done(store), pages


def bare_run(origin: str, rundir: str, concurrency: int, n: int):
    cmd, env = crawl_bench.Bare().command(origin + "/", rundir, concurrency, n)
    feed = os.path.join(rundir, "bare.jsonl")

    def pages() -> int:
        return len({url for url, status in jsonl_rows(feed) if url.startswith(origin)
                    and status is not None and 200 <= int(status) < 300})
    return cmd, rundir, env, feed_lines_done(feed), pages


RUNS = {"ours": ours_run, "bare": bare_run}


def curve_at(curve: list[tuple[float, int, float]], n: int) -> dict[str, float | None]:
    """RSS (MiB) at the first sample where pages done reached each share of N, and the peak."""
    points = {}
    for share in CURVE_POINTS:
        hit = next((rss for _, done, rss in curve if done >= share * n), None)
        points[f"{share:.0%}"] = hit
    points["peak sampled"] = max((rss for *_, rss in curve), default=None)
    return points


def crawl_size(n: int, only: list[str], concurrency: int, timeout: float, work: str) -> list[dict]:
    runs = []
    with PagegenServer(n) as server:
        log(f"pagegen server: {n} pages at {server.origin}")
        for name in only:
            rundir = tempfile.mkdtemp(prefix=f"{name}-{n}-", dir=work)
            cmd, cwd, env, progress, pages = RUNS[name](server.origin, rundir, concurrency, n)
            log(f"{name} crawls {n} pages ...")
            stop = threading.Event()
            holder: dict = {}
            starter = threading.Thread(target=lambda: holder.update(
                sampler=sample_curve_of_running(progress, stop)), daemon=True)
            starter.start()
            try:
                result = measure(cmd, cwd, env, timeout, os.path.join(rundir, name))
            finally:
                stop.set()
                starter.join(timeout=5)
                sampler = holder.get("sampler")
                if sampler:
                    sampler.stop()
            curve = sampler.curve if sampler else []
            done = pages()
            status = ("timeout" if result["timed_out"] else "failed" if result["exit"] != 0 or not done
                      else "ok" if done == n else "partial")
            run = {"contender": name, "size": n, "concurrency": concurrency, "pages": done,
                   "status": status, **result, "pages_per_s": done / result["wall_s"],
                   "cpu_ms_per_page": 1000 * result["cpu_s"] / done if done else None,
                   "rss_at": curve_at(curve, n), "curve": curve, "cmd": cmd, "cwd": cwd}
            if status != "ok":
                run["stderr_tail"] = tail(os.path.join(rundir, name) + ".stderr", 2000)
            log(f"{name} {n}: {done} pages, {result['wall_s']:.0f} s, {run['pages_per_s']:.0f} pages/s, "
                f"CPU {result['cpu_s']:.0f} s, peak RSS {result['peak_rss_mb']:.0f} MiB [{status}]")
            runs.append(run)
            shutil.rmtree(rundir, ignore_errors=True)
    return runs


def crawl_table(runs: list[dict]) -> str:
    head = (f"{'contender':<9} {'size':>8} {'pages':>8} {'wall s':>7} {'pages/s':>7} {'CPU s':>7} "
            f"{'CPU ms/pg':>9} {'peak RSS':>8} {'tree RSS':>8}  status")
    lines = [head, "-" * len(head)]
    for r in runs:
        lines.append(f"{r['contender']:<9} {r['size']:>8} {r['pages']:>8} {r['wall_s']:>7.0f} "
                     f"{r['pages_per_s']:>7.0f} {r['cpu_s']:>7.0f} {r['cpu_ms_per_page'] or 0:>9.2f} "
                     f"{r['peak_rss_mb']:>8.0f} {r['tree_peak_rss_mb']:>8.0f}  {r['status']}")
    by = {(r["contender"], r["size"]): r for r in runs}
    for size in sorted({r["size"] for r in runs}):
        ours, bare = by.get(("ours", size)), by.get(("bare", size))
        if ours and bare and bare["pages_per_s"] and bare["cpu_ms_per_page"] and ours["cpu_ms_per_page"]:
            lines.append(f"ours/bare at {size}: pages/s {ours['pages_per_s'] / bare['pages_per_s']:.2f}x, "
                         f"CPU per page {ours['cpu_ms_per_page'] / bare['cpu_ms_per_page']:.2f}x, "
                         f"peak RSS {ours['peak_rss_mb'] / bare['peak_rss_mb']:.2f}x")
    lines += ["", "memory curve: summed RSS (MiB) when pages done first reached a share of N",
              f"{'contender':<9} {'size':>8} " + " ".join(f"{k:>8}" for k in runs[0]["rss_at"])]
    for r in runs:
        lines.append(f"{r['contender']:<9} {r['size']:>8} " + " ".join(
            f"{v:>8.0f}" if v is not None else f"{'-':>8}" for v in r["rss_at"].values()))
    lines.append("(pages done: ours counts every stored row, robots.txt and the 404 probe included; "
                 "bare counts feed lines)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ audit part

def _nullable(values) -> list:
    """Values for SQLite: pandas' and numpy's missing markers (NA, NaN) as None."""
    return [None if v is pd.NA or (isinstance(v, float) and v != v) else v for v in values]


def write_synthetic_store(path: str, n: int, seed: int = 1) -> dict:
    """A store holding one complete crawl of ``n`` URLs: report_bench's mix of answers (200 HTML,
    images, 301, 404, 500, 202, timeouts, robots-blocked), plus 2% noindex, 3% canonicalised
    to another URL, 10% duplicate titles, 5% duplicate descriptions, 5% duplicate content, and
    10-40 links per HTML page (8 of them navigation, 2% nofollow). Pages are made and written
    PAGES_PER_CHUNK at a time, so 10M URLs fit in a few GB."""
    rng = np.random.default_rng(seed)
    conn = crawl_store.connect(path)
    try:
        crawl_id = crawl_store.new_crawl(conn, f"{SITE}/", {"max_pages": n, "concurrency": 16}, job="scale-bench")
        url_parts, html_parts, redirect_links = [], [], []
        for first in range(0, n, PAGES_PER_CHUNK):
            urls, html_ok, redirects = _write_synthetic_pages(conn, crawl_id, first,
                                                              min(PAGES_PER_CHUNK, n - first), n, rng)
            url_parts.append(urls)
            html_parts.append(html_ok)
            redirect_links.extend(redirects)
        urls, html_ok = np.concatenate(url_parts), np.concatenate(html_parts)
        del url_parts, html_parts
        links = 0
        for chunk in np.array_split(np.flatnonzero(html_ok), max(1, n // 50_000)):
            rows = list(_synthetic_links(urls, chunk, rng))
            crawl_store.insert_links(conn, crawl_id, rows)
            links += len(rows)
        # in the order and with the random draws of the stores these benches always made
        crawl_store.insert_links(conn, crawl_id, redirect_links)
        crawl_store.insert_sitemap_urls(conn, crawl_id, ((f"{SITE}/sitemap.xml", u, None)
                                                         for u in urls[html_ok & (rng.random(n) < 0.85)]))
        conn.commit()
        crawl_store.finish_crawl(conn, crawl_id, "complete")
    finally:
        conn.close()
    return {"urls": n, "links": links + len(redirect_links), "bytes": os.path.getsize(path)}


def _write_synthetic_pages(conn: sqlite3.Connection, crawl_id: int, first: int, count: int, n: int,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """URLs first..first+count-1 of an n-URL synthetic store, with their 202 rechecks: (their
    URLs, which are HTML pages answering 200, their redirect links)."""
    pages = synthetic_pages(count, rng, first)
    urls = pages["url"].to_numpy()
    numbers = np.arange(first, first + count)
    html_ok = (pages["is_html"] & pages["status"].eq(200).fillna(False)).to_numpy()
    pages["canonical"] = np.where(html_ok, urls, None)
    canonicalised = html_ok & (rng.random(count) < 0.03)
    pages.loc[canonicalised, "canonical"] = urls[rng.integers(0, count, int(canonicalised.sum()))]
    pages["canonical_count"] = pd.array(np.where(html_ok, 1, 0), dtype="Int64")
    # report_bench gives nearly every page the same description and titles of 4 words out of 21:
    # here most are unique and a realistic share repeats (templates), 10% titles, 5% descriptions
    numbered = pages["title"].astype(object) + [f" #{i}" for i in numbers]
    pages["title"] = np.where(rng.random(count) < 0.10, pages["title"], numbered)
    pages["meta_description"] = np.where(pages["meta_description"].isna() | (rng.random(count) < 0.05),
                                         pages["meta_description"], "About " + numbered)
    pages["meta_robots"] = np.where(html_ok & (rng.random(count) < 0.02), "noindex, follow", None)
    pages["content_hash"] = np.where(html_ok, [f"h{i % (n // 50 + 1) if i % 20 == 0 else i}" for i in numbers],
                                     None)
    pages["retry_after"] = np.where(pages["status"].eq(202).fillna(False), "2", None)
    columns = [_nullable(pages[c].tolist()) if c not in crawl_store.PAGE_JSON_COLUMNS else
               [json.dumps(v) if v is not None else None for v in pages[c].tolist()]
               for c in crawl_store.PAGE_COLUMNS]
    crawl_store.insert_pages(conn, crawl_id, zip(*columns))
    redirects = pages["status"].eq(301).fillna(False).to_numpy()
    accepted = pages["status"].eq(202).fillna(False).to_numpy()
    crawl_store.insert_rechecks(conn, crawl_id, ((u, 1, 2.0, 200, None, None, 1_790_000_100.0)
                                                 for u in urls[accepted]))
    conn.commit()
    return urls, html_ok, [(u, target, "redirect", None, 0)
                           for u, target in zip(urls[redirects], pages["redirect_target"].to_numpy()[redirects])]


def _synthetic_links(urls: np.ndarray, sources: np.ndarray, rng: np.random.Generator):
    """(source, target, kind, anchor, nofollow) rows of the HTML pages ``sources``."""
    counts = rng.integers(LINKS_MIN, LINKS_MAX + 1, len(sources))
    total = int(counts.sum())
    source = np.repeat(sources, counts)
    position = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    # navigation first (the same few category URLs on every page), then content links spread
    # over the site, half of them near the page itself (siblings in a listing)
    spread = rng.integers(0, len(urls), total)
    near = np.clip(source + rng.integers(-50, 51, total), 0, len(urls) - 1)
    target = np.where(position < NAV_LINKS, 1 + position, np.where(rng.random(total) < 0.5, near, spread))
    anchors = ANCHORS[rng.integers(0, len(ANCHORS), total)]
    nofollow = (rng.random(total) < 0.02).astype(int)
    yield from zip(urls[source].tolist(), urls[target].tolist(), ["a"] * total, anchors.tolist(),
                   nofollow.tolist())


def audit_size(n: int, work: str, timeout: float, variants: dict[str, str], cache: str | None = None) -> list[dict]:
    """Time ``python -m seo_audit report`` on a synthetic store of n URLs, once per variant
    (label -> directory holding the packages to import). ``cache``: a folder keeping the store
    between runs (1M URLs take minutes to write), with its facts beside it."""
    store = os.path.join(cache or work, f"synthetic-{n}.sqlite")
    kept = store + ".json"
    if cache and os.path.exists(kept):
        with open(kept) as fh:
            facts = json.load(fh)
        log(f"synthetic store: {facts['urls']} URLs, {facts['links']} links, kept in {store}")
    else:
        started = time.perf_counter()
        facts = write_synthetic_store(store, n)
        log(f"synthetic store: {facts['urls']} URLs, {facts['links']} links, "
            f"{facts['bytes'] / 2**20:.0f} MiB, written in {time.perf_counter() - started:.0f} s")
        if cache:
            with open(kept, "w") as fh:
                json.dump(facts, fh)
    runs = []
    for label, audit_root in variants.items():
        out = tempfile.mkdtemp(prefix=f"report-{n}-{label}-", dir=work)
        env = clean_env()
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([audit_root, REPO]))
        cmd = [sys.executable, "-m", "seo_audit", "report", "--store", store, "--out", out, "--quiet"]
        log(f"report of {n} URLs with the code of {label} ...")
        # cwd outside the repository, so that PYTHONPATH decides which audit package is imported
        result = measure(cmd, work, env, timeout, os.path.join(out, "report"))
        ok = result["exit"] in (0, 1) and not result["timed_out"] and os.path.exists(os.path.join(out, "report.html"))
        runs.append({"size": n, "links": facts["links"], "audit": label, **result,
                     "status": "ok" if ok else "timeout" if result["timed_out"] else "failed",
                     **({} if ok else {"stderr_tail": tail(os.path.join(out, "report.stderr"), 2000)})})
        log(f"report {n} ({label}): {result['wall_s']:.0f} s, CPU {result['cpu_s']:.0f} s, "
            f"peak RSS {result['peak_rss_mb']:.0f} MiB [{runs[-1]['status']}]")
        shutil.rmtree(out, ignore_errors=True)
    if not cache:
        os.remove(store)
    return runs


def audit_table(runs: list[dict]) -> str:
    head = (f"{'URLs':>8} {'links':>9} {'audit':<14} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>12} "
            f"{'peak PSS MiB':>12}  status")
    lines = [head, "-" * len(head)]
    for r in runs:
        lines.append(f"{r['size']:>8} {r['links']:>9} {r['audit']:<14} {r['wall_s']:>7.0f} {r['cpu_s']:>7.0f} "
                     f"{r['peak_rss_mb']:>12.0f} {r['tree_peak_pss_mb']:>12.0f}  {r['status']}")
    lines.append("(python -m seo_audit report: load + audit + HTML, CSV, XLSX and JSON outputs; "
                 "targets: 1M URLs / 20M links within 60 s and 1536 MiB, 10M / 200M within 15 min and "
                 "the memory budget (2048 MiB by default). Peak RSS: the largest process; "
                 "peak PSS: all processes together)")
    return "\n".join(lines)


def audit_of_revision(rev: str, work: str) -> str:
    """A directory holding the product's packages as they were at git revision ``rev``."""
    root = tempfile.mkdtemp(prefix=f"code-{rev[:12]}-", dir=work)
    archive = subprocess.run(["git", "-C", REPO, "archive", rev, "crawler", "audit", "reports", "seo_audit",
                              "templates"], capture_output=True, check=True, timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", root], input=archive, check=True, timeout=60)
    return root


# ------------------------------------------------------------------------------ main

def sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=sizes, default=[20_000, 100_000, 1_000_000], help="crawl sizes")
    parser.add_argument("--only", default="ours,bare", help="comma list of ours,bare")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--audit-sizes", type=sizes, default=[100_000, 1_000_000],
                        help="synthetic store sizes in URLs (20 links each): 100000,1000000,10000000")
    parser.add_argument("--audit-baseline", metavar="REV",
                        help="also run the report with the code of this git revision")
    parser.add_argument("--store-cache", metavar="DIR",
                        help="keep the synthetic stores in DIR and reuse them (remove DIR when write_synthetic_store changes)")
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--skip-audit", action="store_true")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds before a run is killed")
    parser.add_argument("--workdir", help="default: a new temp dir, removed at the end")
    parser.add_argument("--results-dir", default=os.path.join(BENCH, "results"))
    args = parser.parse_args(argv)
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    if unknown := set(only) - set(CONTENDERS):
        parser.error(f"unknown contender(s): {', '.join(sorted(unknown))}")

    def on_signal(signum, frame):  # through the finally blocks: the child and the server stopped
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)

    work = args.workdir or tempfile.mkdtemp(prefix="scale-bench-")
    os.makedirs(work, exist_ok=True)
    started = dt.datetime.now().isoformat(timespec="seconds")
    crawl_runs: list[dict] = []
    audit_runs: list[dict] = []
    try:
        if not args.skip_crawl:
            for n in args.sizes:
                crawl_runs += crawl_size(n, only, args.concurrency, args.timeout, work)
        if not args.skip_audit:
            variants = {"working tree": REPO}
            if args.audit_baseline:
                variants = {args.audit_baseline: audit_of_revision(args.audit_baseline, work), **variants}
            for n in args.audit_sizes:
                audit_runs += audit_size(n, work, args.timeout, variants, args.store_cache)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nScale bench: {os.cpu_count()} CPUs, 1-min load average now {os.getloadavg()[0]:.1f} "
          "(other benchmarks may share the machine: CPU s is the steadier figure)")
    if crawl_runs:
        print(f"\nCrawls (concurrency {args.concurrency}, pagegen server on loopback; RSS in MiB)")
        print(crawl_table(crawl_runs))
    if audit_runs:
        print("\nAudit + report of synthetic stores")
        print(audit_table(audit_runs))
    os.makedirs(args.results_dir, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(args.results_dir, f"scale-{stamp}.json")
    with open(path, "w") as fh:
        json.dump({"started": started, "params": {k: v for k, v in vars(args).items()},
                   "env": crawl_bench.env_info(), "crawls": crawl_runs, "audits": audit_runs},
                  fh, indent=1, default=str)
    print(f"\nresults: {path}")
    return 0 if all(r["status"] == "ok" for r in crawl_runs + audit_runs) else 1


if __name__ == "__main__":
    sys.exit(main())
