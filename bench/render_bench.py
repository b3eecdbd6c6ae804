"""Rendering benchmark: `seo-audit crawl --render off|all|auto` on one generated site, one table.

    flock /tmp/bench.lock python bench/render_bench.py [--pages 2500] [--templates 20]
        [--js-share 0.1] [--concurrency 8] [--render-concurrency 4] [--only off,all,auto]

The site (static files served by Debian's nginx on loopback): ``--templates`` page templates,
each under its own first path segment (/t03/p123.html), pages linking onwards breadth-first; a
``--js-share`` of the templates load /static/app.js, which sets the title, adds text and a link.
Each mode runs ``seo-audit crawl`` in its own process, one after the other, in one run. Measured
from outside, every 0.5 s: the memory (PSS: shared pages counted once) of the crawl and all its
descendants (Playwright's driver and Chromium included), the CPU seconds of each of those
processes (by kind: python, node, browser, renderer, gpu-process, utility), and the pages
recorded in the store. Printed: pages/s, rendered pages, rendered pages/s, peak memory, how much
the last 1,000 pages added (memory flat: < 50 MB); then per mode the CPU seconds by process
kind and a timeline: when half, nine tenths and all of the raw fetches were done, and half and
nine tenths of the renders (a page is stored with its render, so stored counts lag fetches).
Targets (issue 14): auto >= 0.5x the speed of off; all >= 10 rendered pages/s on 2 cores;
memory flat.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

from nginx_server import NginxServer, find_nginx  # noqa: E402

APP_JS = """document.title = document.title + ' (rendered)';
const p = document.createElement('p');
p.textContent = 'Rendered text '.repeat(40);
document.querySelector('main').appendChild(p);
const a = document.createElement('a');
a.href = location.pathname.replace('.html', '-js.html');
a.textContent = 'rendered link';
document.querySelector('main').appendChild(a);
"""


def js_templates(templates: int, share: float) -> set[int]:
    return set(range(max(1, round(templates * share)))) if share > 0 else set()


def generate(root: str, pages: int, templates: int, share: float) -> None:
    """``pages`` pages over ``templates`` templates; page i links to pages 10i+1..10i+10."""
    js = js_templates(templates, share)
    os.makedirs(os.path.join(root, "static"), exist_ok=True)
    with open(os.path.join(root, "static", "app.js"), "w") as fh:
        fh.write(APP_JS)
    with open(os.path.join(root, "robots.txt"), "w") as fh:
        fh.write("User-agent: *\nAllow: /\n")

    def path(i: int) -> str:
        return "/index.html" if i == 0 else f"/t{i % templates:02d}/p{i}.html"

    for i in range(pages):
        template = i % templates
        links = "".join(f"<li><a href='{path(j)}'>Page {j}</a></li>" for j in range(10 * i + 1, min(10 * i + 11, pages)))
        script = "<script src='/static/app.js'></script>" if template in js and i else ""
        body = (f"<!doctype html><html><head><meta charset='utf-8'><title>Page {i} of template {template}</title>"
                f"<meta name='description' content='Page {i}'></head><body><main><h1>Page {i}</h1>"
                f"<p>{'Static words of this page. ' * 30}</p><ul>{links}</ul></main>{script}</body></html>")
        target = os.path.join(root, path(i).lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as fh:
            fh.write(body)
        if template in js and i:  # the page its script links to
            with open(target.replace(".html", "-js.html"), "w") as fh:
                fh.write(f"<!doctype html><html><head><title>JS link of {i}</title></head><body><main>"
                         f"<p>Reached through a rendered link.</p></main></body></html>")


def _pss(pid: int) -> int:
    """Proportional set size of ``pid`` in bytes: shared pages (Chromium's processes share many)
    counted once across the processes that share them, where RSS would count them in each."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc): the crawl, Playwright's driver and every
    Chromium process."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    found, stack = [], [pid]
    while stack:
        here = stack.pop()
        found.append(here)
        stack.extend(children.get(here, ()))
    return found


def process_kind(pid: int, crawl: int) -> str:
    """What a process of the crawl's tree is: the crawl (python), Playwright's driver (node), or
    a Chromium process by its --type (browser, renderer, gpu-process, utility, zygote)."""
    if pid == crawl:
        return "python"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            # Chromium's children rewrite theirs: one string, arguments joined by spaces
            cmdline = fh.read().replace(b"\0", b" ")
    except OSError:
        return "gone"
    if b"run-driver" in cmdline or cmdline.split(b" ", 1)[0].endswith(b"node"):
        return "node"
    kind = re.search(rb"--type=([\w-]+)", cmdline)
    return kind.group(1).decode() if kind else "browser"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            utime, stime = fh.read().rsplit(")", 1)[1].split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def recorded(store: str) -> tuple[int, int]:
    """(pages recorded, pages rendered) in the store so far."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute("SELECT count(*), count(render_outcome) FROM pages WHERE status IS NOT NULL").fetchone()
        finally:
            conn.close()
        return int(row[0]), int(row[1])
    except sqlite3.Error:
        return 0, 0


def run_mode(mode: str, url: str, work: str, args) -> dict:
    store = os.path.join(work, f"{mode}.sqlite")
    cmd = [sys.executable, "-m", "seo_audit", "crawl", url, "--store", store, "--out", os.path.join(work, mode),
           "--no-report", "-q", "--render", mode, "--concurrency", str(args.concurrency),
           "--render-concurrency", str(args.render_concurrency), "--max-pages", str(args.pages * 3),
           "--no-resources"]
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []  # (unix time, pages, rendered, pss)
    cpu: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU seconds at its last sample)
    busy = []  # (unix time, pages, rendered, the crawl's CPU seconds, all its processes' CPU seconds)
    while proc.poll() is None:
        tree = descendants(proc.pid)
        for pid in tree:
            kind = cpu[pid][0] if pid in cpu else process_kind(pid, proc.pid)
            cpu[pid] = (kind, max(cpu_seconds(pid), cpu[pid][1] if pid in cpu else 0.0))
        samples.append((time.time(), *recorded(store), sum(map(_pss, tree))))
        busy.append((round(samples[-1][0], 2), samples[-1][1], samples[-1][2],
                     round(cpu[proc.pid][1], 2), round(sum(c for _, c in cpu.values()), 2)))
        time.sleep(0.5)
    out, err = proc.communicate()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{mode}: exit {proc.returncode}\n{err[-3000:]}")
    conn = sqlite3.connect(store)
    started_at, finished_at = conn.execute("SELECT started_at, finished_at FROM crawls ORDER BY id DESC").fetchone()
    fetched = [t for (t,) in conn.execute("SELECT fetched_at FROM pages WHERE fetched_at IS NOT NULL ORDER BY 1")]
    pages, rendered = conn.execute("SELECT count(*), count(render_outcome) FROM pages WHERE status IS NOT NULL").fetchone()
    reasons = dict(conn.execute("SELECT render_reason, count(*) FROM pages WHERE render_reason IS NOT NULL GROUP BY 1"))
    conn.close()
    crawl_s = finished_at - started_at
    peak = max(s[3] for s in samples) if samples else 0
    # memory flat: memory once the last 1,000 pages (rendered ones, when rendering) began, against the peak after
    counted = 2 if rendered else 1
    total = rendered if rendered else pages
    before = [s[3] for s in samples if s[counted] <= total - 1000]
    last_1000 = (peak - max(before)) if before and total > 1000 else None
    by_kind: dict[str, float] = {}
    for kind, seconds in cpu.values():
        by_kind[kind] = round(by_kind.get(kind, 0.0) + seconds, 1)
    # when the raw crawl's last response came, and when renders were done (pages committed with them)
    timeline = {f"raw_{int(share * 100)}pct_s": round(fetched[int(share * (len(fetched) - 1))] - started_at, 1)
                for share in (0.5, 0.9, 1.0) if fetched}
    if rendered:
        for share in (0.5, 0.9):
            at = next((s[0] for s in samples if s[2] >= share * rendered), None)
            timeline[f"rendered_{int(share * 100)}pct_s"] = round(at - started_at, 1) if at is not None else None
    return {"mode": mode, "pages": pages, "rendered": rendered, "reasons": reasons, "seconds": round(crawl_s, 1),
            "pages_per_s": round(pages / crawl_s, 1), "rendered_per_s": round(rendered / crawl_s, 1) if rendered else 0,
            "peak_pss_mb": round(peak / 2**20), "last_1000_mb": None if last_1000 is None else round(last_1000 / 2**20, 1),
            "cpu_s": by_kind, "timeline": timeline,
            "samples": [(round(t - started_at, 1), *rest) for t, *rest in busy]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2500)
    parser.add_argument("--templates", type=int, default=20)
    parser.add_argument("--js-share", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--render-concurrency", type=int, default=4)
    parser.add_argument("--only", default="off,all,auto")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if not find_nginx():
        print("needs Debian's nginx: apt-get install -y nginx-light", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="render-bench-") as work:
        root = os.path.join(work, "site")
        generate(root, args.pages, args.templates, args.js_share)
        with NginxServer(root, os.path.join(work, "nginx")) as server:
            url = server.origin + "/index.html"
            results = [run_mode(mode, url, work, args) for mode in args.only.split(",")]
    by_mode = {r["mode"]: r for r in results}
    print(f"\nsite: {args.pages} pages, {args.templates} templates, {len(js_templates(args.templates, args.js_share))} "
          f"with JavaScript; concurrency {args.concurrency}, render concurrency {args.render_concurrency}; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n")
    print("| mode | pages | rendered | crawl s | pages/s | vs off | rendered/s | peak PSS MB (all processes) | last 1,000 pages add MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    off = by_mode.get("off")
    for r in results:
        ratio = f"{r['pages_per_s'] / off['pages_per_s']:.2f}x" if off else "-"
        print(f"| {r['mode']} | {r['pages']:,} | {r['rendered']:,} | {r['seconds']} | {r['pages_per_s']} | {ratio} | "
              f"{r['rendered_per_s']} | {r['peak_pss_mb']:,} | {r['last_1000_mb'] if r['last_1000_mb'] is not None else '-'} |")
    for r in results:
        if r["reasons"]:
            print(f"\n{r['mode']}: rendered by reason {r['reasons']}")
    for r in results:
        cpu = ", ".join(f"{kind} {seconds}" for kind, seconds in sorted(r["cpu_s"].items(), key=lambda kv: -kv[1]))
        per_render = (f"; {1000 * (sum(r['cpu_s'].values()) - r['cpu_s'].get('python', 0)) / r['rendered']:.0f} ms "
                      f"outside python a render" if r["rendered"] else "")
        print(f"\n{r['mode']}: CPU s by process {cpu} (total {sum(r['cpu_s'].values()):.1f}{per_render}); "
              f"timeline {r['timeline']}, crawl {r['seconds']} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "results": results}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
